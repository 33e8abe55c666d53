"""Checkpoint `list_sessions`: pages per tenant, in code-point order of session id."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from spine_core import InvalidInput, State
from spine_testing._check import check
from spine_testing.context import CheckContext
from spine_testing.expect import CheckFailed, expect, expect_equal, expect_raises, short


async def _list_all(
    store: Any, *, tenant_id: str | None, limit: int, cursor: str | None = None
) -> list[Any]:
    infos: list[Any] = []
    for _ in range(1000):
        page = await store.list_sessions(tenant_id=tenant_id, limit=limit, cursor=cursor)
        expect(len(page.sessions) <= limit, f"a page of limit {limit} has {len(page.sessions)}")
        infos.extend(page.sessions)
        if page.next_cursor is None:
            return infos
        expect(page.sessions, "an empty page carries a next_cursor (endless pagination)")
        cursor = page.next_cursor
    raise CheckFailed("list_sessions did not finish after 1000 pages")


@check("checkpoint", "list_sessions")
async def list_sessions_paginates(ctx: CheckContext) -> None:
    """Pages of a small limit cover every session exactly once, in ascending id order."""
    store = await ctx.store()
    tenant = ctx.tenant()
    ids = sorted(ctx.sid(f"page{i:02d}") for i in range(13))
    for sid in ids:
        await store.put(State(session_id=sid, tenant_id=tenant))
    infos = await _list_all(store, tenant_id=tenant, limit=5)
    expect_equal([i.session_id for i in infos], ids, "session ids over all pages")
    for info in infos:
        expect_equal(info.tenant_id, tenant, f"tenant_id of {info.session_id}")
        expect(
            isinstance(info.updated_at, datetime) and info.updated_at.tzinfo is not None,
            f"updated_at of {info.session_id} is not an aware datetime: {info.updated_at!r}",
        )
        if ctx.advertises("revisions") and info.revision is not None:
            expect_equal(info.revision, 1, f"revision listed for {info.session_id}")
    exact = await _list_all(store, tenant_id=tenant, limit=13)
    expect_equal([i.session_id for i in exact], ids, "one page of exactly all sessions")
    first = await store.list_sessions(tenant_id=tenant, limit=5)
    after = await store.list_sessions(tenant_id=tenant, limit=5, cursor=ids[4])
    expect_equal(first.next_cursor, ids[4], "next_cursor (the last id of the page)")
    expect_equal([i.session_id for i in after.sessions], ids[5:10], "the page after a cursor")


@check("checkpoint", "list_sessions")
async def list_sessions_codepoint_order(ctx: CheckContext) -> None:
    """Sessions are ordered by code point (UTF-8 byte order), not by a locale collation."""
    store = await ctx.store()
    tenant = ctx.tenant()
    base = ctx.sid("order")
    suffixes = ["a", "B", "b", "Z", "_", "-", "0", "~", "é", "Ω", "中", "\uff21", "😀", " "]
    ids = [ctx.track_session(f"{base}-{s}") for s in suffixes]
    for sid in ids:
        await store.put(State(session_id=sid, tenant_id=tenant))
    infos = await _list_all(store, tenant_id=tenant, limit=4)
    expect_equal([i.session_id for i in infos], sorted(ids), "order of listed session ids")


@check("checkpoint", "list_sessions")
async def list_sessions_tenant_filter(ctx: CheckContext) -> None:
    """`tenant_id=` lists only that tenant's sessions; unfiltered lists every tenant's."""
    store = await ctx.store()
    t1, t2 = ctx.tenant(), ctx.tenant()
    base = ctx.sid("tenant")
    plan = [("1", t1), ("2", t2), ("3", t1), ("4", None), ("5", t2), ("6", t1)]
    ids = {n: ctx.track_session(f"{base}-{n}") for n, _ in plan}
    for n, tenant in plan:
        await store.put(State(session_id=ids[n], tenant_id=tenant))
    only_t1 = [i.session_id for i in await _list_all(store, tenant_id=t1, limit=2)]
    expect_equal(only_t1, [ids["1"], ids["3"], ids["6"]], "sessions of tenant 1")
    only_t2 = [i.session_id for i in await _list_all(store, tenant_id=t2, limit=100)]
    expect_equal(only_t2, [ids["2"], ids["5"]], "sessions of tenant 2")
    page = await store.list_sessions(limit=6, cursor=base)  # our ids sort right after `base`
    listed = {i.session_id: i.tenant_id for i in page.sessions}
    expect_equal(
        listed, {ids[n]: t for n, t in plan}, "unfiltered page after a cursor (with tenants)"
    )


@check("checkpoint", "list_sessions")
async def list_sessions_validates(ctx: CheckContext) -> None:
    """A `limit` outside 1..100000 or not an int, and a malformed cursor, raise InvalidInput."""
    store = await ctx.store()
    for bad in (0, -1, True, 1.5, "5", 100_001):
        await expect_raises(
            InvalidInput,
            partial(store.list_sessions, limit=bad),
            f"list_sessions(limit={bad!r})",
        )
    for cursor in ("", "a\x00b", "x" * 257):
        await expect_raises(
            InvalidInput,
            partial(store.list_sessions, cursor=cursor),
            f"list_sessions(cursor={cursor[:10]!r})",
        )


@check("checkpoint", "list_sessions")
async def list_sessions_stable_under_inserts(ctx: CheckContext) -> None:
    """Paginating while sessions are inserted yields no duplicates and misses no old session."""
    store = await ctx.store()
    tenant = ctx.tenant()
    base = ctx.sid("stable")
    old = [ctx.track_session(f"{base}-{i:02d}") for i in range(0, 40, 2)]
    for sid in old:
        await store.put(State(session_id=sid, tenant_id=tenant))
    seen: list[str] = []
    cursor: str | None = None
    for inserted in range(100):
        page = await store.list_sessions(tenant_id=tenant, limit=3, cursor=cursor)
        seen.extend(i.session_id for i in page.sessions)
        # New sessions both before and after the cursor, while the listing is in progress.
        for n in (inserted * 2 + 1, 39 - inserted * 2):
            if 0 < n < 40:
                sid = ctx.track_session(f"{base}-{n:02d}")
                await store.put(State(session_id=sid, tenant_id=tenant))
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    else:
        raise CheckFailed("pagination did not finish")
    expect(len(seen) == len(set(seen)), f"duplicates while paginating: {short(seen)}")
    expect(seen == sorted(seen), "pages were not in ascending order while inserting")
    missing = sorted(set(old) - set(seen))
    expect(not missing, f"sessions present before paginating were skipped: {short(missing)}")


@check("checkpoint", "list_sessions")
async def list_sessions_skips_deleted(ctx: CheckContext) -> None:
    """Deleted sessions are not listed; an empty tenant lists nothing."""
    store = await ctx.store()
    tenant = ctx.tenant()
    ids = sorted(ctx.sid(f"gone{i}") for i in range(3))
    for sid in ids:
        await store.put(State(session_id=sid, tenant_id=tenant))
    await store.delete(ids[1])
    listed = [i.session_id for i in await _list_all(store, tenant_id=tenant, limit=10)]
    expect_equal(listed, [ids[0], ids[2]], "sessions listed after a delete")
    empty = await store.list_sessions(tenant_id=ctx.tenant())
    expect_equal(list(empty.sessions), [], "sessions of an unused tenant")
    expect(empty.next_cursor is None, "an empty listing has a next_cursor")
