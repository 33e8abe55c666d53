"""Checkpoint `ttl`: expiry per put and by the store's `default_ttl`, and the ttl range."""

from __future__ import annotations

import asyncio
import math
import time
from functools import partial

from spine_core import InvalidInput, State
from spine_core._validation import MAX_TTL_SECONDS
from spine_testing._check import check
from spine_testing.checks.checkpoint._shared import nothing_written
from spine_testing.context import CheckContext
from spine_testing.expect import (
    CheckFailed,
    expect,
    expect_equal,
    expect_raises,
    expect_same_state,
    short,
)

_TTL = 0.6
_PAST_TTL = 1.2


@check("checkpoint", "ttl")
async def ttl_expires(ctx: CheckContext) -> None:
    """A session put with ttl reads as missing once it expired; a longer ttl keeps it."""
    store = await ctx.store()
    short_id, long_id = ctx.sid("ttl-short"), ctx.sid("ttl-long")
    tenant = ctx.tenant()
    started = time.monotonic()
    await store.put(State(session_id=short_id, tenant_id=tenant), ttl=_TTL)
    await store.put(State(session_id=long_id, tenant_id=tenant), ttl=60)
    early = await store.get(short_id) is None
    # Only a miss that came before the ttl ran out is a failure (a loaded machine may stall).
    expect(
        not (early and time.monotonic() - started < _TTL),
        "a session with a ttl is missing at once",
    )
    await asyncio.sleep(_PAST_TTL)
    got = await store.get(short_id)
    expect(got is None, f"a session read back {_PAST_TTL}s after a {_TTL}s ttl")
    expect(await store.get(long_id) is not None, "a session with a 60 s ttl expired early")
    if ctx.advertises("revisions"):
        expect_equal(await store.revision(short_id), 0, "revision of an expired session")
    if ctx.advertises("list_sessions"):
        page = await store.list_sessions(tenant_id=tenant)
        listed = [s.session_id for s in page.sessions]
        expect_equal(listed, [long_id], "sessions listed after one expired")


@check("checkpoint", "ttl")
async def ttl_cleared_by_plain_put(ctx: CheckContext) -> None:
    """A later put without ttl uses the store default (none): the session no longer expires."""
    store = await ctx.store()
    sid = ctx.sid("ttl-clear")
    await store.put(State(session_id=sid, step=1), ttl=_TTL)
    kept = State(session_id=sid, step=2)
    await store.put(kept)
    await asyncio.sleep(_PAST_TTL)
    expect_same_state(await store.get(sid), kept, "a session re-put without ttl")


@check("checkpoint", "ttl")
async def default_ttl(ctx: CheckContext) -> None:
    """A store opened with default_ttl expires puts without ttl; an explicit ttl overrides it."""
    await ctx.need_option("default_ttl", why="the ttl capability includes a store-level default")
    store = await ctx.store(default_ttl=_TTL)
    by_default, explicit = ctx.sid("ttl-default"), ctx.sid("ttl-explicit")
    await store.put(State(session_id=by_default))
    await store.put(State(session_id=explicit), ttl=60)
    await asyncio.sleep(_PAST_TTL)
    expect(await store.get(by_default) is None, "default_ttl did not expire a plain put")
    expect(await store.get(explicit) is not None, "an explicit ttl did not override default_ttl")


@check("checkpoint", "ttl")
async def ttl_invalid_rejected(ctx: CheckContext) -> None:
    """A `ttl` of 0, negative, NaN, Infinity, bool or str raises InvalidInput; nothing written."""
    store = await ctx.store()
    sid, fresh = ctx.sid("ttl-bad"), ctx.sid("ttl-bad-new")
    kept = State(session_id=sid, step=1)
    await store.put(kept)
    for bad in (0, -1, math.nan, math.inf, True, "5"):
        await expect_raises(
            InvalidInput,
            partial(store.put, State(session_id=sid, step=2), ttl=bad),
            f"put with ttl={bad!r}",
        )
        await expect_raises(
            InvalidInput,
            partial(store.put, State(session_id=fresh), ttl=bad),
            f"put of a new session with ttl={bad!r}",
        )
    expect_same_state(await store.get(sid), kept, "state after puts with invalid ttls")
    expect(await store.get(fresh) is None, "a put with an invalid ttl created the session")
    if await ctx.target.accepts("default_ttl"):
        try:
            bad_store = await ctx.store(default_ttl=-1)
            await bad_store.get(sid)
        except InvalidInput:
            pass
        else:
            raise CheckFailed("a store with default_ttl=-1 was accepted")


@check("checkpoint", "ttl")
async def ttl_range(ctx: CheckContext) -> None:
    """A `ttl` above ten years raises InvalidInput and writes nothing; ten years is accepted."""
    store = await ctx.store()
    sid, tenant = ctx.sid("ttl-range"), ctx.tenant()
    kept = State(session_id=sid, tenant_id=tenant, step=1)
    await store.put(kept)
    for bad in (MAX_TTL_SECONDS + 1, 1e13, 1e17, 2**63, 10**400):
        fresh = ctx.sid("ttl-range-new")
        what = f"put with ttl={bad!r:.12}"
        state = State(session_id=fresh, tenant_id=tenant)
        await expect_raises(InvalidInput, partial(store.put, state, ttl=bad), what)
        await nothing_written(ctx, store, fresh, what, tenant)
        await expect_raises(
            InvalidInput,
            partial(store.put, State(session_id=sid, tenant_id=tenant, step=2), ttl=bad),
            f"overwrite with ttl={bad!r:.12}",
        )
    got = await store.get(sid)
    expect(got == kept, f"a refused ttl changed the stored state: {short(got)}")
    longest = ctx.sid("ttl-longest")
    await store.put(State(session_id=longest, step=7), ttl=MAX_TTL_SECONDS)
    got = await store.get(longest)
    expect(
        got is not None and got.step == 7,
        f"put with the longest ttl ({MAX_TTL_SECONDS} s) did not store: {short(got)}",
    )
