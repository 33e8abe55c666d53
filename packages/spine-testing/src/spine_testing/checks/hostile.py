"""Hostile-input checks (issue 14): inputs every store must refuse the same way, writing nothing.

One ttl range, tenant ids, states that would not read back, non-finite vectors, deep nesting,
`save_many` of a dict and objects that are not embedders. Each check looks before and after
that nothing was written: a store that raises but has already written fails.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from functools import partial
from typing import Any

from spine_core import ConfigError, InvalidInput, Message, State
from spine_core.validation import MAX_JSON_DEPTH, MAX_TTL_SECONDS
from spine_testing.context import CheckContext
from spine_testing.expect import CheckFailed, expect, expect_equal, expect_raises, short
from spine_testing.registry import check

_TINY = 5e-324
"""The smallest subnormal float: a vector of it has a norm whose inverse overflows."""


def _nested(depth: int) -> dict[str, Any]:
    root: dict[str, Any] = {}
    cur = root
    for _ in range(depth - 1):
        cur["a"] = {}
        cur = cur["a"]
    return root


async def _nothing_written(
    ctx: CheckContext, store: Any, session_id: str, what: str, tenant: str | None = None
) -> None:
    got = await store.get(session_id)
    expect(got is None, f"{what} wrote the session anyway: get returned {short(got)}")
    if tenant is not None and ctx.advertises("list_sessions"):
        page = await store.list_sessions(tenant_id=tenant)
        listed = [s.session_id for s in page.sessions]
        expect(session_id not in listed, f"{what} left the session listed")


# -- checkpoint ------------------------------------------------------------------------------


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
        await _nothing_written(ctx, store, fresh, what, tenant)
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
    s.scratch["deep"] = _nested(100_000)


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
                await _nothing_written(ctx, store, target, f"put of {label}", tenant)
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
        await _nothing_written(ctx, store, sid, f"put with tenant_id={bad!r:.20}")
        if ctx.advertises("list_sessions"):
            await expect_raises(
                InvalidInput,
                partial(store.list_sessions, tenant_id=bad),
                f"list_sessions(tenant_id={bad!r:.20})",
            )


# -- memory ----------------------------------------------------------------------------------


class _TinyEmbedder:
    """8-d vectors; any text containing `poison` embeds as a subnormal vector.

    Speaks both embedder shapes (one text or a batch), so it fits any store's calling side.
    """

    dimension = dim = 8

    def __init__(self, poison: str) -> None:
        self.poison = poison
        self.name = f"kit-tiny-{poison}"

    def _one(self, text: str) -> list[float]:
        if self.poison in text:
            return [_TINY] + [0.0] * 7
        words = (text.split() + ["pad"] * 8)[:8]
        return [1.0 + zlib.crc32(w.encode()) % 7 for w in words]

    async def embed(self, text: str | Sequence[str]) -> Any:
        if isinstance(text, str):
            return self._one(text)
        return [self._one(t) for t in text]

    async def embed_many(self, texts: Sequence[str]) -> list[list[float]]:
        return [self._one(t) for t in texts]


async def _isolated(ctx: CheckContext, **options: Any) -> Any:
    await ctx.need_option("embedder", why="memory stores take an embedder")
    if await ctx.target.accepts("namespace"):
        options.setdefault("namespace", ctx.fresh_namespace())
    return await ctx.store(**options)


@check("memory", "validation")
async def non_finite_vectors_refused(ctx: CheckContext) -> None:
    """An embedder vector that cannot be normalised to finite numbers raises InvalidInput.

    `[5e-324, 0, …]`: 1/norm overflows, so the unit vector would be `[inf, nan, …]`.
    Nothing is written, and a search with such a query is refused too.
    """
    poison = ctx.token()
    memory = await _isolated(ctx, embedder=_TinyEmbedder(poison))
    sid = ctx.sid("subnormal")
    await memory.save(f"{ctx.token()} an ordinary text", session_id=sid)
    await expect_raises(
        InvalidInput,
        partial(memory.save, f"{poison} subnormal", session_id=sid),
        "save of a text whose vector is subnormal",
    )
    await expect_raises(
        InvalidInput,
        partial(memory.search, f"{poison} query"),
        "search with a query whose vector is subnormal",
    )
    records = await memory.load(sid)
    expect_equal(len(records), 1, "records after the refused save")
    expect(poison not in records[0].content, "the refused record was written")


@check("memory", "validation")
async def deep_metadata_refused(ctx: CheckContext) -> None:
    """Metadata nested deeper than MAX_JSON_DEPTH (100) raises InvalidInput; writes nothing."""
    memory = await ctx.store()
    sid = ctx.sid("deep")
    token = ctx.token()
    for depth in (MAX_JSON_DEPTH + 1, 100_000):
        await expect_raises(
            InvalidInput,
            partial(memory.save, f"{token} deep", session_id=sid, metadata=_nested(depth)),
            f"save with metadata nested {depth} levels",
        )
    expect_equal(await memory.load(sid), [], "records after refused deep metadata")
    # The deepest metadata allowed is stored and read back whole.
    record = await memory.save(f"{token} deepest", session_id=sid, metadata=_nested(MAX_JSON_DEPTH))
    [loaded] = await memory.load(sid)
    expect_equal(loaded.metadata, record.metadata, f"metadata nested {MAX_JSON_DEPTH} levels")


@check("memory", "save_many")
async def save_many_needs_a_list(ctx: CheckContext) -> None:
    """`save_many` of a dict, None, a str or bytes raises InvalidInput and writes nothing."""
    memory = await ctx.store()
    sid = ctx.sid("save-many-dict")
    token = ctx.token()
    for bad in ({"content": f"{token} hello", "session_id": sid}, None, f"{token} text", b"x"):
        await expect_raises(InvalidInput, partial(memory.save_many, bad), f"save_many({bad!r:.40})")
    expect_equal(await memory.load(sid), [], "records after refused save_many calls")
    # A dict iterates as its keys: a store that took it would have saved "content".
    hits = await memory.search(f"{token} hello content session_id", k=10)
    leaked = [
        h.record.content
        for h in hits
        if token in h.record.content or h.record.content in ("content", "session_id")
    ]
    expect(not leaked, f"save_many of a dict wrote records: {short(leaked)}")


@check("memory", "validation")
async def non_embedder_refused(ctx: CheckContext) -> None:
    """An `embedder=` that is not an embedder (a str, a number, a class) is a ConfigError."""
    await ctx.need_option("embedder", why="memory stores take an embedder")
    for bad in ("x", 5, _TinyEmbedder):
        try:
            store = await ctx.store(embedder=bad)
        except ConfigError:
            continue
        except Exception as exc:
            raise CheckFailed(f"embedder={bad!r:.40} raised {type(exc).__name__}: {exc}") from exc
        raise CheckFailed(f"a store was built with embedder={bad!r:.40} ({short(store)})")
