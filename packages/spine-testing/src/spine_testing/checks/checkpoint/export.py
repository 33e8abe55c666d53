"""Checkpoint `export`: every live session with what rebuilds it, and restoring it elsewhere."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from spine_core import ConflictError, InvalidInput, SessionExport, State
from spine_testing._check import check
from spine_testing.checks._data import rich_state
from spine_testing.context import CheckContext
from spine_testing.expect import (
    CheckFailed,
    expect,
    expect_equal,
    expect_raises,
    expect_same_state,
    short,
)

_TTL = 3600.0
"""The ttl of the sessions that expire (long: nothing may expire while a check runs)."""
_SLACK = 2.0
"""Seconds a remaining ttl may differ from the clock's (storage precision, two clocks)."""
_SAME_TIME = timedelta(milliseconds=1)
"""How far a restored `updated_at` may be from the exported one (storage precision)."""


async def export_all(
    store: Any, *, tenant_id: str | None, limit: int, after: str | None = None
) -> list[SessionExport]:
    """Every exported session, page by page, checking each page's shape."""
    items: list[SessionExport] = []
    for _ in range(1000):
        page = await store.export_sessions(tenant_id=tenant_id, after=after, limit=limit)
        expect(len(page.items) <= limit, f"an export page of limit {limit} has {len(page.items)}")
        items.extend(page.items)
        if page.next_cursor is None:
            return items
        expect(page.items, "an empty export page carries a next_cursor (endless pagination)")
        expect_equal(page.next_cursor, page.items[-1].session_id, "next_cursor (the last id)")
        after = page.next_cursor
    raise CheckFailed("export_sessions did not finish after 1000 pages")


async def _populate(ctx: CheckContext, store: Any, tenant: str) -> dict[str, tuple[State, float]]:
    """Sessions of `tenant` with odd ids, some with a ttl, one put twice; the ttls used."""
    base = ctx.sid("export")
    suffixes = ["a", "B", "é", "中", "😀", "~", "0"]
    made: dict[str, tuple[State, float]] = {}
    for i, suffix in enumerate(suffixes):
        sid = ctx.track_session(f"{base}-{suffix}")
        state = rich_state(sid, tenant_id=tenant, step=i)
        ttl = _TTL if ctx.advertises("ttl") and i % 2 else 0.0
        if ttl:
            await store.put(state, ttl=ttl)
        else:
            await store.put(state)
        made[sid] = (state, ttl)
    twice = sorted(made)[0]
    state = made[twice][0].model_copy(update={"step": 99})
    await store.put(state)  # no ttl: it never expires now
    made[twice] = (state, 0.0)
    gone = ctx.sid("export-gone")
    await store.put(State(session_id=gone, tenant_id=tenant))
    await store.delete(gone)
    return made


def _expect_remaining(item: SessionExport, ttl: float, elapsed: float, what: str) -> None:
    if not ttl:
        expect(item.expires_at is None, f"{what}: a session without ttl has {item.expires_at!r}")
        return
    if item.expires_at is None:
        raise CheckFailed(f"{what}: a session put with ttl={ttl} exports expires_at=None")
    remaining = (item.expires_at - datetime.now(UTC)).total_seconds()
    expect(
        ttl - elapsed - _SLACK <= remaining <= ttl + _SLACK,
        f"{what}: {remaining:.1f}s of ttl remain, expected about {ttl:.0f}s "
        f"({elapsed:.1f}s after the put)",
    )


@check("checkpoint", "export")
async def export_sessions_pages(ctx: CheckContext) -> None:
    """Pages cover each live session once in code-point order, with state, tenant and times."""
    store = await ctx.store()
    tenant = ctx.tenant()
    started = time.monotonic()
    made = await _populate(ctx, store, tenant)
    ids = sorted(made)
    for limit in (1, 3, 100):
        items = await export_all(store, tenant_id=tenant, limit=limit)
        expect_equal([i.session_id for i in items], ids, f"exported ids (limit {limit})")
    elapsed = time.monotonic() - started
    listed = {}
    if ctx.advertises("list_sessions"):
        page = await store.list_sessions(tenant_id=tenant, limit=100)
        listed = {s.session_id: s for s in page.sessions}
    for item in items:
        sid = item.session_id
        expect(isinstance(item, SessionExport), f"export item {short(item)}")
        state, ttl = made[sid]
        expect_same_state(item.state, state, f"exported state of {sid!r}")
        expect_equal(item.tenant_id, tenant, f"exported tenant of {sid!r}")
        expect(
            item.updated_at.tzinfo is not None and item.updated_at.utcoffset() == timedelta(0),
            f"updated_at of {sid!r} is not aware UTC: {item.updated_at!r}",
        )
        if sid in listed:
            expect_equal(item.updated_at, listed[sid].updated_at, f"updated_at of {sid!r}")
        if ctx.advertises("revisions") and item.revision is not None:
            want = 2 if state.step == 99 else 1
            expect_equal(item.revision, want, f"exported revision of {sid!r}")
        _expect_remaining(item, ttl, elapsed, f"expires_at of {sid!r}")
    # Unfiltered, after a cursor: our ids sort right after their common prefix.
    prefix = ids[0].rsplit("-", 1)[0]
    page = await store.export_sessions(after=prefix, limit=len(ids))
    expect_equal([i.session_id for i in page.items], ids, "unfiltered export after a cursor")
    empty = await store.export_sessions(tenant_id=ctx.tenant())
    expect((empty.items, empty.next_cursor) == ([], None), "export of an unused tenant")


