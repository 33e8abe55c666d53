"""Memory checks (DESIGN.md §3 and §4).

Every text carries a fresh token and every record a fresh session id, so the checks hold on a
namespace that also contains other data. Scores are compared with the cosine similarity the
kit computes itself from the store's embedder (the kit passes `HashEmbedder` explicitly).
"""

from __future__ import annotations

import asyncio
import math
import time
from datetime import datetime
from functools import partial
from typing import Any

from spine_core import (
    ConfigError,
    HashEmbedder,
    InvalidInput,
    MemoryCapabilities,
    MemoryHit,
    MemoryItem,
    MemoryRecord,
    cosine,
)
from spine_core.embedding import embed_texts
from spine_core.records import matches_filter, now_ts, utc_now
from spine_testing.checks import _common
from spine_testing.checks._data import UNICODE_TEXTS, rich_metadata, unicode_ids, utc
from spine_testing.context import CheckContext
from spine_testing.expect import (
    CheckSkipped,
    expect,
    expect_equal,
    expect_json_equal,
    expect_raises,
    short,
)
from spine_testing.registry import check

_EXACT = 1e-3
"""How close to 1 the score of a record whose text equals the query must be."""
_COSINE = 0.02
"""How far a score may be from the exact cosine (room for float32 and quantized indexes)."""
_TS = 1e-3
"""How far a timestamp read back may be from the one `save` returned (seconds; storage
precision)."""


def _expect_same_record(actual: object, expected: MemoryRecord, what: str) -> None:
    expect(
        isinstance(actual, MemoryRecord), f"{what}: expected a MemoryRecord, got {short(actual)}"
    )
    assert isinstance(actual, MemoryRecord)
    expect_equal(actual.id, expected.id, f"{what}: id")
    expect_equal(actual.content, expected.content, f"{what}: content")
    expect_equal(actual.session_id, expected.session_id, f"{what}: session_id")
    expect_json_equal(actual.metadata, expected.metadata, f"{what}: metadata")
    expect(
        isinstance(actual.ts, float) and abs(actual.ts - expected.ts) <= _TS,
        f"{what}: ts {actual.ts!r} differs from the saved {expected.ts!r}",
    )


def _contents(records: list[Any]) -> list[str]:
    return [r.content for r in records]


def _hit_contents(hits: list[Any]) -> list[str]:
    return [h.record.content for h in hits]


# -- base ------------------------------------------------------------------------------------


@check("memory")
async def save_returns_record(ctx: CheckContext) -> None:
    """`save` returns a MemoryRecord: id, ts (epoch seconds), content, session and metadata."""
    memory = await ctx.store()
    sid = ctx.sid("save")
    text = f"{ctx.token()} the first memory"
    meta = rich_metadata()
    before = time.time()
    record = await memory.save(text, session_id=sid, metadata=meta)
    expect(isinstance(record, MemoryRecord), f"save returned {short(record)}")
    expect(isinstance(record.id, str) and record.id, f"record id {record.id!r} is not a str")
    expect_equal(record.content, text, "content of the saved record")
    expect_equal(record.session_id, sid, "session_id of the saved record")
    expect_json_equal(record.metadata, meta, "metadata of the saved record")
    expect(isinstance(record.ts, float), f"ts {record.ts!r} is not epoch seconds (a float)")
    expect(abs(record.ts - before) < 600, f"ts {record.ts!r} is far from now ({before!r})")


@check("memory", "fidelity")
async def metadata_roundtrips(ctx: CheckContext) -> None:
    """Metadata (every JSON type, nested, unicode) reads back equal via load, search and get."""
    memory = await ctx.store()
    sid = ctx.sid("meta")
    text = f"{ctx.token()} metadata carrier"
    meta = rich_metadata()
    saved = await memory.save(text, session_id=sid, metadata=meta)
    expect_json_equal(saved.metadata, meta, "metadata returned by save")
    loaded = await memory.load(sid)
    expect_equal(len(loaded), 1, "records loaded")
    _expect_same_record(loaded[0], saved, "load")
    hits = await memory.search(text, k=1, session_id=sid)
    expect(hits, "search found nothing")
    _expect_same_record(hits[0].record, saved, "search hit")
    if ctx.advertises("get"):
        _expect_same_record(await memory.get(saved.id), saved, "get")
    empty = await memory.save(f"{ctx.token()} no metadata", session_id=sid)
    expect_json_equal(empty.metadata, {}, "metadata of a record saved without metadata")


@check("memory")
async def record_ids_unique(ctx: CheckContext) -> None:
    """Every save gets a new id, even for identical content (no deduplication)."""
    memory = await ctx.store()
    sid = ctx.sid("ids")
    text = f"{ctx.token()} same text every time"
    records = [await memory.save(text, session_id=sid) for _ in range(25)]
    ids = [r.id for r in records]
    expect_equal(len(set(ids)), 25, "distinct ids of 25 saves")
    loaded = await memory.load(sid, limit=100)
    expect_equal(sorted(r.id for r in loaded), sorted(ids), "ids loaded back")


