"""Memory checks every store runs (the guides' contract and the groups of `GROUPS`).

Validation, fidelity, concurrency, honesty (capabilities, `info()`, the lifecycle), and the
guides' one-text embedder.
"""

from __future__ import annotations

import asyncio
import math
import time
import zlib
from collections.abc import Sequence
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
from spine_core.capabilities import MEMORY_OPERATIONS
from spine_core.embedding import embed_texts
from spine_core.validation import MAX_JSON_DEPTH
from spine_testing._check import check
from spine_testing.checks import _common
from spine_testing.checks._data import TINY, UNICODE_TEXTS, nested, rich_metadata, unicode_ids
from spine_testing.checks.memory._shared import (
    COSINE,
    EXACT,
    GuideEmbedder,
    contents,
    expect_same_record,
    hit_contents,
)
from spine_testing.context import CheckContext
from spine_testing.expect import (
    CheckFailed,
    CheckSkipped,
    expect,
    expect_equal,
    expect_json_equal,
    expect_raises,
    short,
)


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
    expect_same_record(loaded[0], saved, "load")
    hits = await memory.search(text, k=1, session_id=sid)
    expect(hits, "search found nothing")
    expect_same_record(hits[0].record, saved, "search hit")
    if ctx.advertises("get"):
        expect_same_record(await memory.get(saved.id), saved, "get")
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
                abs(hits[0].score - 1.0) <= EXACT,
                f"score of an exact match is {hits[0].score!r}, not 1 ± {EXACT} ({where})",
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
    expect_equal(sorted(hit_contents(hits)), sorted(texts), "records found")
    for hit in hits:
        want = expected[hit.record.content]
        expect(
            abs(hit.score - want) <= COSINE,
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
    expect_equal(contents(await memory.load(sid, limit=7)), texts[-7:], "load(limit=7)")
    expect_equal(contents(await memory.load(sid)), texts[-20:], "load() with the default limit")
    expect_equal(contents(await memory.load(sid, limit=100)), texts, "load(limit=100)")
    expect_equal(contents(await memory.load(sid, limit=1)), texts[-1:], "load(limit=1)")


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
        if record.session_id is None:
            raise CheckFailed(
                f"save(session_id=...) returned a record without one: {short(record)}"
            )
        loaded = await memory.load(record.session_id)
        expect_equal(len(loaded), 1, f"records in session {record.session_id!r}")
        expect_same_record(loaded[0], record, f"load of {record.session_id!r}")
        hits = await memory.search(record.content, k=1, session_id=record.session_id)
        expect(hits and hits[0].record.id == record.id, f"search for {record.content!r}")
        expect(abs(hits[0].score - 1.0) <= EXACT, f"unicode exact match scored {hits[0].score}")


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
    expect_equal(sorted(contents(loaded)), sorted(texts), "contents loaded back")
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
            "export": ("export_records", None),
        },
    )
    if ctx.advertises("export"):
        store = await ctx.store()
        expect(
            callable(getattr(store, "restore_records", None)),
            "'export' is advertised but the store has no restore_records() method",
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
    if not caps.export:
        await _common.must_refuse(memory, "export_records", (), {"limit": 1}, "export")
        copy = MemoryRecord(id=kept.id, content=f"{token} restored", session_id=sid)
        await _common.must_refuse(memory, "restore_records", ([copy],), {}, "export")
    expect_equal(
        [r.id for r in await memory.load(sid)], [kept.id], "the session after refused operations"
    )
    if all(getattr(caps, c) for c in MEMORY_OPERATIONS):
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


@check("memory")
async def one_text_embedder(ctx: CheckContext) -> None:
    """An embedder with only `embed(text)` (no dim, name or batch method) works."""
    await ctx.require_option("embedder", why="the check passes its own embedder")
    await ctx.require_option("namespace", why="the check needs a namespace of its own")
    namespace = ctx.fresh_namespace()
    memory = await ctx.store(namespace=namespace, embedder=GuideEmbedder())
    sid = ctx.sid("guide")
    token = ctx.token()
    pie = await memory.save(f"{token} apple pie recipe", session_id=sid)
    car = await memory.save(f"{token} engine repair manual", session_id=sid)
    hits = await memory.search("a fresh apple", k=2, session_id=sid)
    expect_equal(hit_contents(hits), [pie.content, car.content], "hits for an apple query")
    expect(abs(hits[0].score - 1.0) <= EXACT, f"the apple record scored {hits[0].score!r}")
    loaded = [r.id for r in await memory.load(sid)]
    expect_equal(loaded, [pie.id, car.id], "load with a one-text embedder")
    if ctx.advertises("save_many"):
        more = await memory.save_many(
            [MemoryItem(f"{token} apple tart", sid), MemoryItem(f"{token} engine oil", sid)]
        )
        expect_equal(len(more), 2, "records from save_many with a one-text embedder")


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
            return [TINY] + [0.0] * 7
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
            partial(memory.save, f"{token} deep", session_id=sid, metadata=nested(depth)),
            f"save with metadata nested {depth} levels",
        )
    expect_equal(await memory.load(sid), [], "records after refused deep metadata")
    # The deepest metadata allowed is stored and read back whole.
    record = await memory.save(f"{token} deepest", session_id=sid, metadata=nested(MAX_JSON_DEPTH))
    [loaded] = await memory.load(sid)
    expect_equal(loaded.metadata, record.metadata, f"metadata nested {MAX_JSON_DEPTH} levels")


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
