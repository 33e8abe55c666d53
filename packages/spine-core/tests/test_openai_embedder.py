"""OpenAIEmbedder: spinekit's constructor, batching, bounded retries, no key in any message.

Most tests inject a minimal SDK stand-in (an object with `embeddings.create`); the last ones
drive the real `openai.AsyncOpenAI` against a tiny HTTP server on 127.0.0.1 that answers the
embeddings endpoint, to prove the real client path.
"""

from __future__ import annotations

import base64
import json
import struct
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import pytest

from spine_core import (
    BackendUnavailable,
    ConfigError,
    InMemoryVectorMemory,
    InvalidInput,
    OpenAIEmbedder,
)

SECRET = "sk-test-0123456789-very-secret"


def _vector(text: str) -> list[float]:
    # Exactly representable in float32, so the base64 path round-trips exactly.
    return [float(len(text)), 0.5, 1.0 if "apple" in text else -1.0]


class StandIn:
    """The SDK surface OpenAIEmbedder uses: `client.embeddings.create(model=, input=)`."""

    def __init__(self, failures: list[Exception] | None = None, *, reverse: bool = False) -> None:
        self.calls: list[dict[str, Any]] = []
        self.failures = failures or []
        self.reverse = reverse
        self.embeddings = self

    async def create(self, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        if self.failures:
            raise self.failures.pop(0)
        texts = [kwargs["input"]] if isinstance(kwargs["input"], str) else kwargs["input"]
        data = [SimpleNamespace(index=i, embedding=_vector(t)) for i, t in enumerate(texts)]
        return SimpleNamespace(data=data[::-1] if self.reverse else data)


async def test_spinekits_injected_client_shape_works() -> None:
    class Embeddings:
        async def create(self, *, model, input):  # type: ignore[no-untyped-def]
            return SimpleNamespace(data=[SimpleNamespace(embedding=[0.1, 0.2, 0.3])])

    embedder = OpenAIEmbedder(client=SimpleNamespace(embeddings=Embeddings()))
    assert await embedder.embed("hi") == [0.1, 0.2, 0.3]
    assert embedder.dim == 1536
    assert embedder.name == "openai/text-embedding-3-small"


async def test_embed_many_batches_in_order() -> None:
    client = StandIn(reverse=True)  # the API tags each vector with its index: order by it
    embedder = OpenAIEmbedder("m", client=client, batch_size=2)
    texts = ["a", "bb", "ccc", "dddd", "eeeee"]
    assert await embedder.embed_many(texts) == [_vector(t) for t in texts]
    assert [c["input"] for c in client.calls] == [["a", "bb"], ["ccc", "dddd"], ["eeeee"]]
    assert all("dimensions" not in c for c in client.calls)
    assert embedder.dim is None  # an unknown model: stores learn it from the first vector


async def test_dim_asks_for_shorter_vectors() -> None:
    client = StandIn()
    embedder = OpenAIEmbedder("text-embedding-3-large", client=client, dim=3)
    await embedder.embed("x")
    assert client.calls[0]["dimensions"] == 3
    assert embedder.dim == 3
    assert embedder.name == "openai/text-embedding-3-large@3"


async def test_stores_use_the_batch_path() -> None:
    client = StandIn()
    memory = InMemoryVectorMemory(embedder=OpenAIEmbedder("m", client=client))
    await memory.save_many(["apple pie", "car repair", "apple tart"])
    assert len(client.calls) == 1
    hits = await memory.search("apple", k=3)
    assert {h.record.content for h in hits[:2]} == {"apple pie", "apple tart"}
    assert memory.dim == 3


async def test_transient_failures_are_retried_then_backend_unavailable() -> None:
    client = StandIn([ConnectionError(f"reset while sending {SECRET}")])
    embedder = OpenAIEmbedder("m", client=client, api_key=SECRET, retries=2)
    assert await embedder.embed("ok") == _vector("ok")  # one failure, then success
    client.failures = [ConnectionError(f"down {SECRET}") for _ in range(2)]
    with pytest.raises(BackendUnavailable, match="after 2 attempts") as caught:
        await embedder.embed("again")
    assert SECRET not in str(caught.value)


async def test_refused_key_is_a_config_error_without_the_key() -> None:
    class AuthenticationError(Exception):
        status_code = 401

    client = StandIn([AuthenticationError(f"Incorrect API key provided: {SECRET}")])
    embedder = OpenAIEmbedder("m", client=client, api_key=SECRET)
    with pytest.raises(ConfigError, match="refused the API key") as caught:
        await embedder.embed("x")
    assert SECRET not in str(caught.value)
    assert SECRET not in repr(embedder)
    assert len(client.calls) == 1  # not retried


def test_missing_openai_package_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "openai", None)
    with pytest.raises(ConfigError, match=r'pip install "spine-backends\[openai\]"'):
        OpenAIEmbedder(api_key=SECRET)._ensure_client()