@check("memory")
async def save_without_session(ctx: CheckContext) -> None:
    """A record saved without a session has session_id None and is found by an unscoped search."""
    memory = await ctx.store()
    text = f"{ctx.token()} belongs to no session"
    record = await memory.save(text)
    expect(record.session_id is None, f"session_id is {record.session_id!r}, not None")
    hits = await memory.search(text, k=3)
    expect(hits and hits[0].record.id == record.id, f"unscoped search returned {short(hits)}")
    expect(hits[0].record.session_id is None, "the hit's session_id is not None")
    if ctx.advertises("forget"):
        await memory.forget(record.id)


@check("memory")
async def search_exact_text_first(ctx: CheckContext) -> None:
    """A record whose text equals the query ranks first with score ≈ 1 (scoped and unscoped)."""
    memory = await ctx.store()
    sid = ctx.sid("exact")
    token = ctx.token()
    texts = [
        f"{token} the quick brown fox jumps over the lazy dog",
        f"{token} the quick brown fox",
        f"{token} a lazy dog sleeps all day",
        f"{token} quick quick quick brown",
        f"{token} jumps over the moon",
        f"{token} the quick brown fox jumps over the lazy cat",
    ]
    for text in texts:
        await memory.save(text, session_id=sid)
    for text in texts:
        for scope in (sid, None):
            hits = await memory.search(text, k=5, session_id=scope)
            where = "in its session" if scope else "unscoped"
            expect(hits, f"search for a stored text ({where}) found nothing")
            expect_equal(hits[0].record.content, text, f"top hit for its own text ({where})")
            expect(
                abs(hits[0].score - 1.0) <= _EXACT,
                f"score of an exact match is {hits[0].score!r}, not 1 ± {_EXACT} ({where})",
            )


@check("memory")
async def search_scores_valid(ctx: CheckContext) -> None:
    """Hits are MemoryHits with finite scores in [-1, 1], sorted descending; k is respected."""
    memory = await ctx.store()
    sid = ctx.sid("scores")
    token = ctx.token()
    for i in range(12):
        await memory.save(
            f"{token} note {i} about {'cats' if i % 2 else 'rockets'}", session_id=sid
        )
    query = f"{token} rockets and cats"
    for k, expected in ((1, 1), (3, 3), (12, 12), (50, 12)):
        hits = await memory.search(query, k=k, session_id=sid)
        expect_equal(len(hits), expected, f"number of hits for k={k} over 12 records")
        for hit in hits:
            expect(isinstance(hit, MemoryHit), f"search returned {short(hit)}")
            expect(
                isinstance(hit.score, float) and math.isfinite(hit.score),
                f"score {hit.score!r} is not a finite float",
            )
            expect(-1.0 <= hit.score <= 1.0, f"score {hit.score!r} is outside [-1, 1]")
        scores = [h.score for h in hits]
        expect(scores == sorted(scores, reverse=True), f"scores not descending: {scores}")
        expect_equal(len({h.record.id for h in hits}), len(hits), f"duplicate hits for k={k}")
    default = await memory.search(query, session_id=sid)
    expect_equal(len(default), 5, "number of hits with the default k")


@check("memory", "fidelity")
async def scores_are_cosine(ctx: CheckContext) -> None:
    """Each score is the cosine similarity of query and record vectors, not a distance."""
    embedder: Any = HashEmbedder()
    if await ctx.target.accepts("embedder"):
        memory = await ctx.store(embedder=embedder)
    else:
        memory = await ctx.store()
        embedder = getattr(memory, "embedder", None)
        if embedder is None:
            raise CheckSkipped("the factory takes no embedder= and the store exposes none")
    sid = ctx.sid("cosine")
    token = ctx.token()
    texts = [
        f"{token} solar panels on the roof",
        f"{token} solar power",
        "completely unrelated words here",
        "mitochondria powerhouse cell",
        "zyx wvu tsr",
        f"{token} the roof leaks when it rains",
    ]
    for text in texts:
        await memory.save(text, session_id=sid)
    query = f"{token} solar roof"
    vectors = await embed_texts(embedder, [query, *texts])
    expected = {t: cosine(vectors[0], v) for t, v in zip(texts, vectors[1:], strict=True)}
    hits = await memory.search(query, k=len(texts), session_id=sid)
    expect_equal(sorted(_hit_contents(hits)), sorted(texts), "records found")
    for hit in hits:
        want = expected[hit.record.content]
        expect(
            abs(hit.score - want) <= _COSINE,
            f"score {hit.score:.4f} for {hit.record.content!r} is not its cosine {want:.4f}",
        )


