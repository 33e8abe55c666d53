"""Checkpoint `prune`: removing sessions last written before a time."""

from __future__ import annotations

import asyncio
from datetime import datetime
from functools import partial

from spine_core import InvalidInput, State
from spine_core._records import utc_now
from spine_testing._check import check
from spine_testing.checks._data import utc
from spine_testing.context import CheckContext
from spine_testing.expect import expect, expect_equal, expect_raises


@check("checkpoint", "prune")
async def prune_removes_only_old(ctx: CheckContext) -> None:
    """`prune(before=t)` deletes sessions last put before t, returns how many, keeps the rest."""
    store = await ctx.store()
    await ctx.require_isolation(store)
    old = [ctx.sid(f"old{i}") for i in range(3)]
    refreshed = ctx.sid("refreshed")
    for sid in [*old, refreshed]:
        await store.put(State(session_id=sid))
    await asyncio.sleep(0.02)
    cut = utc_now()
    await asyncio.sleep(0.02)
    new = ctx.sid("new")
    await store.put(State(session_id=new))
    await store.put(State(session_id=refreshed, step=2))  # updated since: survives
    count = await store.prune(before=cut)
    expect_equal(count, 3, "prune's count of removed sessions")
    for sid in old:
        expect(await store.get(sid) is None, f"old session {sid} survived prune")
    expect(await store.get(new) is not None, "a session put after the cut-off was pruned")
    expect(await store.get(refreshed) is not None, "a session updated after the cut-off was pruned")
    expect_equal(await store.prune(before=cut), 0, "a second prune with the same cut-off")


@check("checkpoint", "prune")
async def prune_validates(ctx: CheckContext) -> None:
    """`prune` needs an aware datetime (naive, str, None raise InvalidInput); nothing is deleted."""
    store = await ctx.store()
    sid = ctx.sid("prune-keep")
    await store.put(State(session_id=sid))
    for bad in (datetime(2000, 1, 1), "2000-01-01T00:00:00Z", None, 946684800):
        await expect_raises(
            InvalidInput, partial(store.prune, before=bad), f"prune(before={bad!r})"
        )
    count = await store.prune(before=utc(2000))
    expect(isinstance(count, int) and not isinstance(count, bool), f"prune returned {count!r}")
    expect(await store.get(sid) is not None, "a recent session was deleted by invalid prunes")
