"""Checkpoint-store checks (DESIGN.md §3 and §4).

Base checks run against every store; the others only when their capability is advertised.
Decisions the contract leaves to the kit, mirroring the reference store:
- a put without ``ttl`` uses the store's ``default_ttl`` (None: never expires), so a plain
  put after a ttl put makes the session permanent again;
- ``list_sessions`` orders by session id in code-point order (= UTF-8 byte order);
- ``prune(before=...)`` compares against each session's last put, by the writer's UTC clock.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from datetime import datetime
from functools import partial
from typing import Any

from spine_core import (
    CheckpointCapabilities,
    ConflictError,
    InvalidInput,
    Message,
    Role,
    State,
    dump_state,
)
from spine_core.records import utc_now
from spine_testing.checks import _common
from spine_testing.checks._data import UNICODE_TEXTS, big_state, rich_state, unicode_ids, utc
from spine_testing.context import CheckContext
from spine_testing.expect import (
    CheckFailed,
    expect,
    expect_equal,
    expect_raises,
    expect_same_state,
    short,
)
from spine_testing.registry import check

# -- base ------------------------------------------------------------------------------------


@check("checkpoint")
async def missing_is_none(ctx: CheckContext) -> None:
    """`get` of a session that was never written returns None."""
    store = await ctx.store()
    got = await store.get(ctx.sid("missing"))
    expect(got is None, f"get of a never-written session returned {short(got)}")


@check("checkpoint")
async def roundtrip_exact(ctx: CheckContext) -> None:
    """`put` then `get` returns an equal State (every field, nested scratch, aware datetimes)."""
    store = await ctx.store()
    state = rich_state(ctx.sid("roundtrip"), tenant_id=ctx.tenant())
    await store.put(state)
    got = await store.get(state.session_id)
    expect_same_state(got, state, "get after put")
    expect_equal(dump_state(got), dump_state(state), "serialized form after a round trip")


@check("checkpoint", "fidelity")
async def unknown_fields_preserved(ctx: CheckContext) -> None:
    """Fields a newer writer added (State extra fields) survive a round trip."""
    store = await ctx.store()
    state = State.model_validate(
        {
            "session_id": ctx.sid("extra"),
            "future_field": {"added_in": "v2", "values": [1, 2]},
            "messages": [{"role": "user", "content": "hi", "vendor_field": "kept"}],
        }
    )
    await store.put(state)
    got = await store.get(state.session_id)
    expect_same_state(got, state, "get of a state with unknown fields")
    expect_equal(got.model_extra, state.model_extra, "unknown top-level fields")


@check("checkpoint")
async def overwrite_updates(ctx: CheckContext) -> None:
    """A second put replaces the whole state (including removed fields), it does not merge."""
    store = await ctx.store()
    sid = ctx.sid("overwrite")
    first = rich_state(sid, step=1)
    second = State(session_id=sid, step=2, scratch={"only": "this"})
    await store.put(first)
    await store.put(second)
    expect_same_state(await store.get(sid), second, "get after an overwrite")


@check("checkpoint")
async def delete_removes(ctx: CheckContext) -> None:
    """`delete` makes `get` return None; the session can be created again afterwards."""
    store = await ctx.store()
    sid = ctx.sid("delete")
    await store.put(rich_state(sid))
    await store.delete(sid)
    got = await store.get(sid)
    expect(got is None, f"get after delete returned {short(got)}")
    again = State(session_id=sid, step=9)
    await store.put(again)
    expect_same_state(await store.get(sid), again, "get after re-creating a deleted session")


@check("checkpoint")
async def delete_missing_noop(ctx: CheckContext) -> None:
    """`delete` of a missing session is a no-op (no error), also twice in a row."""
    store = await ctx.store()
    sid = ctx.sid("delete-missing")
    await store.delete(sid)
    await store.delete(sid)
    expect(await store.get(sid) is None, "a deleted missing session exists")


@check("checkpoint")
async def sessions_isolated(ctx: CheckContext) -> None:
    """Sessions do not affect each other: writes and deletes touch only their own session."""
    store = await ctx.store()
    a, b = ctx.sid("iso-a"), ctx.sid("iso-b")
    prefix = ctx.track_session(a[:-1])  # a prefix of another id is a different session
    sa, sb = State(session_id=a, step=1), State(session_id=b, step=2)
    await store.put(sa)
    await store.put(sb)
    expect_same_state(await store.get(a), sa, "session a")
    expect_same_state(await store.get(b), sb, "session b")
    expect(await store.get(prefix) is None, "a prefix of a stored session id reads as present")
    await store.put(State(session_id=prefix, step=3))
    await store.delete(a)
    expect_same_state(await store.get(b), sb, "session b after deleting session a")
    expect(await store.get(a) is None, "deleted session a is still present")
    got = await store.get(prefix)
    expect(got is not None and got.step == 3, "deleting a session removed another one")


@check("checkpoint", "fidelity")
async def special_character_ids(ctx: CheckContext) -> None:
    """Session ids with key, glob, SQL-pattern and quoting characters are plain ids."""
    store = await ctx.store()
    base = ctx.sid("chars")
    suffixes = [":", "/", "*", "?", "[ab]", "%", "_", "\\", "'", '"', " ", "\n", "\t", "{x}", "."]
    ids = [ctx.track_session(base + s) for s in suffixes]
    for i, sid in enumerate(ids):
        await store.put(State(session_id=sid, step=i))
    for i, sid in enumerate(ids):
        got = await store.get(sid)
        expect(
            got is not None and got.session_id == sid and got.step == i,
            f"session {sid!r} read back {short(got)}",
        )
    await store.delete(ids[2])  # '*' must not act as a wildcard
    for i, sid in enumerate(ids):
        present = await store.get(sid) is not None
        expect(present == (i != 2), f"after deleting {ids[2]!r}, {sid!r} present={present}")


@check("checkpoint", "fidelity")
async def get_returns_fresh_copy(ctx: CheckContext) -> None:
    """`get` returns a new object each time; mutating it does not change the stored state."""
    store = await ctx.store()
    state = rich_state(ctx.sid("fresh"))
    await store.put(state)
    first = await store.get(state.session_id)
    second = await store.get(state.session_id)
    expect(first is not second, "two gets returned the same object")
    expect(first is not state, "get returned the object that was put")
    first.scratch["mutated"] = True
    first.messages.append(Message(role=Role.USER, content="mutated"))
    first.usage.input_tokens = -1
    first.step = 999
    expect_same_state(await store.get(state.session_id), state, "get after mutating a result")


@check("checkpoint", "fidelity")
async def put_snapshots_state(ctx: CheckContext) -> None:
    """`put` stores a snapshot: mutating the State after put does not change what is stored."""
    store = await ctx.store()
    state = rich_state(ctx.sid("snapshot"))
    snapshot = state.model_copy(deep=True)
    await store.put(state)
    state.scratch["after_put"] = 1
    state.messages.clear()
    state.step += 1
    expect_same_state(await store.get(state.session_id), snapshot, "get after mutating the input")


@check("checkpoint", "fidelity")
async def unicode_everywhere(ctx: CheckContext) -> None:
    """Unicode session ids (CJK, RTL, emoji, combining), tenants and content round-trip."""
    store = await ctx.store()
    ids = [ctx.track_session(sid) for sid in unicode_ids(ctx.token())]
    states = [
        State(
            session_id=sid,
            tenant_id=f"テナント-{i}",
            messages=[Message(role=Role.USER, content=text) for text in UNICODE_TEXTS],
            scratch={text[:12]: text for text in UNICODE_TEXTS},
        )
        for i, sid in enumerate(ids)
    ]
    for state in states:
        await store.put(state)
    for state in states:
        expect_same_state(await store.get(state.session_id), state, f"{state.session_id!r}")
    await store.delete(ids[0])
    expect(await store.get(ids[0]) is None, f"{ids[0]!r} still present after delete")
    expect_same_state(await store.get(ids[1]), states[1], "a neighbour of a deleted unicode id")


@check("checkpoint", "fidelity")
async def session_id_limits(ctx: CheckContext) -> None:
    """A 256-character session id (ASCII or multi-byte) is valid and round-trips."""
    store = await ctx.store()
    token = ctx.token()
    ascii_id = ctx.track_session((token + "a" * 256)[:256])
    wide_id = ctx.track_session((token + "界" * 256)[:256])
    for sid in (ascii_id, wide_id):
        state = State(session_id=sid, step=len(sid))
        await store.put(state)
        expect_same_state(await store.get(sid), state, f"the 256-character id {sid[:20]!r}…")


@check("checkpoint", "validation")
async def invalid_session_id_rejected(ctx: CheckContext) -> None:
    """Empty, 257-character, NUL and non-str session ids raise InvalidInput; nothing is written."""
    store = await ctx.store()
    base = ctx.sid("bad")
    too_long = base + "x" * (257 - len(base))
    with_nul = base + "\x00tail"
    for bad in ("", too_long, with_nul):
        label = repr(bad[:24]) + ("…" if len(bad) > 24 else "")
        await expect_raises(
            InvalidInput, partial(store.put, State(session_id=bad)), f"put with id {label}"
        )
        await expect_raises(InvalidInput, partial(store.get, bad), f"get with id {label}")
        await expect_raises(InvalidInput, partial(store.delete, bad), f"delete with id {label}")
    for bad_type in (None, 123, b"bytes"):
        await expect_raises(InvalidInput, partial(store.get, bad_type), f"get with id {bad_type!r}")
        await expect_raises(
            InvalidInput, partial(store.delete, bad_type), f"delete with id {bad_type!r}"
        )
    # A store that truncates or strips instead of refusing would have written these:
    for written in (too_long[:256], base, base + "tail"):
        ctx.track_session(written)
        got = await store.get(written)
        expect(got is None, f"a rejected put wrote session {written[:40]!r}")


@check("checkpoint", "validation")
async def bad_state_rejected(ctx: CheckContext) -> None:
    """A state with NaN/Infinity or NUL raises InvalidInput; the stored state stays as it was."""
    store = await ctx.store()
    sid = ctx.sid("bad-state")
    good = rich_state(sid)
    await store.put(good)
    revision = await store.revision(sid) if ctx.advertises("revisions") else None

    def nan_scratch(s: State) -> None:
        s.scratch["value"] = math.nan

    def inf_cost(s: State) -> None:
        s.usage.cost_usd = math.inf

    def nul_content(s: State) -> None:
        s.messages.append(Message(role=Role.USER, content="before\x00after"))

    def nul_key(s: State) -> None:
        s.scratch["key\x00"] = 1

    for label, mutate in (
        ("NaN in scratch", nan_scratch),
        ("Infinity in usage", inf_cost),
        ("NUL in a message", nul_content),
        ("NUL in a scratch key", nul_key),
    ):
        bad = good.model_copy(deep=True)
        mutate(bad)
        await expect_raises(InvalidInput, partial(store.put, bad), f"put of a state with {label}")
        expect_same_state(
            await store.get(sid), good, f"stored state after a rejected put ({label})"
        )
        fresh = bad.model_copy(update={"session_id": ctx.sid("bad-new")})
        await expect_raises(InvalidInput, partial(store.put, fresh), f"put with {label}")
        got = await store.get(fresh.session_id)
        expect(got is None, f"a rejected put ({label}) created the session")
    if revision is not None:
        expect_equal(await store.revision(sid), revision, "revision after rejected puts")


@check("checkpoint", "fidelity")
async def large_state(ctx: CheckContext) -> None:
    """A ~2 MB state round-trips exactly and can be replaced by a small one."""
    store = await ctx.store()
    sid = ctx.sid("large")
    state = big_state(sid)
    await store.put(state)
    expect_same_state(await store.get(sid), state, "get of a ~2 MB state")
    small = State(session_id=sid, step=1)
    await store.put(small)
    expect_same_state(await store.get(sid), small, "a small state replacing a large one")


@check("checkpoint", "fidelity")
async def many_sessions(ctx: CheckContext) -> None:
    """150 sessions are each stored and deleted independently."""
    store = await ctx.store()
    states = [State(session_id=ctx.sid(f"many{i:03d}"), step=i) for i in range(150)]
    for state in states:
        await store.put(state)
    for state in states:
        expect_same_state(await store.get(state.session_id), state, state.session_id)
    for state in states[::2]:
        await store.delete(state.session_id)
    for i, state in enumerate(states):
        present = await store.get(state.session_id) is not None
        expect(present == bool(i % 2), f"{state.session_id} present={present} after deletes")


@check("checkpoint", "concurrency")
async def concurrent_puts_distinct_sessions(ctx: CheckContext) -> None:
    """Concurrent puts to different sessions (several store instances) all land intact."""
    writers = await ctx.writers(4)
    states = [rich_state(ctx.sid(f"conc{i:02d}"), step=i) for i in range(40)]
    await asyncio.gather(*(writers[i % 4].put(s) for i, s in enumerate(states)))
    got = await asyncio.gather(
        *(writers[(i + 1) % 4].get(s.session_id) for i, s in enumerate(states))
    )
    for state, read in zip(states, got, strict=True):
        expect_same_state(read, state, f"concurrently written {state.session_id}")


@check("checkpoint", "concurrency")
async def concurrent_puts_same_session(ctx: CheckContext) -> None:
    """Concurrent puts to one session without expected_revision leave exactly one writer's state."""
    writers = await ctx.writers(4)
    sid = ctx.sid("race")
    states = [
        State(
            session_id=sid,
            step=i,
            messages=[Message(role=Role.USER, content=f"writer {i} " + "x" * 2000)] * (1 + i % 3),
            scratch={"writer": i, "payload": [i] * 200},
        )
        for i in range(16)
    ]
    await asyncio.gather(*(writers[i % 4].put(s) for i, s in enumerate(states)))
    final = await writers[0].get(sid)
    expect(isinstance(final, State), f"after concurrent puts get returned {short(final)}")
    writer = final.scratch.get("writer")
    expect(isinstance(writer, int) and 0 <= writer < 16, f"unknown writer {writer!r}")
    assert isinstance(writer, int)
    expect_same_state(final, states[writer], "the state left by concurrent puts (corrupt mix)")