@check("memory")
async def search_session_scope(ctx: CheckContext) -> None:
    """`session_id=` restricts search to that session; None searches the whole namespace."""
    memory = await ctx.store()
    a, b = ctx.sid("scope-a"), ctx.sid("scope-b")
    token = ctx.token()
    in_a = [await memory.save(f"{token} alpha {i} shared words", session_id=a) for i in range(3)]
    in_b = [await memory.save(f"{token} beta {i} shared words", session_id=b) for i in range(3)]
    query = f"{token} beta 1 shared words"
    hits_a = await memory.search(query, k=10, session_id=a)
    expect_equal(
        sorted(h.record.id for h in hits_a), sorted(r.id for r in in_a), "hits scoped to session a"
    )
    hits_b = await memory.search(query, k=10, session_id=b)
    expect_equal(
        sorted(h.record.id for h in hits_b), sorted(r.id for r in in_b), "hits scoped to session b"
    )
    everywhere = await memory.search(query, k=10)
    ids = {h.record.id for h in everywhere}
    expect(
        {r.id for r in in_a + in_b} <= ids,
        "an unscoped search missed records of some sessions",
    )
    expect_equal(everywhere[0].record.id, in_b[1].id, "top unscoped hit")
    expect_equal(await memory.search(query, session_id=ctx.sid("unused")), [], "unused session")


@check("memory")
async def load_recent_chronological(ctx: CheckContext) -> None:
    """`load` returns the session's `limit` most recent records, oldest first (default 20)."""
    memory = await ctx.store()
    sid, other = ctx.sid("load"), ctx.sid("load-other")
    token = ctx.token()
    texts = [f"{token} entry {i:02d}" for i in range(30)]
    for i, text in enumerate(texts):
        await memory.save(text, session_id=sid)
        if i % 3 == 0:
            await memory.save(f"{token} other session {i}", session_id=other)
    expect_equal(_contents(await memory.load(sid, limit=7)), texts[-7:], "load(limit=7)")
    expect_equal(_contents(await memory.load(sid)), texts[-20:], "load() with the default limit")
    expect_equal(_contents(await memory.load(sid, limit=100)), texts, "load(limit=100)")
    expect_equal(_contents(await memory.load(sid, limit=1)), texts[-1:], "load(limit=1)")


@check("memory")
async def load_unknown_session_empty(ctx: CheckContext) -> None:
    """`load` of a session with no records returns an empty list."""
    memory = await ctx.store()
    expect_equal(await memory.load(ctx.sid("nothing")), [], "load of an unknown session")


@check("memory", "fidelity")
async def namespace_isolation(ctx: CheckContext) -> None:
    """Two namespaces on one target do not see each other's records (same session ids)."""
    await ctx.require_option("namespace", why="namespaces isolate stores sharing a server")
    first = await ctx.store(namespace=ctx.fresh_namespace())
    second = await ctx.store(namespace=ctx.fresh_namespace())
    sid = ctx.sid("ns")
    token = ctx.token()
    one = await first.save(f"{token} lives in the first namespace", session_id=sid)
    two = await second.save(f"{token} lives in the second namespace", session_id=sid)
    try:
        expect_equal([r.id for r in await first.load(sid)], [one.id], "load in namespace 1")
        expect_equal([r.id for r in await second.load(sid)], [two.id], "load in namespace 2")
        hits = await second.search(one.content, k=10)
        expect(all(h.record.id != one.id for h in hits), "namespace 2 found namespace 1's record")
        hits = await first.search(two.content, k=10)
        expect(all(h.record.id != two.id for h in hits), "namespace 1 found namespace 2's record")
    finally:
        if ctx.advertises("prune"):
            await first.prune(session_id=sid)
            await second.prune(session_id=sid)


@check("memory", "validation")
async def invalid_search_args(ctx: CheckContext) -> None:
    """A `k` <= 0 or not an int, an empty/NUL query and a bad session id raise InvalidInput."""
    memory = await ctx.store()
    for k in (0, -1, True, 1.5, "3"):
        await expect_raises(InvalidInput, partial(memory.search, "query", k=k), f"search(k={k!r})")
    for query in ("", "   ", "a\x00b"):
        await expect_raises(InvalidInput, partial(memory.search, query), f"search(query={query!r})")
    for sid in ("", "x" * 257, "a\x00b"):
        await expect_raises(
            InvalidInput,
            partial(memory.search, "query", session_id=sid),
            f"search(session_id={sid[:10]!r})",
        )


