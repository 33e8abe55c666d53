"""`CheckpointStoreBase` owns the public flow; a backend fills only private hooks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from spine_core import (
    ConflictError,
    InMemoryCheckpointStore,
    InvalidInput,
    State,
    UnsupportedCapability,
)
from spine_core._base import CheckpointStoreBase


class DictCheckpoint(CheckpointStoreBase):
    """The three required hooks and nothing else; every call is recorded."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, str] = {}
        self.calls: list[str] = []
        self.opened = 0

    async def _open(self) -> None:
        self.opened += 1

    async def _read(self, session_id: str) -> str | None:
        self.calls.append("read")
        return self.rows.get(session_id)

    async def _write(
        self, session_id: str, tenant_id: str | None, raw: str, ttl: float | None
    ) -> None:
        self.calls.append("write")
        self.rows[session_id] = raw

    async def _remove(self, session_id: str) -> None:
        self.calls.append("remove")
        self.rows.pop(session_id, None)


async def test_three_hooks_make_a_working_store_that_connects_once() -> None:
    store = DictCheckpoint()
    state = State(session_id="s", scratch={"k": "v"})
    await store.put(state)
    got = await store.get("s")
    assert got == state
    assert got is not state
    await store.delete("s")
    assert await store.get("s") is None
    await store.delete("s")  # missing: a no-op
    assert store.opened == 1
    assert store.calls == ["write", "read", "remove", "read", "remove"]


async def test_unadvertised_operations_raise_before_any_hook_runs() -> None:
    store = DictCheckpoint()
    state = State(session_id="s")
    with pytest.raises(UnsupportedCapability):
        await store.put(state, expected_revision=0)
    with pytest.raises(UnsupportedCapability):
        await store.put(state, ttl=5)
    with pytest.raises(UnsupportedCapability):
        await store.revision("s")
    with pytest.raises(UnsupportedCapability):
        await store.list_sessions()
    with pytest.raises(UnsupportedCapability):
        await store.prune(before=datetime.now(UTC))
    assert store.calls == []
    assert store.rows == {}


@pytest.mark.parametrize("session_id", ["", "a\x00b", "x" * 300])
async def test_bad_session_ids_never_reach_a_hook(session_id: str) -> None:
    store = DictCheckpoint()
    with pytest.raises(InvalidInput):
        await store.get(session_id)
    with pytest.raises(InvalidInput):
        await store.delete(session_id)
    with pytest.raises(InvalidInput):
        await store.put(State(session_id=session_id))
    assert store.calls == []


async def test_cas_retries_when_the_session_comes_back_to_expected() -> None:
    store = InMemoryCheckpointStore()
    await store.put(State(session_id="s"))
    await store.put(State(session_id="s"))  # revision 2: a CAS at 1 fails
    read_revision = store._revision
    calls = 0

    async def racing_revision(session_id: str) -> int:
        # Between the refused write and this read, another writer deletes and re-creates
        # the session: it is back at revision 1, so the write may now succeed.
        nonlocal calls
        calls += 1
        if calls == 1:
            await store.delete(session_id)
            await store.put(State(session_id=session_id))
        return await read_revision(session_id)

    store._revision = racing_revision  # type: ignore[method-assign]
    await store.put(State(session_id="s", scratch={"won": True}), expected_revision=1)
    assert calls == 1
    assert await store.revision("s") == 2
    got = await store.get("s")
    assert got is not None
    assert got.scratch == {"won": True}
    with pytest.raises(ConflictError) as err:
        await store.put(State(session_id="s"), expected_revision=1)
    assert (err.value.expected, err.value.actual) == (1, 2)


async def test_cas_gives_up_after_a_bounded_number_of_attempts() -> None:
    store = InMemoryCheckpointStore()
    attempts = 0

    async def never(*args: object) -> int | None:
        nonlocal attempts
        attempts += 1
        return None  # refused every time, though the revision always reads as expected

    store._write_if = never  # type: ignore[method-assign,assignment]
    with pytest.raises(ConflictError) as err:
        await store.put(State(session_id="s"), expected_revision=0)
    assert (err.value.expected, err.value.actual) == (0, 0)
    assert 1 < attempts <= 10


async def test_list_sessions_pages_are_assembled_by_the_base() -> None:
    store = InMemoryCheckpointStore()
    for sid in ["e", "a", "d", "b", "c"]:
        await store.put(State(session_id=sid, tenant_id="t" if sid in "ace" else None))
    seen: list[str] = []
    cursor = None
    while True:
        page = await store.list_sessions(limit=2, cursor=cursor)
        assert len(page.sessions) <= 2
        seen += [s.session_id for s in page.sessions]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == ["a", "b", "c", "d", "e"]
    page = await store.list_sessions(tenant_id="t", limit=3)
    assert [s.session_id for s in page.sessions] == ["a", "c", "e"]
    assert page.next_cursor is None
    assert all(s.revision == 1 and s.updated_at.tzinfo is not None for s in page.sessions)


def test_implementer_helpers_are_not_public() -> None:
    public = {name for name in dir(InMemoryCheckpointStore) if not name.startswith("_")}
    assert "check_list_args" not in public
    assert public >= {"put", "get", "delete", "revision", "list_sessions", "prune"}