@check("checkpoint", "honesty")
async def capabilities_descriptor(ctx: CheckContext) -> None:
    """`capabilities` is a frozen CheckpointCapabilities and every advertised operation exists."""
    await _common.capabilities_descriptor(
        ctx,
        CheckpointCapabilities,
        {
            "revisions": ("revision", None),
            "list_sessions": ("list_sessions", None),
            "prune": ("prune", None),
        },
    )
    store = await ctx.store()
    caps = ctx.caps
    for capability in ("revisions", "ttl"):
        if getattr(caps, capability):
            keyword = "expected_revision" if capability == "revisions" else "ttl"
            expect(
                _common.accepts_keywords(store.put, {keyword: None}),
                f"{capability!r} is advertised but put() takes no {keyword}= argument",
            )


@check("checkpoint", "honesty")
async def unadvertised_ops_raise(ctx: CheckContext) -> None:
    """Every optional operation not advertised raises UnsupportedCapability and writes nothing."""
    store = await ctx.store()
    caps = ctx.checkpoint_caps
    sid = ctx.sid("honesty")
    if not caps.revisions:
        await _common.must_refuse(store, "revision", (sid,), {}, "revisions")
        state = State(session_id=sid)
        await _common.must_refuse(store, "put", (state,), {"expected_revision": 0}, "revisions")
    if not caps.ttl:
        await _common.must_refuse(store, "put", (State(session_id=sid),), {"ttl": 60}, "ttl")
    if not caps.revisions or not caps.ttl:
        got = await store.get(sid)
        expect(got is None, "a put with an unsupported option wrote the session")
    if not caps.list_sessions:
        await _common.must_refuse(store, "list_sessions", (), {}, "list_sessions")
    if not caps.prune:
        # Year 2000: even a store that wrongly prunes deletes nothing anyone wrote.
        await _common.must_refuse(store, "prune", (), {"before": utc(2000)}, "prune")
    if caps.advertised() == frozenset(CheckpointCapabilities.optional_names()):
        ctx.note("every optional operation is advertised")


@check("checkpoint", "honesty")
async def info_and_registration(ctx: CheckContext) -> None:
    """`info()`/`health()` describe the store, and its backend name resolves in the registry."""
    await _common.info_and_registration(ctx)


@check("checkpoint", "honesty")
async def lifecycle(ctx: CheckContext) -> None:
    """`async with` and `aclose` work, `aclose` is idempotent, a closed store reopens on use."""
    sid = ctx.sid("lifecycle")
    state = State(session_id=sid, step=1)

    async def use(store: Any) -> None:
        await store.put(state)
        expect_same_state(await store.get(sid), state, "get inside the store's lifecycle")

    await _common.lifecycle(ctx, use)


# -- property: durable, concurrent_writers ------------------------------------------------


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


# -- revisions -----------------------------------------------------------------------------


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


# -- ttl -------------------------------------------------------------------------------------

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


# -- list_sessions -------------------------------------------------------------------------


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


# -- prune -----------------------------------------------------------------------------------


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