@check("memory", "validation")
async def invalid_save_rejected(ctx: CheckContext) -> None:
    """Bad content, non-JSON metadata or a bad session id raise InvalidInput; nothing is written."""
    memory = await ctx.store()
    sid = ctx.sid("bad-save")
    token = ctx.token()
    text = f"{token} rejected"
    cases: list[tuple[str, dict[str, Any]]] = [
        ("empty content", {"content": ""}),
        ("blank content", {"content": "  \n\t"}),
        ("NUL in content", {"content": f"{token} nul\x00byte"}),
        ("a set in metadata", {"metadata": {"tags": {"a", "b"}}}),
        ("an object in metadata", {"metadata": {"obj": object()}}),
        ("NaN in metadata", {"metadata": {"x": math.nan}}),
        ("Infinity in metadata", {"metadata": {"x": [math.inf]}}),
        ("NUL in metadata", {"metadata": {"x": "a\x00b"}}),
        ("an empty session id", {"session_id": ""}),
        ("a 257-character session id", {"session_id": "s" * 257}),
        ("NUL in the session id", {"session_id": f"{sid}\x00x"}),
        # Wrong Python types (a type checker would catch them) get the same typed error.
        ("non-str content", {"content": 12345}),
        ("a set as metadata", {"metadata": {"a", "b"}}),
        ("a list as metadata", {"metadata": ["a"]}),
        ("a non-str metadata key", {"metadata": {1: "one"}}),
        ("a non-str session id", {"session_id": 7}),
    ]
    for label, override in cases:
        kwargs: dict[str, Any] = {"content": text, "session_id": sid, "metadata": {"ok": 1}}
        kwargs.update(override)
        content = kwargs.pop("content")
        await expect_raises(
            InvalidInput, partial(memory.save, content, **kwargs), f"save with {label}"
        )
    expect_equal(await memory.load(sid), [], "records of the session after rejected saves")
    ctx.track_session(sid + "x")
    expect_equal(await memory.load(sid + "x"), [], "records under a NUL-stripped session id")
    hits = await memory.search(text, k=10)
    leaked = [h.record for h in hits if token in h.record.content]
    expect(not leaked, f"a rejected save was written: {short(leaked)}")


@check("memory", "validation")
async def invalid_load_args(ctx: CheckContext) -> None:
    """`load` with a bad session id or a limit outside 1..100000 raises InvalidInput."""
    memory = await ctx.store()
    for sid in ("", "x" * 257, "a\x00b", None, 5):
        await expect_raises(InvalidInput, partial(memory.load, sid), f"load({sid!r:.12})")
    for limit in (0, -1, True, 2.5, 100_001):
        await expect_raises(
            InvalidInput,
            partial(memory.load, ctx.sid("lim"), limit=limit),
            f"load(limit={limit!r})",
        )


@check("memory", "fidelity")
async def large_content(ctx: CheckContext) -> None:
    """A ~1 MB record round-trips exactly and can be found by search."""
    memory = await ctx.store()
    sid = ctx.sid("large")
    token = ctx.token()
    words = [f"w{i % 5000} 字{i % 97} é" for i in range(80_000)]
    text = f"{token} " + " ".join(words)
    record = await memory.save(text, session_id=sid, metadata={"size": len(text)})
    loaded = await memory.load(sid)
    expect(
        len(loaded) == 1 and loaded[0].content == text,
        f"a {len(text.encode())}-byte record did not read back exactly",
    )
    hits = await memory.search(f"{token} w1 w2 w3", k=1, session_id=sid)
    expect(hits and hits[0].record.id == record.id, "search did not find the large record")


@check("memory", "fidelity")
async def unicode_content(ctx: CheckContext) -> None:
    """Unicode content, session ids and metadata keys round-trip and match themselves exactly."""
    memory = await ctx.store()
    token = ctx.token()
    ids = [ctx.track_session(s) for s in unicode_ids(token)]
    saved = []
    for sid, text in zip(ids, UNICODE_TEXTS, strict=False):
        content = f"{text} {token}"
        saved.append(await memory.save(content, session_id=sid, metadata={text[:8]: text}))
    for record in saved:
        assert record.session_id is not None
        loaded = await memory.load(record.session_id)
        expect_equal(len(loaded), 1, f"records in session {record.session_id!r}")
        _expect_same_record(loaded[0], record, f"load of {record.session_id!r}")
        hits = await memory.search(record.content, k=1, session_id=record.session_id)
        expect(hits and hits[0].record.id == record.id, f"search for {record.content!r}")
        expect(abs(hits[0].score - 1.0) <= _EXACT, f"unicode exact match scored {hits[0].score}")


@check("memory", "concurrency")
async def concurrent_saves(ctx: CheckContext) -> None:
    """40 concurrent saves to one session are all stored, with unique ids, in ts order."""
    memory = await ctx.store()
    sid = ctx.sid("concurrent")
    token = ctx.token()
    texts = [f"{token} parallel {i}" for i in range(40)]
    records = await asyncio.gather(*(memory.save(t, session_id=sid) for t in texts))
    expect_equal(len({r.id for r in records}), 40, "distinct ids of 40 concurrent saves")
    loaded = await memory.load(sid, limit=100)
    expect_equal(sorted(_contents(loaded)), sorted(texts), "contents loaded back")
    stamps = [r.ts for r in loaded]
    expect(stamps == sorted(stamps), "load is not in chronological order")


@check("memory", "fidelity")
async def records_are_copies(ctx: CheckContext) -> None:
    """Mutating the metadata passed to save, or of any returned record, changes nothing stored."""
    memory = await ctx.store()
    sid = ctx.sid("copies")
    text = f"{ctx.token()} copy semantics"
    meta: dict[str, Any] = {"tags": ["a"], "nested": {"k": 1}}
    original = {"tags": ["a"], "nested": {"k": 1}}
    record = await memory.save(text, session_id=sid, metadata=meta)
    expect_json_equal(record.metadata, original, "metadata returned by save")
    meta["tags"].append("mutated after save")
    meta["extra"] = True
    record.metadata["nested"]["k"] = 2
    loaded = await memory.load(sid)
    expect_json_equal(loaded[0].metadata, original, "metadata after mutating save's input/result")
    loaded[0].metadata["tags"].append("mutated load result")
    hits = await memory.search(text, k=1, session_id=sid)
    expect_json_equal(hits[0].record.metadata, original, "metadata after mutating a load result")
    hits[0].record.metadata["new"] = "mutated hit"
    again = await memory.load(sid)
    expect_json_equal(again[0].metadata, original, "metadata after mutating a search hit")


