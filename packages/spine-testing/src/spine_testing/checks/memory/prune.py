"""Memory `prune`: removing records older than a time."""

from __future__ import annotations

import asyncio
from datetime import datetime
from functools import partial

from spine_core import InvalidInput
from spine_core._records import now_ts, utc_now
from spine_testing._check import check
from spine_testing.checks._data import utc
from spine_testing.context import CheckContext
from spine_testing.expect import expect, expect_equal, expect_raises, short


@check("memory", "prune")
async def prune_session(ctx: CheckContext) -> None:
    """prune(session_id=sid) deletes that session's records only and returns how many."""
    memory = await ctx.store()
    a, b = ctx.sid("prune-a"), ctx.sid("prune-b")
    token = ctx.token()
    for i in range(3):
        await memory.save(f"{token} a{i}", session_id=a)
    in_b = [await memory.save(f"{token} b{i}", session_id=b) for i in range(2)]
    loose = await memory.save(f"{token} no session")
    expect_equal(await memory.prune(session_id=a), 3, "count pruned from session a")
    expect_equal(await memory.load(a), [], "session a after prune")
    expect_equal([r.id for r in await memory.load(b)], [r.id for r in in_b], "session b")
    hits = await memory.search(loose.content, k=1)
    expect(hits and hits[0].record.id == loose.id, "a record without session was pruned")
    expect_equal(await memory.prune(session_id=a), 0, "second prune of session a")
    if ctx.advertises("forget"):
        await memory.forget(loose.id)


@check("memory", "prune")
async def prune_before(ctx: CheckContext) -> None:
    """`prune(before=t)` deletes records saved before t across sessions, returns how many."""
    memory = await ctx.store()
    await ctx.require_isolation(memory)
    a, b = ctx.sid("old-a"), ctx.sid("old-b")
    token = ctx.token()
    await memory.save(f"{token} old a", session_id=a)
    await memory.save(f"{token} old b", session_id=b)
    await asyncio.sleep(0.02)
    cut = utc_now()
    await asyncio.sleep(0.02)
    new = await memory.save(f"{token} new a", session_id=a)
    expect_equal(await memory.prune(before=cut), 2, "count pruned before the cut-off")
    expect_equal([r.id for r in await memory.load(a)], [new.id], "session a after prune(before)")
    expect_equal(await memory.load(b), [], "session b after prune(before)")


@check("memory", "prune")
async def prune_session_and_before(ctx: CheckContext) -> None:
    """`prune(session_id=s, before=t)` deletes only that session's older records (t: epoch s)."""
    memory = await ctx.store()
    a, b = ctx.sid("both-a"), ctx.sid("both-b")
    token = ctx.token()
    await memory.save(f"{token} a old", session_id=a)
    b_old = await memory.save(f"{token} b old", session_id=b)
    await asyncio.sleep(0.02)
    cut = now_ts()
    await asyncio.sleep(0.02)
    a_new = await memory.save(f"{token} a new", session_id=a)
    expect_equal(await memory.prune(session_id=a, before=cut), 1, "count pruned")
    expect_equal([r.id for r in await memory.load(a)], [a_new.id], "session a")
    expect_equal([r.id for r in await memory.load(b)], [b_old.id], "session b (other session)")


@check("memory", "prune")
async def prune_requires_argument(ctx: CheckContext) -> None:
    """`prune()` with no argument, a naive datetime or a bad session raises; deletes nothing."""
    memory = await ctx.store()
    sid = ctx.sid("prune-keep")
    kept = await memory.save(f"{ctx.token()} keep me", session_id=sid)
    await expect_raises(InvalidInput, lambda: memory.prune(), "prune() with no argument")
    for kwargs in (
        {"before": datetime(2999, 1, 1)},
        {"before": "2999-01-01"},
        {"session_id": ""},
        {"session_id": "a\x00b"},
    ):
        await expect_raises(
            InvalidInput, partial(memory.prune, **kwargs), f"prune({short(kwargs, 40)})"
        )
    expect_equal(await memory.prune(before=utc(2000)), 0, "prune(before=2000-01-01)")
    expect_equal([r.id for r in await memory.load(sid)], [kept.id], "records after bad prunes")