@check("checkpoint", "export")
async def export_sessions_validates(ctx: CheckContext) -> None:
    """A bad `limit`, `after` or tenant raises InvalidInput; so does a mismatched restore."""
    store = await ctx.store()
    for bad in (0, -1, True, "5", 100_001):
        await expect_raises(
            InvalidInput, partial(store.export_sessions, limit=bad), f"export(limit={bad!r})"
        )
    for after in ("", "a\x00b", "x" * 257):
        await expect_raises(
            InvalidInput,
            partial(store.export_sessions, after=after),
            f"export(after={after!r:.12})",
        )
    await expect_raises(
        InvalidInput, partial(store.export_sessions, tenant_id="t\x00"), "tenant with NUL"
    )
    sid = ctx.sid("export-bad")
    now = datetime.now(UTC)
    other = SessionExport(session_id=sid, state=State(session_id=ctx.sid()), updated_at=now)
    await expect_raises(InvalidInput, partial(store.restore_session, other), "another's state")
    await expect_raises(
        InvalidInput, partial(store.restore_session, {"session_id": sid}), "a dict as the item"
    )
    expect(await store.get(sid) is None, "a refused restore wrote the session")


async def _target(ctx: CheckContext, source: Any) -> tuple[Any, bool]:
    """A store to restore into: another namespace when the factory takes one, else `source`.

    The flag says whether the target is `source` itself (sessions must be deleted first).
    """
    if await ctx.target.accepts("namespace"):
        return await ctx.store(namespace=ctx.fresh_namespace()), False
    ctx.note("the factory takes no namespace: restored into the same store after a delete")
    return source, True


@check("checkpoint", "export")
async def restore_session_round_trips(ctx: CheckContext) -> None:
    """Restored sessions read back equal, with their tenant, `updated_at` and remaining ttl."""
    source = await ctx.store()
    tenant = ctx.tenant()
    started = time.monotonic()
    made = await _populate(ctx, source, tenant)
    # Exported a day earlier: a store that stamps restored sessions with now is caught.
    exported = [
        item.model_copy(update={"updated_at": item.updated_at - timedelta(days=1, seconds=n)})
        for n, item in enumerate(await export_all(source, tenant_id=tenant, limit=4))
    ]
    target, same = await _target(ctx, source)
    try:
        if same:
            for item in exported:
                await source.delete(item.session_id)
        for item in exported:
            wrote = await target.restore_session(item)
            expect(wrote is True, f"restore_session of {item.session_id!r} returned {wrote!r}")
        restored = await export_all(target, tenant_id=tenant, limit=100)
        elapsed = time.monotonic() - started
        expect_equal(
            [i.session_id for i in restored],
            [i.session_id for i in exported],
            "sessions exported from the target",
        )
        for old, new in zip(exported, restored, strict=True):
            sid = old.session_id
            expect_same_state(await target.get(sid), old.state, f"get of restored {sid!r}")
            expect_same_state(new.state, old.state, f"re-exported state of {sid!r}")
            expect_equal(new.tenant_id, old.tenant_id, f"tenant of restored {sid!r}")
            expect(
                abs(new.updated_at - old.updated_at) <= _SAME_TIME,
                f"updated_at of restored {sid!r}: {new.updated_at} != {old.updated_at}",
            )
            _expect_remaining(new, made[sid][1], elapsed, f"expires_at of restored {sid!r}")
            if ctx.advertises("revisions"):
                expect_equal(await target.revision(sid), 1, f"revision of restored {sid!r}")
        if ctx.advertises("list_sessions"):
            page = await target.list_sessions(tenant_id=tenant, limit=100)
            for info, old in zip(page.sessions, exported, strict=True):
                expect(
                    abs(info.updated_at - old.updated_at) <= _SAME_TIME,
                    f"list_sessions shows updated_at {info.updated_at} for restored "
                    f"{info.session_id!r}, exported {old.updated_at}",
                )
    finally:
        if not same:
            for item in exported:
                await target.delete(item.session_id)


@check("checkpoint", "export")
async def restore_session_conflicts(ctx: CheckContext) -> None:
    """A restore onto a present session raises ConflictError unless `overwrite`; expired skip."""
    store = await ctx.store()
    sid = ctx.sid("restore-conflict")
    tenant = ctx.tenant()
    mine = State(session_id=sid, tenant_id=tenant, step=1)
    await store.put(mine)
    theirs = State(session_id=sid, tenant_id=tenant, step=2, scratch={"from": "export"})
    old = datetime(2020, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    item = SessionExport(session_id=sid, tenant_id=tenant, state=theirs, updated_at=old)
    await expect_raises(ConflictError, partial(store.restore_session, item), "restore onto a put")
    expect_same_state(await store.get(sid), mine, "the session after a refused restore")
    for attempt in (1, 2):  # overwriting twice leaves the same session
        wrote = await store.restore_session(item, overwrite=True)
        expect(wrote is True, f"restore_session(overwrite=True) #{attempt} returned {wrote!r}")
        expect_same_state(await store.get(sid), theirs, f"the session after overwrite #{attempt}")
    [got] = await export_all(store, tenant_id=tenant, limit=10)
    expect(abs(got.updated_at - old) <= _SAME_TIME, f"updated_at {got.updated_at} != {old}")
    gone = ctx.sid("restore-expired")
    past = datetime.now(UTC) - timedelta(seconds=1)
    expired = SessionExport(
        session_id=gone, state=State(session_id=gone), updated_at=past, expires_at=past
    )
    if ctx.advertises("ttl"):
        wrote = await store.restore_session(expired)
        expect(wrote is False, f"restore of an item expired since its export returned {wrote!r}")
        expect(await store.get(gone) is None, "an expired item was restored")
    fresh = ctx.sid("restore-new")
    new = SessionExport(session_id=fresh, state=State(session_id=fresh), updated_at=old)
    expect(await store.restore_session(new) is True, "restore of an absent session")
    expect_same_state(await store.get(fresh), new.state, "a session restored without overwrite")
