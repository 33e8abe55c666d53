"""Checkpoint properties, tested when advertised: `durable` and `concurrent_writers`.

A reopened store reads what a closed one wrote; store instances, and processes, write at once.
"""

from __future__ import annotations

import asyncio
from typing import Any

from spine_core import State
from spine_testing import crossprocess
from spine_testing._check import check
from spine_testing.checks._data import rich_state
from spine_testing.context import CheckContext
from spine_testing.expect import CheckSkipped, NotAdvertised, expect, expect_same_state, short
from spine_testing.factories import target_url


@check("checkpoint", "durable")
async def reopen_keeps_data(ctx: CheckContext) -> None:
    """A new store object from the same options reads what a closed one wrote."""
    first = await ctx.store()
    state = rich_state(ctx.sid("durable"))
    await first.put(state)
    await first.aclose()
    second = await ctx.store()
    expect_same_state(await second.get(state.session_id), state, "get from a reopened store")


@check("checkpoint", "concurrent_writers")
async def concurrent_instances_no_corruption(ctx: CheckContext) -> None:
    """Eight store instances writing at once: every session ends as one writer's complete state."""
    writers = await ctx.writers(8)
    shared = ctx.sid("multi")
    own = [ctx.sid(f"multi{i}") for i in range(8)]

    async def write(i: int) -> None:
        for round_ in range(5):
            state = State(session_id=shared, step=round_, scratch={"writer": i, "blob": [i] * 300})
            await writers[i].put(state)
            await writers[i].put(State(session_id=own[i], step=round_, scratch={"writer": i}))

    await asyncio.gather(*(write(i) for i in range(8)))
    final = await writers[3].get(shared)
    expect(isinstance(final, State), f"shared session read back {short(final)}")
    writer = final.scratch.get("writer")
    expect(
        isinstance(writer, int) and final.scratch.get("blob") == [writer] * 300,
        "shared session holds a mix of writers' states",
    )
    for i, sid in enumerate(own):
        got = await writers[(i + 1) % 8].get(sid)
        expect(
            got is not None and got.step == 4 and got.scratch == {"writer": i},
            f"session {sid} ended as {short(got)}",
        )


@check("checkpoint", "concurrent_writers")
async def cas_across_processes(ctx: CheckContext) -> None:
    """Four writer processes doing compare-and-set on one counter lose no update."""
    url = target_url(ctx.target.factory)
    if url is None:
        raise CheckSkipped(
            "needs a URL target (`spine check URL`, or run_conformance(factory_for(URL, "
            "'checkpoint'))): other processes cannot open an in-process factory's store"
        )
    if not ctx.advertises("revisions"):
        raise NotAdvertised("revisions")
    options: dict[str, Any] = {}
    if ctx.namespace is not None and await ctx.target.accepts("namespace"):
        options["namespace"] = ctx.namespace
    await crossprocess.cas_across_processes(url, options, processes=4, increments=10)
