"""The API key never reaches an error, even from a server that echoes request headers.

Issue 14, defect 4: a real HTTP server on 127.0.0.1 (the standard library's) answers every
request with an error whose body repeats the request headers, as some proxies and gateways do.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from spine_backend_qdrant import QdrantMemory
from spine_core.errors import SpineError

SENTINEL = "S3CRETpw-apikey"


class _EchoHeaders(BaseHTTPRequestHandler):
    status = 400
    values_only = False

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        if self.values_only:  # the key with nothing around it that a pattern could spot
            body = json.dumps(sorted(self.headers.values())).encode()
        else:
            body = json.dumps(
                {
                    "status": {"error": f"echo: {dict(self.headers)}"},
                    "headers": dict(self.headers),
                    "raw": str(self.headers),
                }
            ).encode()
        self.send_response(self.status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass


class _EchoValues(_EchoHeaders):
    values_only = True


def _serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def echo_url() -> Iterator[str]:
    yield from _serve(_EchoHeaders)


@pytest.fixture
def values_url() -> Iterator[str]:
    yield from _serve(_EchoValues)


@pytest.mark.filterwarnings("ignore:Api key is used with an insecure connection")
async def test_an_echoing_server_never_gets_the_key_into_an_error(echo_url: str) -> None:
    store = QdrantMemory(url=echo_url, api_key=SENTINEL, timeout=5)
    try:
        health = await store.health()
        assert not health.ok
        assert health.error is not None
        assert "HTTP 400" in health.error  # the status still says what happened
        assert SENTINEL not in health.error
        with pytest.raises(SpineError) as raised:
            await store.search("anything")
        assert SENTINEL not in str(raised.value)
        assert SENTINEL not in repr(store)
    finally:
        await store.aclose()


@pytest.mark.filterwarnings("ignore:Api key is used with an insecure connection")
async def test_a_qdrant_error_message_is_kept_without_secrets(echo_url: str) -> None:
    # Qdrant's own error text (status.error) is useful; it is kept, scrubbed of the key.
    store = QdrantMemory(url=echo_url, api_key=SENTINEL, timeout=5)
    try:
        health = await store.health()
        assert health.error is not None
        assert "echo:" in health.error
        assert SENTINEL not in health.error
    finally:
        await store.aclose()


@pytest.mark.filterwarnings("ignore:Api key is used with an insecure connection")
async def test_a_body_that_is_not_a_qdrant_error_is_never_shown(values_url: str) -> None:
    store = QdrantMemory(url=values_url, api_key=SENTINEL, timeout=5)
    try:
        health = await store.health()
        assert health.error is not None
        assert "HTTP 400" in health.error
        assert SENTINEL not in health.error
    finally:
        await store.aclose()