@check("memory", "honesty")
async def capabilities_descriptor(ctx: CheckContext) -> None:
    """`capabilities` is a frozen MemoryCapabilities and every advertised operation exists."""
    await _common.capabilities_descriptor(
        ctx,
        MemoryCapabilities,
        {
            "get": ("get", None),
            "forget": ("forget", None),
            "prune": ("prune", None),
            "save_many": ("save_many", None),
            "filter": ("search", "filter"),
        },
    )


@check("memory", "honesty")
async def unadvertised_ops_raise(ctx: CheckContext) -> None:
    """Every optional operation not advertised raises UnsupportedCapability and changes nothing."""
    memory = await ctx.store()
    caps = ctx.memory_caps
    sid = ctx.sid("honesty")
    token = ctx.token()
    kept = await memory.save(f"{token} must survive", session_id=sid)
    if not caps.get:
        await _common.must_refuse(memory, "get", (kept.id,), {}, "get")
    if not caps.forget:
        await _common.must_refuse(memory, "forget", (kept.id,), {}, "forget")
    if not caps.prune:
        await _common.must_refuse(memory, "prune", (), {"session_id": sid}, "prune")
    if not caps.save_many:
        items = [MemoryItem(content=f"{token} batch", session_id=sid)]
        await _common.must_refuse(memory, "save_many", (items,), {}, "save_many")
    if not caps.filter:
        await _common.must_refuse(
            memory, "search", (kept.content,), {"filter": {"x": 1}, "session_id": sid}, "filter"
        )
    expect_equal(
        [r.id for r in await memory.load(sid)], [kept.id], "the session after refused operations"
    )
    if all(getattr(caps, c) for c in ("get", "forget", "prune", "save_many", "filter")):
        ctx.note("every optional operation is advertised")


@check("memory", "honesty")
async def info_and_registration(ctx: CheckContext) -> None:
    """`info()`/`health()` describe the store, and its backend name resolves in the registry."""
    await _common.info_and_registration(ctx)


@check("memory", "honesty")
async def lifecycle(ctx: CheckContext) -> None:
    """`async with` and `aclose` work, `aclose` is idempotent, a closed store reopens on use."""
    sid = ctx.sid("lifecycle")
    text = f"{ctx.token()} lifecycle"

    async def use(memory: Any) -> None:
        await memory.save(text, session_id=sid)
        expect(await memory.load(sid), "load inside the store's lifecycle found nothing")

    await _common.lifecycle(ctx, use)


# -- get, forget ---------------------------------------------------------------------------


@check("memory", "get")
async def get_returns_record(ctx: CheckContext) -> None:
    """`get(id)` returns the saved record (a fresh copy); unknown ids give None, bad ids raise."""
    memory = await ctx.store()
    record = await memory.save(
        f"{ctx.token()} fetch me", session_id=ctx.sid("get"), metadata={"k": [1]}
    )
    got = await memory.get(record.id)
    _expect_same_record(got, record, "get")
    expect_json_equal(got.metadata, {"k": [1]}, "metadata read by get")
    got.metadata["k"].append(2)
    again = await memory.get(record.id)
    expect(again is not got, "two gets returned the same object")
    expect_json_equal(again.metadata, {"k": [1]}, "metadata after mutating a get result")
    expect(await memory.get("0190a0a0-0000-7000-8000-000000000000") is None, "get of unknown id")
    for bad in ("", "a\x00b", None, 5):
        await expect_raises(InvalidInput, partial(memory.get, bad), f"get({bad!r})")


@check("memory", "forget")
async def forget_removes(ctx: CheckContext) -> None:
    """`forget(id)` removes one record (True), then returns False; unknown ids give False."""
    memory = await ctx.store()
    sid = ctx.sid("forget")
    token = ctx.token()
    gone = await memory.save(f"{token} to be forgotten", session_id=sid)
    kept = await memory.save(f"{token} to be kept", session_id=sid)
    expect((await memory.forget(gone.id)) is True, "forget of an existing record is not True")
    expect((await memory.forget(gone.id)) is False, "forget of a forgotten record is not False")
    unknown = "0190a0a0-0000-7000-8000-000000000001"
    expect((await memory.forget(unknown)) is False, "forget of an unknown id is not False")
    expect_equal([r.id for r in await memory.load(sid)], [kept.id], "load after forget")
    hits = await memory.search(gone.content, k=5, session_id=sid)
    expect(all(h.record.id != gone.id for h in hits), "search still finds a forgotten record")
    if ctx.advertises("get"):
        expect(await memory.get(gone.id) is None, "get still finds a forgotten record")
    for bad in ("", "a\x00b"):
        await expect_raises(InvalidInput, partial(memory.forget, bad), f"forget({bad!r})")


