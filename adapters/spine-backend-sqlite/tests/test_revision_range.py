"""An expected revision no store can hold is a plain conflict (issue 14, defect 15)."""

from __future__ import annotations

from pathlib import Path

import pytest

from spine_core import ConflictError, InMemoryCheckpointStore, State, open_checkpoint


@pytest.mark.parametrize("expected", [2**63, 2**64, 10**30])
@pytest.mark.parametrize("where", ["memory", "sqlite"])
async def test_a_huge_expected_revision_is_a_conflict(
    where: str, expected: int, tmp_path: Path
) -> None:
    # SQLite raised a raw OverflowError binding 2**63 before the check moved into the base.
    store = (
        InMemoryCheckpointStore()
        if where == "memory"
        else open_checkpoint(f"sqlite:///{tmp_path / 'db.sqlite'}")
    )
    async with store:
        await store.put(State(session_id="s"))
        with pytest.raises(ConflictError) as info:
            await store.put(State(session_id="s", step=1), expected_revision=expected)
        assert (info.value.expected, info.value.actual) == (expected, 1)
        got = await store.get("s")
        assert got is not None
        assert got.step == 0
