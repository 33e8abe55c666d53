"""Checkpoint `revisions`: revision numbers and compare-and-set puts."""

from __future__ import annotations

import asyncio
import random
from functools import partial
from typing import Any

from spine_core import ConflictError, InvalidInput, State
from spine_testing._check import check
from spine_testing.checks._data import rich_state
from spine_testing.context import CheckContext
from spine_testing.expect import CheckFailed, expect, expect_equal, expect_raises, expect_same_state


@check("checkpoint", "revisions")
async def revision_zero_when_missing(ctx: CheckContext) -> None:
    """`revision` of a missing session is 0."""
    store = await ctx.store()
    expect_equal(await store.revision(ctx.sid("rev-missing")), 0, "revision of a missing session")


@check("checkpoint", "revisions")
async def revision_counts_puts(ctx: CheckContext) -> None:
    """Each put increments the session's revision by one; other sessions are unaffected."""
    store = await ctx.store()
    sid, other = ctx.sid("rev"), ctx.sid("rev-other")
    for n in range(1, 4):
        await store.put(State(session_id=sid, step=n))
        expect_equal(await store.revision(sid), n, f"revision after {n} put(s)")
    expect_equal(await store.revision(other), 0, "revision of an untouched session")
    await store.put(State(session_id=sid, step=4), expected_revision=3)
    expect_equal(await store.revision(sid), 4, "revision after a compare-and-set put")


@check("checkpoint", "revisions")
async def revision_reset_after_delete(ctx: CheckContext) -> None:
    """`delete` resets the revision to 0; the next put makes it 1."""
    store = await ctx.store()
    sid = ctx.sid("rev-reset")
    await store.put(State(session_id=sid))
    await store.put(State(session_id=sid))
    await store.delete(sid)
    expect_equal(await store.revision(sid), 0, "revision after delete")
    await store.put(State(session_id=sid))
    expect_equal(await store.revision(sid), 1, "revision after re-creating the session")


@check("checkpoint", "revisions")
async def cas_succeeds_with_current_revision(ctx: CheckContext) -> None:
    """`put(expected_revision=<current>)` succeeds and stores the new state."""
    store = await ctx.store()
    sid = ctx.sid("cas-ok")
    await store.put(State(session_id=sid, step=1))
    current = await store.revision(sid)
    new = rich_state(sid, step=2)
    await store.put(new, expected_revision=current)
    expect_same_state(await store.get(sid), new, "state after a successful compare-and-set")
    expect_equal(await store.revision(sid), current + 1, "revision after compare-and-set")


@check("checkpoint", "revisions")
async def cas_conflict_writes_nothing(ctx: CheckContext) -> None:
    """`put` with a stale or future expected_revision raises ConflictError and changes nothing."""
    store = await ctx.store()
    sid = ctx.sid("cas-conflict")
    await store.put(State(session_id=sid, step=1))
    kept = State(session_id=sid, step=2)
    await store.put(kept)
    for wrong in (1, 3, 7):
        exc = await expect_raises(
            ConflictError,
            partial(store.put, State(session_id=sid, step=99), expected_revision=wrong),
            f"put with expected_revision={wrong} (stored revision is 2)",
        )
        expect(
            getattr(exc, "expected", wrong) == wrong,
            f"ConflictError.expected is {getattr(exc, 'expected', None)!r}, not {wrong}",
        )
        expect_same_state(await store.get(sid), kept, f"state after a conflict (expected {wrong})")
        expect_equal(await store.revision(sid), 2, f"revision after a conflict (expected {wrong})")


@check("checkpoint", "revisions")
async def cas_create_only_when_absent(ctx: CheckContext) -> None:
    """`expected_revision=0` creates a missing session and conflicts when it exists."""
    store = await ctx.store()
    sid = ctx.sid("cas-create")
    first = State(session_id=sid, step=1)
    await store.put(first, expected_revision=0)
    expect_same_state(await store.get(sid), first, "state created with expected_revision=0")
    await expect_raises(
        ConflictError,
        lambda: store.put(State(session_id=sid, step=2), expected_revision=0),
        "put with expected_revision=0 on an existing session",
    )
    expect_same_state(await store.get(sid), first, "state after a refused create")
    await store.delete(sid)
    await store.put(State(session_id=sid, step=3), expected_revision=0)
    expect_equal(await store.revision(sid), 1, "revision after create-if-absent on a deleted id")


@check("checkpoint", "revisions")
async def cas_invalid_expected_revision(ctx: CheckContext) -> None:
    """A negative, bool, float or str expected_revision raises InvalidInput; nothing is written."""
    store = await ctx.store()
    sid = ctx.sid("cas-invalid")
    for bad in (-1, True, 1.0, "1"):
        await expect_raises(
            InvalidInput,
            partial(store.put, State(session_id=sid), expected_revision=bad),
            f"put with expected_revision={bad!r}",
        )
    expect(await store.get(sid) is None, "a put with an invalid expected_revision wrote")


@check("checkpoint", "revisions")
async def cas_no_lost_update(ctx: CheckContext) -> None:
    """8 writers x 10 compare-and-set increments (retrying conflicts) lose no update."""
    writers = await ctx.writers(8)
    sid = ctx.sid("counter")
    await writers[0].put(State(session_id=sid, scratch={"counter": 0}))
    start = await writers[0].revision(sid)
    conflicts = 0
    rng = random.Random(8)  # noqa: S311 - retry jitter, not security

    async def increment(store: Any) -> None:
        nonlocal conflicts
        for _ in range(10):
            for _attempt in range(500):
                # Revision first: if the state read is newer, the put below conflicts.
                revision = await store.revision(sid)
                state = await store.get(sid)
                await asyncio.sleep(0)  # let the other writers interleave
                counter = state.scratch["counter"]
                if not isinstance(counter, int):
                    raise CheckFailed(f"the counter read back as {counter!r}")
                state.scratch["counter"] = counter + 1
                try:
                    await store.put(state, expected_revision=revision)
                    break
                except ConflictError:
                    conflicts += 1
                    await asyncio.sleep(rng.random() * 0.002)
            else:
                raise CheckFailed("a writer made no progress in 500 compare-and-set attempts")

    await asyncio.gather(*(increment(w) for w in writers))
    final = await writers[0].get(sid)
    counter = final.scratch.get("counter") if final else None
    expect_equal(counter, 80, "counter after 80 compare-and-set increments (lost updates)")
    expect_equal(await writers[0].revision(sid), start + 80, "revision after 80 increments")
    ctx.note(f"{conflicts} conflicts retried")