# -- prune -----------------------------------------------------------------------------------


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


# -- save_many ---------------------------------------------------------------------------


@check("memory", "save_many")
async def save_many_matches_save(ctx: CheckContext) -> None:
    """`save_many` returns records in input order, equal to saving one by one (str items too)."""
    memory = await ctx.store()
    token = ctx.token()
    a, b = ctx.sid("batch-a"), ctx.sid("batch-b")
    items: list[MemoryItem | str] = []
    for i in range(60):
        session = (a, b, None)[i % 3]
        if i % 7 == 0 and session is None:
            items.append(f"{token} plain string {i}")
        else:
            items.append(
                MemoryItem(content=f"{token} item {i}", session_id=session, metadata={"i": i})
            )
    records = await memory.save_many(items)
    expect_equal(len(records), len(items), "records returned by save_many")
    for item, record in zip(items, records, strict=True):
        want = item if isinstance(item, MemoryItem) else MemoryItem(content=item)
        expect_equal(record.content, want.content, "content (input order)")
        expect_equal(record.session_id, want.session_id, f"session of {want.content!r}")
        expect_json_equal(record.metadata, want.metadata or {}, f"metadata of {want.content!r}")
    expect_equal(len({r.id for r in records}), len(items), "distinct ids")
    single_a = ctx.sid("single-a")
    one_by_one = [
        await memory.save(i.content, session_id=single_a, metadata=i.metadata)
        for i in items
        if isinstance(i, MemoryItem) and i.session_id == a
    ]
    batch_a = await memory.load(a, limit=100)
    expect_equal(_contents(batch_a), _contents(one_by_one), "load order: batch vs one by one")
    for got, want in zip(batch_a, one_by_one, strict=True):
        expect_json_equal(got.metadata, want.metadata, "metadata: batch vs one by one")
    hits = await memory.search(f"{token} item 31", k=1, session_id=b)
    expect(hits and hits[0].record.id == records[31].id, "search for a batched record")
    expect_equal(await memory.save_many([]), [], "save_many of no items")


@check("memory", "save_many")
async def save_many_all_or_nothing(ctx: CheckContext) -> None:
    """One invalid item makes save_many raise InvalidInput and write none of the batch."""
    memory = await ctx.store()
    sid = ctx.sid("atomic")
    token = ctx.token()
    good = [MemoryItem(content=f"{token} good {i}", session_id=sid) for i in range(6)]
    bad_items: list[tuple[str, object]] = [
        (
            "NaN metadata",
            MemoryItem(content=f"{token} bad", session_id=sid, metadata={"x": math.nan}),
        ),
        ("empty content", MemoryItem(content="", session_id=sid)),
        ("a bad session id", MemoryItem(content=f"{token} bad", session_id="")),
        ("a non-item", 12345),
    ]
    for label, bad in bad_items:
        batch = [*good[:3], bad, *good[3:]]
        await expect_raises(
            InvalidInput, partial(memory.save_many, batch), f"save_many with {label}"
        )
        expect_equal(await memory.load(sid), [], f"session after a rejected batch ({label})")
    hits = await memory.search(f"{token} good", k=10)
    expect(not [h for h in hits if token in h.record.content], "a rejected batch wrote records")


# -- filter --------------------------------------------------------------------------------


async def _filter_fixture(ctx: CheckContext) -> tuple[Any, str, str, dict[str, MemoryRecord]]:
    memory = await ctx.store()
    sid = ctx.sid("filter")
    token = ctx.token()
    metas: dict[str, dict[str, Any]] = {
        "r1": {"lang": "en", "n": 1, "ok": True, "x": 2.5},
        "r2": {"lang": "fr", "n": 2, "ok": False},
        "r3": {"lang": "en", "n": 2, "ok": 1},
        "r4": {"lang": "en"},
        "r5": {"lang": "EN", "n": "1", "ok": "true"},
        "r6": {"lang": "de", "n": 0, "ok": 0, "nested": {"lang": "en"}},
    }
    records = {
        name: await memory.save(f"{token} filtered note {name}", session_id=sid, metadata=meta)
        for name, meta in metas.items()
    }
    return memory, sid, f"{token} filtered note", records


async def _filtered(
    memory: Any, query: str, flt: dict[str, Any], records: dict[str, MemoryRecord], **kw: Any
) -> set[str]:
    hits = await memory.search(query, k=20, filter=flt, **kw)
    for hit in hits:
        expect(
            matches_filter(hit.record.metadata, flt),
            f"filter {flt} returned a record with metadata {short(hit.record.metadata)}",
        )
    by_id = {r.id: name for name, r in records.items()}
    return {by_id[h.record.id] for h in hits if h.record.id in by_id}


