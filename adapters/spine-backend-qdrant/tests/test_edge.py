"""The embedded engines: choosing one; qdrant-edge on disk (reopen, index, crash, lock)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from spine_backend_qdrant import QdrantMemory, _edge
from spine_core import ConfigError, HashEmbedder, MemoryItem, open_memory


def _is_dir(path: Path) -> bool:
    return os.path.isdir(path)


def _shard_info(store: QdrantMemory) -> Any:
    """The qdrant-edge shard info behind an open edge store."""
    assert store._local is not None
    client: Any = store._local._client
    return client._get(store.collection).shard.info()


# -- choosing the engine -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "engine"),
    [
        ("qdrant+local:///{dir}", "edge"),
        ("qdrant+local:///{dir}?engine=auto", "edge"),
        ("qdrant+local:///{dir}?engine=edge", "edge"),
        ("qdrant+local:///{dir}?engine=client", "client"),
        ("qdrant+local://", "client"),
        ("qdrant+local://?engine=edge", "edge"),
        ("qdrant+local://?engine=client", "client"),
    ],
)
def test_engine_from_url(url: str, engine: str, tmp_path: Path) -> None:
    store = QdrantMemory.from_url(url.format(dir=tmp_path / "q"))
    assert store.engine == engine
    assert store.capabilities.approximate == (engine == "edge")


def test_engine_option_is_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="engine"):
        QdrantMemory(path=tmp_path, engine="fast")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="engine"):
        QdrantMemory.from_url(f"qdrant+local:///{tmp_path}?engine=fast")
    with pytest.raises(ConfigError, match="embedded"):
        QdrantMemory(url="http://h:6333", engine="edge")
    assert QdrantMemory(url="http://h:6333", engine="client").engine is None


async def test_auto_keeps_a_qdrant_client_directory_on_qdrant_client(tmp_path: Path) -> None:
    async with QdrantMemory(path=tmp_path, engine="client") as old:
        await old.save("written by qdrant-client", session_id="s")
    store = QdrantMemory(path=tmp_path)
    assert store.engine == "client"
    async with store:
        assert [r.content for r in await store.load("s")] == ["written by qdrant-client"]
    with pytest.raises(ConfigError, match="engine='client'"):
        QdrantMemory(path=tmp_path, engine="edge")


async def test_a_qdrant_edge_directory_refuses_qdrant_client(tmp_path: Path) -> None:
    async with QdrantMemory(path=tmp_path) as store:
        await store.save("written by qdrant-edge")
    with pytest.raises(ConfigError, match="engine='edge'"):
        QdrantMemory(path=tmp_path, engine="client")


async def test_edge_in_memory_leaves_nothing_behind() -> None:
    store = QdrantMemory(engine="edge")
    async with store:
        await store.save("temporary", session_id="s")
        assert store._local is not None
        root: Path = store._local._client.root  # type: ignore[attr-defined]
        assert _is_dir(root)
    assert not _is_dir(root.parent)


# -- qdrant-edge on disk -----------------------------------------------------------------------


async def test_reopen_finds_records_vectors_and_metadata(tmp_path: Path) -> None:
    url = f"qdrant+local:///{tmp_path}"
    async with open_memory(url, namespace="notes") as store:
        saved = await store.save_many(
            [
                MemoryItem(content=f"note {i}", session_id=f"s{i % 2}", metadata={"i": i})
                for i in range(30)
            ]
        )
    async with open_memory(url, namespace="notes") as store:
        assert await store.get(saved[7].id) == saved[7]
        assert await store.load("s1", limit=100) == [r for r in saved if r.session_id == "s1"]
        hits = await store.search("note 12", k=3, filter={"i": 12})
        assert [h.record for h in hits] == [saved[12]]
        assert await store.prune(session_id="s0") == 15
    async with open_memory(url, namespace="notes") as store:
        assert await store.load("s0") == []
        assert len(await store.load("s1", limit=100)) == 15


async def test_reopen_with_another_embedder_dimension_is_refused(tmp_path: Path) -> None:
    async with QdrantMemory(path=tmp_path) as store:
        await store.save("256-d")
    store = QdrantMemory(path=tmp_path, embedder=HashEmbedder(64))
    with pytest.raises(ConfigError, match="256-d vectors"):
        await store.save("64-d")
    await store.aclose()


async def test_indexed_metadata_on_edge(tmp_path: Path) -> None:
    indexes: dict[str, Any] = {
        "user": "keyword",
        "n": "integer",
        "done": "bool",
        "odd key": "float",
    }
    async with QdrantMemory(path=tmp_path, indexed_metadata=indexes) as store:
        saved = await store.save_many(
            [
                MemoryItem(
                    content=f"m{i}",
                    metadata={"user": f"u{i % 3}", "n": i, "done": i % 2 == 0, "odd key": i / 2},
                )
                for i in range(12)
            ]
        )
        schema = _shard_info(store).payload_schema
        assert {"session_id", "ts_us", "f.user", "f.n", "fb.done"} <= set(schema)
        assert len(schema) == 6
        hits = await store.search("m", k=20, filter={"user": "u1", "done": False, "n": 7})
        assert [h.record for h in hits] == [saved[7]]
        hits = await store.search("m", k=20, filter={"odd key": 2.5})
        assert [h.record for h in hits] == [saved[5]]


async def test_enough_new_points_build_the_hnsw_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_edge, "DEFAULT_INDEX_AFTER", 200)
    texts = [f"record number {i} about topic {i % 17}" for i in range(500)]
    async with QdrantMemory(path=tmp_path, namespace="big") as store:
        await store.save_many([MemoryItem(content=t, session_id="s") for t in texts[:150]])
        assert _shard_info(store).indexed_vectors_count == 0  # below the trigger: plain
        await store.save_many([MemoryItem(content=t, session_id="s") for t in texts[150:]])
        assert _shard_info(store).indexed_vectors_count >= 200
        hits = await store.search(texts[321], k=1)
        assert hits[0].record.content == texts[321]
        assert [r.content for r in await store.load("s", limit=500)] == texts
    async with QdrantMemory(path=tmp_path, namespace="big") as store:
        assert _shard_info(store).indexed_vectors_count >= 200
        assert (await store.search(texts[42], k=1))[0].record.content == texts[42]
        assert len(await store.load("s", limit=1000)) == 500


async def test_a_failed_index_build_leaves_the_store_working(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_edge, "DEFAULT_INDEX_AFTER", 50)
    monkeypatch.setattr(_edge, "_OPTIMIZER", "raise SystemExit('no optimizer today')")
    async with QdrantMemory(path=tmp_path) as store:
        saved = await store.save_many([f"text {i}" for i in range(120)])
        assert _shard_info(store).indexed_vectors_count == 0
        assert await store.get(saved[100].id) == saved[100]
        assert (await store.search("text 99", k=1))[0].record == saved[99]


async def test_a_child_that_cannot_start_does_not_fail_the_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_process(*args: Any, **kwargs: Any) -> Any:
        raise OSError("no processes left")

    monkeypatch.setattr(_edge, "DEFAULT_INDEX_AFTER", 50)
    monkeypatch.setattr(_edge.subprocess, "run", no_process)
    async with QdrantMemory(path=tmp_path) as store:
        saved = await store.save_many([f"text {i}" for i in range(60)])
        assert await store.get(saved[55].id) == saved[55]
        assert _shard_info(store).indexed_vectors_count == 0


async def test_save_many_is_all_or_none_on_edge(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = _edge.EdgeClient.upsert

    async def refusing(self: _edge.EdgeClient, collection_name: str, points: Any, **kw: Any) -> Any:
        if any("refused" in str((p.payload or {}).get("content", "")) for p in points):
            raise ValueError("point refused")
        return await original(self, collection_name, points, **kw)

    monkeypatch.setattr(_edge.EdgeClient, "upsert", refusing)
    async with QdrantMemory(path=tmp_path, batch_size=100) as store:
        await store.save("kept", session_id="s")
        items = [MemoryItem(content=f"item {i}", session_id="s") for i in range(250)]
        items.append(MemoryItem(content="item refused", session_id="s"))
        with pytest.raises(ValueError, match="refused"):
            await store.save_many(items)
        assert [r.content for r in await store.load("s", limit=1000)] == ["kept"]


def _python(code: str, *args: str, **kw: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


async def test_writes_survive_a_crashed_process(tmp_path: Path) -> None:
    """The WAL keeps every acknowledged write, even when the process dies without closing."""
    child = _python(
        """
        import asyncio, os, sys
        from spine_core import open_memory

        async def main():
            store = open_memory("qdrant+local:///" + sys.argv[1])
            await store.save_many(["one", "two", "three"])
            await store.save("four", session_id="s")
            os._exit(0)  # no close, no flush

        asyncio.run(main())
        """,
        str(tmp_path),
    )
    _, err = child.communicate(timeout=120)
    assert child.returncode == 0, err
    async with QdrantMemory(path=tmp_path) as store:
        assert [r.content for r in await store.load("s")] == ["four"]
        assert (await store.search("three", k=1))[0].record.content == "three"


async def test_a_collection_held_by_another_process_is_a_config_error(tmp_path: Path) -> None:
    holder = _python(
        """
        import asyncio, sys
        from spine_core import open_memory

        async def main():
            async with open_memory("qdrant+local:///" + sys.argv[1], namespace="held") as m:
                await m.save("held")
                print("ready", flush=True)
                sys.stdin.readline()

        asyncio.run(main())
        """,
        str(tmp_path),
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "ready"
        store = QdrantMemory(path=tmp_path, namespace="held")
        with pytest.raises(ConfigError, match="locked by another process"):
            await store.save("x")
        await store.aclose()
        # Another collection in the same directory is free.
        async with QdrantMemory(path=tmp_path, namespace="free") as store:
            assert (await store.save("y")).content == "y"
    finally:
        holder.communicate("done\n", timeout=120)
    async with QdrantMemory(path=tmp_path, namespace="held") as store:
        assert (await store.save("now")).content == "now"


async def test_edge_scroll_pages_and_orders_like_qdrant_client(tmp_path: Path) -> None:
    """The scroll forms a store may use: id pages with `offset`, `order_by` with `start_from`."""
    from qdrant_client import models

    from spine_core.spi import to_epoch_us

    async with QdrantMemory(path=tmp_path) as store:
        saved = await store.save_many(
            [MemoryItem(content=f"r{i}", session_id="s") for i in range(7)]
        )
        name = store.collection
        seen: list[str] = []
        offset: Any = None
        while True:
            page, offset = await store._call(
                lambda c, o=offset: c.scroll(name, limit=3, offset=o, with_payload=False)
            )
            seen += [str(p.id) for p in page]
            if offset is None:
                break
        assert sorted(seen) == sorted(r.id for r in saved)
        start = to_epoch_us(saved[4].ts)
        newest, _ = await store._call(
            lambda c: c.scroll(
                name,
                scroll_filter=models.Filter(
                    must=[models.HasIdCondition(has_id=[r.id for r in saved[1:]])]
                ),
                order_by=models.OrderBy(
                    key="ts_us", direction=models.Direction.ASC, start_from=start
                ),
                limit=10,
            )
        )
        assert [p.payload["content"] for p in newest if p.payload] == ["r4", "r5", "r6"]
