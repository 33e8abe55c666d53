"""Qdrant-specific behaviour: URL forms, secrets, modes, filter semantics, ordering, locking."""

from __future__ import annotations

import logging
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from spine_backend_qdrant import QdrantMemory
from spine_backend_qdrant._payload import encode_payload
from spine_core import (
    BackendUnavailable,
    ConfigError,
    DataError,
    HashEmbedder,
    InMemoryVectorMemory,
    MemoryItem,
    open_checkpoint,
    open_memory,
    resolve_checkpoint,
    resolve_memory,
)
from spine_testing.faults import hide_modules

SECRET = "s3cr3t-api-key-do-not-print"


class NamedEmbedder(HashEmbedder):
    """HashEmbedder vectors under another model name (same dimension)."""

    @property
    def name(self) -> str:
        return "other-model-256"


# -- URL forms and construction (no I/O) -------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "mode", "where"),
    [
        ("qdrant://db.example:6333", "server", "http://db.example:6333"),
        ("qdrant://db.example", "server", "http://db.example:6333"),
        ("qdrants://db.example:443/qdrant", "server", "https://db.example:443/qdrant"),
        ("http://127.0.0.1:7000", "server", "http://127.0.0.1:7000"),
        ("qdrant+local:///rel/dir", "disk", "rel/dir"),
        ("qdrant+local:////abs/dir", "disk", "/abs/dir"),
        ("qdrant+local://", "memory", ":memory:"),
        ("qdrant+local:///:memory:", "memory", ":memory:"),
    ],
)
def test_url_forms(url: str, mode: str, where: str) -> None:
    store = QdrantMemory.from_url(url)
    assert store.mode == mode
    assert (store._where.url if mode == "server" else store._where.location) == where
    assert store.info().topology == ("server" if mode == "server" else "embedded")
    assert store.info().kinds == ("memory",)


def test_url_display_round_trips() -> None:
    assert "qdrants://db.example:443" in repr(QdrantMemory.from_url("qdrants://db.example:443"))
    assert "qdrant+local:////abs/dir" in repr(QdrantMemory.from_url("qdrant+local:////abs/dir"))
    assert "qdrant+local:///rel" in repr(QdrantMemory.from_url("qdrant+local:///rel"))


def test_url_options_and_keyword_override() -> None:
    store = QdrantMemory.from_url("qdrant://h:6333?namespace=agents&hnsw_ef=64&timeout=2.5")
    assert store.namespace == "agents"
    assert store.collection == "spine_agents"
    assert store.hnsw_ef == 64
    assert store.capabilities.details["hnsw_ef"] == 64
    store = QdrantMemory.from_url("qdrant://h:6333?namespace=agents", namespace="other")
    assert store.collection == "spine_other"