@check("memory", "filter")
async def filter_equality_types(ctx: CheckContext) -> None:
    """`filter=` keeps records whose metadata equals every key: str, int, bool (True is not 1)."""
    memory, sid, query, records = await _filter_fixture(ctx)
    cases: list[tuple[dict[str, Any], set[str]]] = [
        ({"lang": "en"}, {"r1", "r3", "r4"}),
        ({"ok": True}, {"r1"}),
        ({"ok": 1}, {"r3"}),
        ({"ok": False}, {"r2"}),
        ({"ok": 0}, {"r6"}),
        ({"n": 1}, {"r1"}),
        ({"n": "1"}, {"r5"}),
        ({"lang": "en", "n": 2}, {"r3"}),
        ({"lang": "xx"}, set()),
        ({"missing": "key"}, set()),
    ]
    for flt, expected in cases:
        got = await _filtered(memory, query, flt, records, session_id=sid)
        expect_equal(sorted(got), sorted(expected), f"records matching filter {flt}")


@check("memory", "filter")
async def filter_number_equality(ctx: CheckContext) -> None:
    """Numbers compare as JSON numbers in filters: 1 matches 1.0 and 2.5 matches 2.5."""
    memory, sid, query, records = await _filter_fixture(ctx)
    for flt, expected in (({"n": 1.0}, {"r1"}), ({"x": 2.5}, {"r1"}), ({"n": 2.0}, {"r2", "r3"})):
        got = await _filtered(memory, query, flt, records, session_id=sid)
        expect_equal(sorted(got), sorted(expected), f"records matching filter {flt}")


@check("memory", "filter")
async def filter_with_session(ctx: CheckContext) -> None:
    """`filter=` combines with session_id= (both apply) and with an unscoped search."""
    memory = await ctx.store()
    a, b = ctx.sid("fs-a"), ctx.sid("fs-b")
    token = ctx.token()
    recs = {
        "a_en": await memory.save(f"{token} note", session_id=a, metadata={"lang": "en"}),
        "a_fr": await memory.save(f"{token} note", session_id=a, metadata={"lang": "fr"}),
        "b_en": await memory.save(f"{token} note", session_id=b, metadata={"lang": "en"}),
    }
    query = f"{token} note"
    scoped = await _filtered(memory, query, {"lang": "en"}, recs, session_id=a)
    expect_equal(sorted(scoped), ["a_en"], "filter lang=en within session a")
    unscoped = await _filtered(memory, query, {"lang": "en"}, recs)
    expect_equal(sorted(unscoped), ["a_en", "b_en"], "filter lang=en in the whole namespace")


@check("memory", "filter")
async def filter_invalid(ctx: CheckContext) -> None:
    """A filter that is not a flat dict of str keys to finite scalars raises InvalidInput."""
    memory = await ctx.store()
    for flt in (
        {"a": {"b": 1}},
        {"a": [1]},
        {"a": None},
        {"a": math.nan},
        {"": 1},
        {1: "x"},
        "lang=en",
        {"a": "b\x00"},
    ):
        await expect_raises(
            InvalidInput, partial(memory.search, "query", filter=flt), f"filter={flt!r}"
        )


# -- persistent ------------------------------------------------------------------------------


@check("memory", "persistent")
async def persistent_reopen(ctx: CheckContext) -> None:
    """Records survive closing the store and opening a new one from the same options."""
    first = await ctx.store()
    sid = ctx.sid("persist")
    token = ctx.token()
    saved = [
        await first.save(f"{token} durable {i}", session_id=sid, metadata={"i": i})
        for i in range(3)
    ]
    await first.aclose()
    second = await ctx.store()
    loaded = await second.load(sid)
    expect_equal(len(loaded), 3, "records after reopening")
    for got, want in zip(loaded, saved, strict=True):
        _expect_same_record(got, want, "a record after reopening")
    hits = await second.search(saved[1].content, k=1, session_id=sid)
    expect(hits and hits[0].record.id == saved[1].id, "search after reopening")
    expect(abs(hits[0].score - 1.0) <= _EXACT, f"exact match after reopen scored {hits[0].score}")


class _RenamedEmbedder(HashEmbedder):
    """HashEmbedder vectors under another model name (same dimension)."""

    @property
    def name(self) -> str:
        return f"kit-renamed-{self.dimension}"


async def _mismatch(ctx: CheckContext, other: HashEmbedder, what: str) -> None:
    await ctx.need_option("embedder", why="memory stores take an embedder")
    first = await ctx.store(embedder=HashEmbedder())
    sid = ctx.sid("embedder")
    kept = await first.save(f"{ctx.token()} written with the default embedder", session_id=sid)
    await first.aclose()
    wrong = await ctx.store(embedder=other)
    await expect_raises(ConfigError, lambda: wrong.search("anything"), f"search with {what}")
    await expect_raises(
        ConfigError, lambda: wrong.save("more", session_id=sid), f"save with {what}"
    )
    right = await ctx.store(embedder=HashEmbedder())
    expect_equal([r.id for r in await right.load(sid)], [kept.id], f"records after {what}")


