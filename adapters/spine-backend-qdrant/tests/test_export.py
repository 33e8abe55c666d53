"""Qdrant's export path: paging by point id is paging by record id; restores need UUID ids."""

from __future__ import annotations

import random
import uuid

import pytest

from spine_backend_qdrant import QdrantMemory
from spine_backend_qdrant.memory import _uuid_after
from spine_core import InvalidInput, MemoryRecord

_MAX = "ffffffff-ffff-ffff-ffff-ffffffffffff"


def _smallest_after_by_search(after: str, ids: list[str]) -> str | None:
    return min((i for i in ids if i > after), default=None)


def test_uuid_after_is_the_next_uuid_text_in_code_point_order() -> None:
    rng = random.Random(15)
    ids = sorted(str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(500))
    probes = ["", "0", "~", "A", "-", "12345678-", "12345678x", _MAX, _MAX[:-1] + "g"]
    probes += [i[:k] for i in rng.sample(ids, 40) for k in (0, 3, 8, 9, 20, 35, 36)]
    for after in probes:
        got = _uuid_after(after)
        if got is None:
            assert after >= _MAX, after
            continue
        assert str(uuid.UUID(got)) == got, (after, got)
        assert got > after, (after, got)
        # No stored id lies strictly between `after` and the offset the scroll starts at.
        nearest = _smallest_after_by_search(after, ids)
        assert nearest is None or nearest >= got, (after, got, nearest)
    assert _uuid_after(ids[3]) == str(uuid.UUID(int=uuid.UUID(ids[3]).int + 1))


async def test_export_after_a_non_uuid_cursor_and_restore_of_non_uuid_ids() -> None:
    async with QdrantMemory(namespace="export_ids") as memory:
        saved = [await memory.save(f"note {i}", session_id="s") for i in range(5)]
        ids = sorted(r.id for r in saved)
        page = await memory.export_records(after=ids[1][:10], limit=100)
        assert [r.id for r in page.items] == [i for i in ids if i > ids[1][:10]]
        assert (await memory.export_records(after="~")).items == []
        foreign = MemoryRecord(id="not-a-uuid", content="from sqlite", session_id="s")
        with pytest.raises(InvalidInput, match="UUID"):
            await memory.restore_records([*page.items, foreign])
        assert [r.id for r in (await memory.export_records()).items] == ids
