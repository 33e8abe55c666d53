"""Capability `export`: the read/restore path, on the reference stores (the specification)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

import pytest

from spine_core import (
    BufferMemory,
    ConflictError,
    HashEmbedder,
    InMemoryCheckpointStore,
    InMemoryVectorMemory,
    InvalidInput,
    MemoryItem,
    MemoryRecord,
    RecordExport,
    SessionExport,
    State,
    UnsupportedCapability,
)
from spine_core.capabilities import CHECKPOINT_OPERATIONS, MEMORY_OPERATIONS, Capability


def test_export_is_an_optional_operation_of_both_kinds() -> None:
    assert Capability.EXPORT in CHECKPOINT_OPERATIONS
    assert Capability.EXPORT in MEMORY_OPERATIONS
    assert InMemoryCheckpointStore.capabilities.export
    assert InMemoryVectorMemory.capabilities.export


# -- checkpoints ---------------------------------------------------------------------------------


async def _all_sessions(
    store: InMemoryCheckpointStore, *, limit: int, tenant_id: str | None = None
) -> list[SessionExport]:
    out: list[SessionExport] = []
    after: str | None = None
    while True:
        page = await store.export_sessions(tenant_id=tenant_id, after=after, limit=limit)
        out += page.items
        if page.next_cursor is None:
            return out
        after = page.next_cursor


async def test_export_sessions_pages_in_code_point_order_with_everything() -> None:
    store = InMemoryCheckpointStore()
    ids = ["b", "a", "Z", "é", "a0", "\U0001f600", "ab"]
    for i, sid in enumerate(ids):
        tenant = "t1" if i % 2 else None
        await store.put(State(session_id=sid, tenant_id=tenant, step=i), ttl=600 if i else None)
    await store.put(State(session_id="b", step=99))  # revision 2
    for limit in (1, 2, 3, 100):
        got = await _all_sessions(store, limit=limit)
        assert [s.session_id for s in got] == sorted(ids)
    by_id = {s.session_id: s for s in await _all_sessions(store, limit=100)}
    assert by_id["b"].revision == 2
    assert by_id["b"].state.step == 99
    assert by_id["b"].expires_at is None
    assert by_id["a"].tenant_id == "t1"
    assert by_id["a"].expires_at is not None
    remaining = (by_id["a"].expires_at - datetime.now(UTC)).total_seconds()
    assert 500 < remaining <= 600
    assert all(s.updated_at.tzinfo is UTC for s in by_id.values())
    tenant_ids = [s.session_id for s in await _all_sessions(store, limit=2, tenant_id="t1")]
    assert tenant_ids == sorted(sid for i, sid in enumerate(ids) if i % 2)


async def test_export_sessions_skips_deleted_and_expired() -> None:
    store = InMemoryCheckpointStore()
    await store.put(State(session_id="gone"))
    await store.delete("gone")
    await store.put(State(session_id="expired"), ttl=1e-6)
    await store.put(State(session_id="live"))
    page = await store.export_sessions()
    assert [s.session_id for s in page.items] == ["live"]
    assert page.next_cursor is None


async def test_restore_session_keeps_tenant_updated_at_and_ttl() -> None:
    source, target = InMemoryCheckpointStore(), InMemoryCheckpointStore()
    await source.put(State(session_id="s", tenant_id="t", step=3), ttl=300)
    await source.put(State(session_id="forever", step=4))
    items = (await source.export_sessions()).items
    for item in items:
        assert await target.restore_session(item)
    for item in items:
        assert await target.get(item.session_id) == item.state
    copied = {s.session_id: s for s in (await target.export_sessions()).items}
    for item in items:
        assert copied[item.session_id].updated_at == item.updated_at
        assert copied[item.session_id].tenant_id == item.tenant_id
        assert copied[item.session_id].revision == 1
    assert copied["forever"].expires_at is None
    assert items[1].session_id == "s"
    assert items[1].expires_at is not None
    kept = copied["s"].expires_at
    assert kept is not None
    drift = abs((kept - items[1].expires_at).total_seconds())
    assert drift < 5
    listed = (await target.list_sessions(tenant_id="t")).sessions
    assert [(s.session_id, s.updated_at) for s in listed] == [("s", items[1].updated_at)]


async def test_restore_session_refuses_an_existing_session_unless_overwrite() -> None:
    source, target = InMemoryCheckpointStore(), InMemoryCheckpointStore()
    await source.put(State(session_id="s", step=1))
    [item] = (await source.export_sessions()).items
    await target.put(State(session_id="s", step=2))
    with pytest.raises(ConflictError):
        await target.restore_session(item)
    assert (await target.get("s")) == State(session_id="s", step=2)
    assert await target.restore_session(item, overwrite=True)
    assert await target.get("s") == item.state
    assert await target.revision("s") == 2


async def test_restore_session_skips_an_item_expired_since_export() -> None:
    target = InMemoryCheckpointStore()
    past = datetime.now(UTC) - timedelta(seconds=1)
    item = SessionExport(
        session_id="s", state=State(session_id="s"), updated_at=past, expires_at=past
    )
    assert await target.restore_session(item) is False
    assert await target.get("s") is None


async def test_restore_session_checks_its_input() -> None:
    target = InMemoryCheckpointStore()
    now = datetime.now(UTC)
    with pytest.raises(InvalidInput):
        await target.restore_session(  # the state belongs to another session
            SessionExport(session_id="a", state=State(session_id="b"), updated_at=now)
        )
    with pytest.raises(InvalidInput):
        await target.restore_session(  # the state's tenant differs
            SessionExport(
                session_id="a", tenant_id="t", state=State(session_id="a"), updated_at=now
            )
        )
    with pytest.raises(InvalidInput):
        await target.restore_session({"session_id": "a"})  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        await target.export_sessions(after="")
    with pytest.raises(InvalidInput):
        await target.export_sessions(limit=0)
    assert (await target.export_sessions()).items == []


def test_session_export_needs_aware_times_and_normalizes_them_to_utc() -> None:
    plus2 = datetime(2026, 1, 1, 12, tzinfo=UTC).astimezone(timezone(timedelta(hours=2)))
    item = SessionExport(session_id="s", state=State(session_id="s"), updated_at=plus2)
    assert item.updated_at.tzinfo is UTC
    assert item.updated_at.hour == 12
    with pytest.raises(ValueError, match="timezone-aware"):
        SessionExport(session_id="s", state=State(session_id="s"), updated_at=datetime(2026, 1, 1))


async def test_a_store_without_export_refuses_both_before_any_io() -> None:
    class NoExport(InMemoryCheckpointStore):
        capabilities = InMemoryCheckpointStore.capabilities.model_copy(update={"export": False})

    store = NoExport()
    item = SessionExport(session_id="s", state=State(session_id="s"), updated_at=datetime.now(UTC))
    with pytest.raises(UnsupportedCapability):
        await store.export_sessions()
    with pytest.raises(UnsupportedCapability):
        await store.restore_session(item)
    assert await store.get("s") is None


# -- memory --------------------------------------------------------------------------------------


async def _all_records(store: InMemoryVectorMemory, *, limit: int) -> list[RecordExport]:
    out: list[RecordExport] = []
    after: str | None = None
    while True:
        page = await store.export_records(after=after, limit=limit)
        out += page.items
        if page.next_cursor is None:
            return out
        after = page.next_cursor


async def _populated(n: int = 7) -> InMemoryVectorMemory:
    store = InMemoryVectorMemory(dim=64)
    await store.save_many(
        [
            MemoryItem(f"note {i} about {'cats' if i % 2 else 'dogs'}", f"s{i % 3}", {"i": i})
            for i in range(n)
        ]
    )
    return store


async def test_export_records_pages_in_id_order_with_unit_vectors() -> None:
    store = await _populated()
    for limit in (1, 2, 3, 500):
        got = await _all_records(store, limit=limit)
        ids = [r.id for r in got]
        assert ids == sorted(ids)
        assert len(set(ids)) == 7
    for r in got:
        assert r.vector is not None
        assert len(r.vector) == 64
        assert math.isclose(math.hypot(*r.vector), 1.0, rel_tol=1e-9)
        assert await store.get(r.id) == MemoryRecord(**r.model_dump(exclude={"vector"}))


async def test_restore_records_keeps_ids_ts_sessions_metadata_and_vectors() -> None:
    source = await _populated()
    target = InMemoryVectorMemory(dim=64, namespace="copy")
    exported = await _all_records(source, limit=3)
    restored = await target.restore_records(exported)
    assert [r.id for r in restored] == [r.id for r in exported]
    assert await _all_records(target, limit=500) == exported
    for sid in ("s0", "s1", "s2"):
        assert await target.load(sid) == await source.load(sid)
    [hit] = await target.search("note 3 about cats", k=1)
    assert hit.record == await source.get(hit.id)
    assert hit.score == pytest.approx(1.0)
    # Idempotent: a second restore replaces, it does not double.
    await target.restore_records(exported)
    assert await _all_records(target, limit=500) == exported


async def test_restore_records_embeds_when_told_or_when_the_vector_does_not_fit() -> None:
    source = await _populated(3)
    exported = await _all_records(source, limit=500)
    odd = InMemoryVectorMemory(dim=32)  # another dimension: the vectors cannot be used
    await odd.restore_records(exported)
    for r in await _all_records(odd, limit=500):
        assert r.vector == (await HashEmbedder(32).embed_many([r.content]))[0]
    fake = [r.model_copy(update={"vector": [1.0] + [0.0] * 63}) for r in exported]
    same = InMemoryVectorMemory(dim=64)
    await same.restore_records(fake, reembed=True)
    for r in await _all_records(same, limit=500):
        assert r.vector != fake[0].vector
    await same.restore_records(fake)  # used as given, but normalised
    scaled = [r.model_copy(update={"vector": [3.0] + [0.0] * 63}) for r in exported]
    await same.restore_records(scaled)
    assert {tuple(r.vector or ()) for r in await _all_records(same, limit=500)} == {
        tuple(fake[0].vector or ())
    }
    plain = [MemoryRecord(**r.model_dump(exclude={"vector"})) for r in exported]
    other = InMemoryVectorMemory(dim=64)
    await other.restore_records(plain)
    assert await _all_records(other, limit=500) == exported


async def test_restore_records_is_all_or_none() -> None:
    exported = await _all_records(await _populated(3), limit=500)
    target = InMemoryVectorMemory(dim=64)
    bad_vector = [*exported[:2], exported[2].model_copy(update={"vector": [math.nan] * 64})]
    twice = [*exported, exported[0]]
    blank = [*exported[:2], exported[2].model_copy(update={"content": " "})]
    for batch in (bad_vector, twice, blank, [*exported, "text"]):
        with pytest.raises(InvalidInput):
            await target.restore_records(batch)  # type: ignore[arg-type]
    assert (await target.export_records()).items == []
    assert await target.restore_records([]) == []


async def test_memory_without_export_refuses() -> None:
    store = BufferMemory()
    with pytest.raises(UnsupportedCapability):
        await store.export_records()
    with pytest.raises(UnsupportedCapability):
        await store.restore_records([MemoryRecord(id="x", content="y")])