@pytest.mark.parametrize(
    "kwargs",
    [{"model": ""}, {"dim": 0}, {"dim": True}, {"batch_size": 0}, {"timeout": 0}],
)
def test_bad_options(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        OpenAIEmbedder(**kwargs)


async def test_bad_input() -> None:
    embedder = OpenAIEmbedder("m", client=StandIn())
    with pytest.raises(InvalidInput):
        await embedder.embed_many("one string")  # type: ignore[arg-type]


# -- the real SDK against a local HTTP server ---------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    seen: list[dict[str, Any]]
    status = 200

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.seen.append({"path": self.path, "auth": self.headers["Authorization"], **body})
        if self.status != 200:
            self._send(self.status, {"error": {"message": f"nope {SECRET}", "type": "x"}})
            return
        texts = [body["input"]] if isinstance(body["input"], str) else body["input"]
        data = []
        for i, text in enumerate(texts):
            vector: Any = _vector(text)
            if body.get("encoding_format") == "base64":
                vector = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
            data.append({"object": "embedding", "index": i, "embedding": vector})
        usage = {"prompt_tokens": 1, "total_tokens": 1}
        self._send(200, {"object": "list", "data": data, "model": body["model"], "usage": usage})

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        raw = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, type[_Handler]]]:
    handler = type("Handler", (_Handler,), {"seen": [], "status": 200})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", handler
    finally:
        httpd.shutdown()
        httpd.server_close()


async def test_real_client_against_a_local_server(server: tuple[str, type[_Handler]]) -> None:
    pytest.importorskip("openai")
    url, handler = server
    embedder = OpenAIEmbedder("local-model", api_key=SECRET, base_url=url, timeout=10)
    assert await embedder.embed("apple") == _vector("apple")
    assert await embedder.embed_many(["a", "apple pie"]) == [_vector("a"), _vector("apple pie")]
    assert [s["input"] for s in handler.seen] == ["apple", ["a", "apple pie"]]
    assert {s["path"] for s in handler.seen} == {"/v1/embeddings"}
    assert {s["auth"] for s in handler.seen} == {f"Bearer {SECRET}"}
    memory = InMemoryVectorMemory(embedder=embedder)
    await memory.save("apple pie")
    await memory.save("car repair")
    assert (await memory.search("apple", k=1))[0].record.content == "apple pie"


@pytest.mark.parametrize(("status", "error"), [(401, ConfigError), (500, BackendUnavailable)])
async def test_real_client_errors_are_mapped(
    server: tuple[str, type[_Handler]], status: int, error: type[Exception]
) -> None:
    pytest.importorskip("openai")
    url, handler = server
    handler.status = status
    embedder = OpenAIEmbedder("local-model", api_key=SECRET, base_url=url, retries=2)
    with pytest.raises(error) as caught:
        await embedder.embed("x")
    assert SECRET not in str(caught.value)
    assert len(handler.seen) == (1 if status == 401 else 2)


async def test_a_key_from_the_environment_stays_out_of_errors(
    server: tuple[str, type[_Handler]], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("openai")
    url, handler = server
    handler.status = 500  # the server echoes SECRET in its error message
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    embedder = OpenAIEmbedder("local-model", base_url=url, retries=1)
    with pytest.raises(BackendUnavailable) as caught:
        await embedder.embed("x")
    assert "nope" in str(caught.value)
    assert SECRET not in str(caught.value)
    assert handler.seen[0]["auth"] == f"Bearer {SECRET}"
