"""RedisMemory's export before Redis 8.4: a snapshot of the ids, built in steps, paged by lex."""

from __future__ import annotations

import pytest

from spine_backend_redis import RedisMemory
from spine_backend_redis import memory as redis_memory
from spine_core import HashEmbedder, MemoryItem


async def _export_ids(memory: RedisMemory, limit: int) -> list[str]:
    ids: list[str] = []
    after: str | None = None
    while True:
        page = await memory.export_records(after=after, limit=limit)
        ids += [r.id for r in page.items]
        if page.next_cursor is None:
            return ids
        after = page.next_cursor


async def test_snapshot_in_many_steps_pages_every_record_once(
    redis8: str, ns8: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redis_memory, "_SNAPSHOT_STEP", 3)  # many ZSCAN steps for 40 ids
    memory = RedisMemory(redis8, namespace=ns8, embedder=HashEmbedder(32))
    try:
        saved = await memory.save_many([MemoryItem(f"note {i}", f"s{i % 4}") for i in range(40)])
        ids = sorted(r.id for r in saved)
        assert await _export_ids(memory, 7) == ids
        # A record forgotten after the snapshot was taken is skipped, the page still full.
        first = await memory.export_records(limit=5)
        assert await memory.forget(ids[6])
        second = await memory.export_records(after=first.next_cursor, limit=5)
        assert [r.id for r in second.items] == ids[5:6] + ids[7:11]
        # A new export takes a new snapshot: records saved since are in it.
        later = await memory.save("a later note", session_id="s0")
        assert await _export_ids(memory, 100) == sorted([*ids[:6], *ids[7:], later.id])
    finally:
        await memory.aclose()


async def test_export_of_an_empty_namespace(redis8: str, ns8: str) -> None:
    async with RedisMemory(redis8, namespace=ns8, embedder=HashEmbedder(32)) as memory:
        page = await memory.export_records()
        assert (page.items, page.next_cursor) == ([], None)