@pytest.mark.parametrize(
    "url",
    [
        "qdrant+local://host/dir",  # local mode takes no host
        "qdrant://h:6333?colour=blue",  # unknown option
        "qdrant://h:6333?hnsw_ef=many",
        "qdrant://:secret@h:6333",  # credentials belong in api_key / QDRANT_API_KEY
        "qdrant://h:notaport",
        "redis://h:6379",
    ],
)
def test_bad_urls_fail_loud(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        QdrantMemory.from_url(url)
    assert "secret" not in str(info.value)


def test_constructor_rejects_ambiguous_or_bad_options(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        QdrantMemory(path=tmp_path, url="http://h:6333")
    with pytest.raises(ConfigError):
        QdrantMemory(location="/some/dir")
    with pytest.raises(ConfigError):
        QdrantMemory(path=tmp_path, api_key=SECRET)
    with pytest.raises(ConfigError):
        QdrantMemory(path="")
    with pytest.raises(ConfigError):
        QdrantMemory(url="http://h:6333?api_key=x")  # options go in keywords or from_url
    with pytest.raises(ConfigError):
        QdrantMemory(timeout="2")  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        QdrantMemory(hnsw_ef=0)
    with pytest.raises(ConfigError):
        QdrantMemory(indexed_metadata={"user": "text"})  # type: ignore[dict-item]


def test_capabilities_per_mode(tmp_path: Path) -> None:
    memory = QdrantMemory()
    disk = QdrantMemory(path=tmp_path / "edge")
    client_disk = QdrantMemory(path=tmp_path / "client", engine="client")
    edge_memory = QdrantMemory(engine="edge")
    server = QdrantMemory(url="http://h:6333")
    tls = QdrantMemory(url="https://h:6333")
    every = {"get", "forget", "prune", "save_many", "filter", "export"}
    assert (memory.engine, disk.engine, client_disk.engine) == ("client", "edge", "client")
    assert server.engine is None
    assert memory.capabilities.advertised() == every
    assert disk.capabilities.advertised() == every | {"persistent", "approximate"}
    assert client_disk.capabilities.advertised() == every | {"persistent"}
    assert edge_memory.capabilities.advertised() == every | {"approximate"}
    assert server.capabilities.advertised() == every | {"persistent", "approximate"}
    assert not memory.capabilities.durable
    assert disk.capabilities.durable
    assert client_disk.capabilities.durable
    assert not disk.capabilities.concurrent_writers
    assert server.capabilities.concurrent_writers
    assert not server.capabilities.encryption
    assert tls.capabilities.encryption
    assert server.capabilities.details["search"] == "hnsw"
    assert client_disk.capabilities.details["search"].startswith("exact")
    assert disk.capabilities.details["search"].startswith("hnsw")
    assert disk.capabilities.details["engine"] == "qdrant-edge"


def test_registry_finds_the_memory_entry_point() -> None:
    assert isinstance(resolve_memory("qdrant", location=":memory:"), QdrantMemory)
    store = open_memory("qdrant+local://", namespace="reg")
    assert isinstance(store, QdrantMemory)


def test_no_checkpoints() -> None:
    """Qdrant keeps no checkpoints: the registry says so and names backends that do."""
    for attempt in (
        lambda: open_checkpoint("qdrant://localhost:6333"),
        lambda: resolve_checkpoint("qdrant"),
        lambda: open_checkpoint("qdrant+local:///somewhere"),
    ):
        with pytest.raises(ConfigError) as info:
            attempt()
        message = str(info.value)
        assert "qdrant" in message
        assert "memory only" in message
        # 'memory' is spine-core's built-in checkpoint backend: always listed as available.
        assert "available: " in message
        assert "memory" in message.partition("available: ")[2]
    assert QdrantMemory().info().kinds == ("memory",)


def test_import_does_not_load_the_driver() -> None:
    code = (
        "import sys, spine_backend_qdrant\n"
        "assert 'qdrant_client' not in sys.modules, 'driver imported eagerly'\n"
        "spine_backend_qdrant.QdrantMemory\n"
        "assert 'qdrant_client' not in sys.modules, 'driver imported by the class'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- secrets -----------------------------------------------------------------------------------


def test_api_key_never_in_repr_or_info(monkeypatch: pytest.MonkeyPatch) -> None:
    explicit = QdrantMemory.from_url(f"qdrants://db.example:6333?api_key={SECRET}")
    monkeypatch.setenv("QDRANT_API_KEY", SECRET)
    from_env = QdrantMemory.from_url("qdrant://db.example:6333")
    for store in (explicit, from_env):
        assert store._where.api_key == SECRET
        shown = [repr(store), str(store.info()), repr(store._where), str(store.capabilities)]
        assert all(SECRET not in text for text in shown)


@pytest.mark.filterwarnings("ignore:Api key is used with an insecure connection")
async def test_api_key_never_in_errors_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    # Port 9 on the loopback (discard) is closed on test machines: the connection is refused.
    store = QdrantMemory(url="http://127.0.0.1:9", api_key=SECRET, timeout=1)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(BackendUnavailable) as info:
        await store.search("anything")
    health = await store.health()
    await store.aclose()
    assert not health.ok
    assert health.error is not None
    texts = [str(info.value), repr(info.value), health.error, caplog.text]
    assert all(SECRET not in text for text in texts)
    assert "127.0.0.1:9" in str(info.value)


# -- behaviour in every mode -------------------------------------------------------------------

FLAG_VALUES: dict[str, Any] = {
    "true": True,
    "false": False,
    "one": 1,
    "one_float": 1.0,
    "zero": 0,
    "string_one": "1",
    "list_one": [1],
    "object": {"flag": 1},
    "null": None,
    "big": 2**60,
    "big_plus_one": 2**60 + 1,
    "half": 0.5,
    # Past float range (issue 14, defect 7): the shadow is a tag, never confused with a str.
    "huge": 10**400,
    "huge_spelled": f"int:{10**400}",
}
FILTERS: list[dict[str, str | int | float | bool]] = [
    {"flag": True},
    {"flag": False},
    {"flag": 1},
    {"flag": 1.0},
    {"flag": 0},
    {"flag": "1"},
    {"flag": 2**60},
    {"flag": 2**60 + 1},
    {"flag": float(2**60)},
    {"flag": 0.5},
    {"flag": "true"},
    {"flag": 10**400},
    {"flag": -(10**400)},
    {"flag": f"int:{10**400}"},
]


@pytest.mark.parametrize("flt", FILTERS, ids=lambda f: repr(f)[:40])
async def test_filter_follows_json_equality(
    make_store: Callable[..., QdrantMemory], flt: dict[str, str | int | float | bool]
) -> None:
    """Filters match exactly what `matches_filter` (the reference store) matches."""
    reference = InMemoryVectorMemory()
    items = [
        MemoryItem(content=f"record {name}", metadata={"flag": value, "name": name})
        for name, value in FLAG_VALUES.items()
    ]
    await reference.save_many(items)
    async with make_store() as store:
        await store.save_many(items)
        got = {h.record.metadata["name"] for h in await store.search("record", k=50, filter=flt)}
    want = {h.record.metadata["name"] for h in await reference.search("record", k=50, filter=flt)}
    assert got == want


async def test_integers_past_float_range_round_trip_in_a_batch(
    make_store: Callable[..., QdrantMemory],
) -> None:
    # Was a raw OverflowError after 256 of 301 records were written (issue 14, defect 7).
    items = [MemoryItem(content=f"item {i}", session_id="s") for i in range(300)]
    items.append(MemoryItem(content="item huge", session_id="s", metadata={"n": 10**400}))
    async with make_store() as store:
        await store.save_many(items)
        loaded = await store.load("s", limit=301)
        assert len(loaded) == 301
        assert loaded[-1].metadata == {"n": 10**400}


async def test_filter_on_any_key(make_store: Callable[..., QdrantMemory]) -> None:
    keys = ["a.b", 'quo"te', "[0]", "ünïcödé", "with space", "x" * 200, "f", "fx"]
    async with make_store() as store:
        for i, key in enumerate(keys):
            await store.save(f"note {i}", metadata={key: "yes", "i": i})
        for i, key in enumerate(keys):
            hits = await store.search("note", k=20, filter={key: "yes"})
            assert [h.record.metadata["i"] for h in hits] == [i]
        assert await store.search("note", k=20, filter={"a": "yes"}) == []


async def test_embedder_mismatch_on_reopen(make_store: Callable[..., QdrantMemory]) -> None:
    if not make_store().capabilities.persistent:
        pytest.skip("in-memory local mode: a reopened store starts empty")
    async with make_store(embedder=HashEmbedder(256)) as store:
        await store.save("kept", session_id="s")
    for other in (HashEmbedder(64), NamedEmbedder(256)):
        store = make_store(embedder=other)
        with pytest.raises(ConfigError, match="embedder"):
            await store.save("must not be written", session_id="s")
        await store.aclose()
    async with make_store(embedder=HashEmbedder(256)) as store:
        assert [r.content for r in await store.load("s")] == ["kept"]


async def test_load_order_with_many_records(make_store: Callable[..., QdrantMemory]) -> None:
    reference = InMemoryVectorMemory()
    async with make_store(batch_size=64) as store:
        items = [
            MemoryItem(content=f"message {i}", session_id=f"s{i % 3}", metadata={"i": i})
            for i in range(600)
        ]
        saved = await store.save_many(items)
        for limit in (1, 7, 50, 200, 1000):
            loaded = await store.load("s1", limit=limit)
            want = [r for r in saved if r.session_id == "s1"][-limit:]
            assert loaded == want
        await reference.save_many(items)
        assert [r.content for r in await store.load("s2", limit=30)] == [
            r.content for r in await reference.load("s2", limit=30)
        ]


async def test_load_breaks_timestamp_ties_by_id(tmp_path: Path) -> None:
    """Records saved in one microsecond (by different processes) still load in (ts, id) order."""
    from qdrant_client import AsyncQdrantClient, models

    client = AsyncQdrantClient(path=str(tmp_path / "q"))
    store = QdrantMemory(client=client, namespace="ties")
    try:
        await store.save("before", session_id="s")
        ts = (await store.load("s"))[0].ts
        ids = sorted(str(uuid.uuid4()) for _ in range(6))
        points = [
            models.PointStruct(
                id=rid,
                vector=HashEmbedder().embed_one(f"tie {rid}"),
                payload=encode_payload(
                    content=f"tie {rid}",
                    session_id="s",
                    ts=1_900_000_000.0,
                    metadata={},
                    metadata_json="{}",
                ),
            )
            for rid in reversed(ids)
        ]
        await client.upsert("spine_ties", points=points, wait=True)
        for limit in (1, 2, 5, 6, 7):
            loaded = await store.load("s", limit=limit)
            expected = ["before"] + [f"tie {rid}" for rid in ids]
            assert [r.content for r in loaded] == expected[-limit:]
        assert (await store.load("s", limit=7))[0].ts == ts
    finally:
        await store.aclose()
        assert not client._client.closed  # an injected client is the caller's to close
        await client.close()


async def test_ids_that_cannot_exist(make_store: Callable[..., QdrantMemory]) -> None:
    async with make_store() as store:
        record = await store.save("x")
        for rid in ("not-a-uuid", record.id.upper(), record.id.replace("-", ""), "42"):
            assert await store.get(rid) is None
            assert await store.forget(rid) is False
        assert await store.get(record.id) == record


async def test_prune_counts(make_store: Callable[..., QdrantMemory]) -> None:
    async with make_store() as store:
        saved = await store.save_many(
            [MemoryItem(content=f"n{i}", session_id=f"s{i % 2}") for i in range(40)]
        )
        assert await store.prune(session_id="s0", before=saved[10].ts) == 5
        assert await store.prune(before=saved[20].ts) == 15
        assert await store.prune(session_id="nobody") == 0
        assert len(await store.load("s0", limit=100)) + len(await store.load("s1", limit=100)) == 20


async def test_foreign_point_is_a_data_error(tmp_path: Path) -> None:
    from qdrant_client import AsyncQdrantClient, models

    client = AsyncQdrantClient(location=":memory:")
    store = QdrantMemory(client=client, namespace="foreign")
    try:
        await store.save("mine")
        rid = str(uuid.uuid4())
        await client.upsert(
            "spine_foreign",
            points=[models.PointStruct(id=rid, vector=[1.0] * 256, payload={"text": "theirs"})],
            wait=True,
        )
        with pytest.raises(DataError, match=rid):
            await store.get(rid)
    finally:
        await store.aclose()
        await client.close()


async def test_foreign_collection_is_refused() -> None:
    from qdrant_client import AsyncQdrantClient, models

    client = AsyncQdrantClient(location=":memory:")
    await client.create_collection(
        "spine_euclid",
        vectors_config=models.VectorParams(size=256, distance=models.Distance.EUCLID),
    )
    store = QdrantMemory(client=client, namespace="euclid")
    with pytest.raises(ConfigError, match="cosine"):
        await store.search("x")
    await client.close()


# -- local mode: the directory lock ------------------------------------------------------------


async def test_stores_on_one_directory_share_it(tmp_path: Path) -> None:
    """Local mode locks its directory; stores in one process share one client instead."""
    a = QdrantMemory(path=tmp_path, namespace="a")
    b = QdrantMemory(path=tmp_path, namespace="b")
    a2 = QdrantMemory(path=tmp_path, namespace="a")
    async with a, b, a2:
        await a.save("from a", session_id="s")
        await b.save("from b", session_id="s")
        assert [r.content for r in await a2.load("s")] == ["from a"]
        assert [r.content for r in await b.load("s")] == ["from b"]
    # Reopen after close, repeatedly: each close frees the lock for the next open.
    for i in range(3):
        store = QdrantMemory(path=tmp_path, namespace="a")
        await store.save(f"again {i}", session_id="s")
        await store.aclose()
    async with QdrantMemory(path=tmp_path, namespace="a") as store:
        assert len(await store.load("s")) == 4


async def test_directory_locked_elsewhere_is_a_config_error(tmp_path: Path) -> None:
    from qdrant_client import AsyncQdrantClient

    holder = AsyncQdrantClient(path=str(tmp_path))  # as another process would hold it
    try:
        store = QdrantMemory(path=tmp_path)
        with pytest.raises(ConfigError, match="locked"):
            await store.save("x")
        await store.aclose()
    finally:
        await holder.close()
    async with QdrantMemory(path=tmp_path) as store:
        assert (await store.save("now it opens")).content == "now it opens"


async def test_aclose_then_use_reopens(tmp_path: Path) -> None:
    store = QdrantMemory(path=tmp_path)
    await store.save("one", session_id="s")
    await store.aclose()
    await store.save("two", session_id="s")
    assert [r.content for r in await store.load("s")] == ["one", "two"]
    await store.aclose()


async def test_save_many_is_all_or_none_when_a_later_batch_is_refused(tmp_path: Path) -> None:
    """Item 300 is refused after the first batch of 256 points was written: nothing remains."""
    from qdrant_client import AsyncQdrantClient

    class RefusingClient(AsyncQdrantClient):
        """Local-mode Qdrant that refuses an upsert holding a marked point, as a server may."""

        async def upsert(self, collection_name: str, points: Any, **kw: Any) -> Any:
            if any("refused" in str((p.payload or {}).get("content", "")) for p in points):
                raise ValueError("point refused by the server")
            return await super().upsert(collection_name, points=points, **kw)

    client = RefusingClient(path=str(tmp_path / "q"))
    store = QdrantMemory(client=client, namespace="atomic", batch_size=256)
    try:
        await store.save("kept before", session_id="s")
        items = [MemoryItem(content=f"item {i}", session_id="s") for i in range(299)]
        items.append(MemoryItem(content="item 300 refused", session_id="s"))
        with pytest.raises(ValueError, match="refused"):
            await store.save_many(items)
        assert [r.content for r in await store.load("s", limit=1000)] == ["kept before"]
        assert (await client.count("spine_atomic", exact=True)).count == 1
        # The store is still usable, and a batch that is accepted is written whole.
        saved = await store.save_many([f"again {i}" for i in range(300)])
        assert (await client.count("spine_atomic", exact=True)).count == 301
        assert await store.get(saved[-1].id) == saved[-1]
    finally:
        await store.aclose()
        await client.close()


def test_a_missing_driver_is_one_config_error_with_the_install_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hide_modules(monkeypatch, "qdrant_client")  # as after `pip install --no-deps ...`
    with pytest.raises(ConfigError, match=r'qdrant_client.*pip install "spine-backends\[qdrant\]"'):
        QdrantMemory(path=str(tmp_path / "q"), embedder=HashEmbedder(dimension=8))