@check("memory", "persistent")
async def embedder_dimension_mismatch(ctx: CheckContext) -> None:
    """Reopening a namespace with an embedder of another dimension raises ConfigError."""
    await _mismatch(ctx, HashEmbedder(dim=64), "a 64-d embedder over 256-d vectors")


@check("memory", "persistent")
async def embedder_name_mismatch(ctx: CheckContext) -> None:
    """Reopening a namespace with another embedder of the same dimension raises ConfigError."""
    await _mismatch(ctx, _RenamedEmbedder(), "an embedder of another name")


# -- the guides' one-text embedder -------------------------------------------------------


class _GuideEmbedder:
    """The embedder the authoring guide shows: only `async def embed(text) -> list[float]`.

    No `dim`, `name` or batch method, so a store must learn the dimension from the first
    vector. Axes: fruit, engines, anything.
    """

    async def embed(self, text: str) -> list[float]:
        return [float("apple" in text), float("engine" in text), 0.25]


class _OtherGuideEmbedder:
    """Another one-text embedder, of another (undeclared) dimension."""

    async def embed(self, text: str) -> list[float]:
        return [float("apple" in text), 1.0]


@check("memory")
async def one_text_embedder(ctx: CheckContext) -> None:
    """An embedder with only `embed(text)` (no dim, name or batch method) works."""
    await ctx.require_option("embedder", why="the check passes its own embedder")
    await ctx.require_option("namespace", why="the check needs a namespace of its own")
    namespace = ctx.fresh_namespace()
    memory = await ctx.store(namespace=namespace, embedder=_GuideEmbedder())
    sid = ctx.sid("guide")
    token = ctx.token()
    pie = await memory.save(f"{token} apple pie recipe", session_id=sid)
    car = await memory.save(f"{token} engine repair manual", session_id=sid)
    hits = await memory.search("a fresh apple", k=2, session_id=sid)
    expect_equal(_hit_contents(hits), [pie.content, car.content], "hits for an apple query")
    expect(abs(hits[0].score - 1.0) <= _EXACT, f"the apple record scored {hits[0].score!r}")
    loaded = [r.id for r in await memory.load(sid)]
    expect_equal(loaded, [pie.id, car.id], "load with a one-text embedder")
    if ctx.advertises("save_many"):
        more = await memory.save_many(
            [MemoryItem(f"{token} apple tart", sid), MemoryItem(f"{token} engine oil", sid)]
        )
        expect_equal(len(more), 2, "records from save_many with a one-text embedder")


@check("memory", "persistent")
async def one_text_embedder_reopen(ctx: CheckContext) -> None:
    """A namespace written by a one-text embedder reopens with it; another dimension fails loud."""
    await ctx.require_option("embedder", why="the check passes its own embedder")
    await ctx.require_option("namespace", why="the check needs a namespace of its own")
    namespace = ctx.fresh_namespace()
    memory = await ctx.store(namespace=namespace, embedder=_GuideEmbedder())
    sid = ctx.sid("guide-reopen")
    token = ctx.token()
    pie = await memory.save(f"{token} apple pie recipe", session_id=sid)
    await memory.save(f"{token} engine repair manual", session_id=sid)
    await memory.aclose()
    again = await ctx.store(namespace=namespace, embedder=_GuideEmbedder())
    hits = await again.search("apple", k=1, session_id=sid)
    expect(hits and hits[0].record.id == pie.id, "search after reopening with the same embedder")
    others: list[tuple[Any, str]] = [
        (HashEmbedder(), "a 256-d HashEmbedder over 3-d vectors"),
        (_OtherGuideEmbedder(), "a one-text 2-d embedder over 3-d vectors"),
    ]
    for other, what in others:
        wrong = await ctx.store(namespace=namespace, embedder=other)
        await expect_raises(ConfigError, partial(wrong.search, "apple"), f"search with {what}")
        await expect_raises(
            ConfigError, partial(wrong.save, "more", session_id=sid), f"save with {what}"
        )
    expect_equal(len(await again.load(sid)), 2, "records after refused reopens")


# -- approximate -----------------------------------------------------------------------------


@check("memory", "approximate")
async def approximate_small_recall(ctx: CheckContext) -> None:
    """On 200 records an ANN index still ranks exact-text queries first (>= 95 %)."""
    memory = await ctx.store()
    sid = ctx.sid("ann")
    token = ctx.token()
    topics = ["rivers", "engines", "poetry", "orbits", "markets", "forests", "glaciers", "chess"]
    texts = [
        f"{token} note {i} on {topics[i % 8]} and {topics[(i * 3) % 8]} number {i * 7919 % 1000}"
        for i in range(200)
    ]
    if ctx.advertises("save_many"):
        await memory.save_many([MemoryItem(content=t, session_id=sid) for t in texts])
    else:
        for t in texts:
            await memory.save(t, session_id=sid)
    queries = texts[::10]
    first = 0
    for query in queries:
        hits = await memory.search(query, k=5, session_id=sid)
        if hits and hits[0].record.content == query:
            first += 1
    expect(first >= 19, f"only {first}/20 exact-text queries ranked their record first")
    ctx.note(f"recall@1 {first}/20")
