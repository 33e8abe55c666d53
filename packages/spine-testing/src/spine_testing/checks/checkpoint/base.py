"""Checkpoint checks every store runs (the guides' contract and the groups of `GROUPS`).

Validation, fidelity, concurrency and honesty (capabilities, `info()`, the lifecycle).
"""

from __future__ import annotations

import asyncio
import math
from functools import partial
from typing import Any

from spine_core import (
    CheckpointCapabilities,
    InvalidInput,
    Message,
    Role,
    SessionExport,
    State,
    dump_state,
)
from spine_testing._check import check
from spine_testing.checks import _common
from spine_testing.checks._data import (
    UNICODE_TEXTS,
    big_state,
    nested,
    rich_state,
    unicode_ids,
    utc,
)
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
    if not (isinstance(writer, int) and 0 <= writer < 16):
        raise CheckFailed(f"unknown writer {writer!r}")
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
            "export": ("export_sessions", None),
        },
    )
    store = await ctx.store()
    caps = ctx.caps
    if caps.export:
        expect(
            callable(getattr(store, "restore_session", None)),
            "'export' is advertised but the store has no restore_session() method",
        )
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
    if not caps.export:
        await _common.must_refuse(store, "export_sessions", (), {"limit": 1}, "export")
        item = SessionExport(session_id=sid, state=State(session_id=sid), updated_at=utc(2000))
        await _common.must_refuse(store, "restore_session", (item,), {}, "export")
        got = await store.get(sid)
        expect(got is None, "a refused restore_session wrote the session")
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


def _surrogate_key(s: State) -> None:
    s.scratch["\ud800"] = 1


def _step_assigned_a_str(s: State) -> None:
    s.step = "abc"  # type: ignore[assignment]


def _message_appended_a_str(s: State) -> None:
    s.messages.append("x")  # type: ignore[arg-type]


def _future_version(s: State) -> None:
    s.version = 99


def _old_version(s: State) -> None:
    s.version = 0


def _deep_scratch(s: State) -> None:
    s.scratch["deep"] = nested(100_000)


@check("checkpoint", "validation")
async def unreadable_state_refused(ctx: CheckContext) -> None:
    """A state that would not read back equal raises InvalidInput on put and writes nothing.

    Lone-surrogate keys, fields assigned after construction with the wrong type, another
    version than STATE_VERSION and nesting 100,000 levels deep.
    """
    store = await ctx.store()
    sid, tenant = ctx.sid("unreadable"), ctx.tenant()
    kept = State(session_id=sid, tenant_id=tenant, messages=[Message.user("kept")])
    await store.put(kept)
    for label, mutate in (
        ("a lone-surrogate dict key", _surrogate_key),
        ("step assigned a str", _step_assigned_a_str),
        ("a str appended to messages", _message_appended_a_str),
        ("version 99", _future_version),
        ("version 0", _old_version),
        ("scratch nested 100,000 levels", _deep_scratch),
    ):
        for target in (sid, ctx.sid("unreadable-new")):
            bad = State(session_id=target, tenant_id=tenant, messages=[Message.user("bad")])
            mutate(bad)
            await expect_raises(InvalidInput, partial(store.put, bad), f"put of {label}")
            if target != sid:
                await nothing_written(ctx, store, target, f"put of {label}", tenant)
        got = await store.get(sid)
        expect(got == kept, f"a refused put ({label}) changed the stored state: {short(got)}")


@check("checkpoint", "validation")
async def tenant_ids_checked(ctx: CheckContext) -> None:
    """A tenant id with NUL, a lone surrogate or over 256 characters raises InvalidInput.

    On `put` (nothing written) and, when advertised, on `list_sessions`.
    """
    store = await ctx.store()
    for bad in ("t\x00", "\ud800", "t" * 257):
        sid = ctx.sid("tenant")
        await expect_raises(
            InvalidInput,
            partial(store.put, State.model_construct(session_id=sid, tenant_id=bad)),
            f"put with tenant_id={bad!r:.20}",
        )
        await nothing_written(ctx, store, sid, f"put with tenant_id={bad!r:.20}")
        if ctx.advertises("list_sessions"):
            await expect_raises(
                InvalidInput,
                partial(store.list_sessions, tenant_id=bad),
                f"list_sessions(tenant_id={bad!r:.20})",
            )
