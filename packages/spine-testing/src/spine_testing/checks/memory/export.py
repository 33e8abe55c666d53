"""Memory `export`: every record with its stored vector, and restoring records elsewhere."""

from __future__ import annotations

import math
from functools import partial
from typing import Any

from spine_core import InvalidInput, MemoryItem, MemoryRecord, RecordExport
from spine_core.embedding import embed_texts
from spine_testing._check import check
from spine_testing.checks._data import rich_metadata
from spine_testing.checks.memory._shared import COSINE, EXACT, expect_same_record
from spine_testing.context import CheckContext
from spine_testing.expect import CheckFailed, expect, expect_equal, expect_raises, short

_UNIT = 1e-6
"""How far from 1 the norm of an exported vector may be."""


async def export_all(store: Any, *, limit: int) -> list[RecordExport]:
    """Every exported record, page by page, checking each page's shape."""
    items: list[RecordExport] = []
    after: str | None = None
    for _ in range(10_000):
        page = await store.export_records(after=after, limit=limit)
        expect(len(page.items) <= limit, f"an export page of limit {limit} has {len(page.items)}")
        items.extend(page.items)
        if page.next_cursor is None:
            return items
        expect(page.items, "an empty export page carries a next_cursor (endless pagination)")
        expect_equal(page.next_cursor, page.items[-1].id, "next_cursor (the last id)")
        after = page.next_cursor
    raise CheckFailed("export_records did not finish after 10000 pages")


async def _source(ctx: CheckContext) -> tuple[Any, bool]:
    """A store in a namespace of its own when the factory takes one; True when it is."""
    if await ctx.target.accepts("namespace"):
        return await ctx.store(namespace=ctx.fresh_namespace()), True
    ctx.note("the factory takes no namespace: the export is checked on the kit's own records")
    return await ctx.store(), False


async def _populate(ctx: CheckContext, memory: Any, own: bool) -> list[MemoryRecord]:
    """Records in three sessions with metadata (and one without a session when `own`)."""
    token = ctx.token()
    sids = [ctx.sid(f"export{i}") for i in range(3)]
    items = [
        MemoryItem(
            f"{token} note {i} about {('apples', 'engines', 'rivers')[i % 3]}",
            sids[i % 3],
            {"i": i, "rich": rich_metadata()} if i % 2 else {"i": i},
        )
        for i in range(8)
    ]
    if own:
        items.append(MemoryItem(f"{token} a note of no session", None, {"free": True}))
    if ctx.advertises("save_many"):
        return list(await memory.save_many(items))
    return [
        await memory.save(i.content, session_id=i.session_id, metadata=i.metadata) for i in items
    ]


def _mine(items: list[RecordExport], saved: list[MemoryRecord]) -> list[RecordExport]:
    ids = {r.id for r in saved}
    return [i for i in items if i.id in ids]


async def _expect_vectors(memory: Any, items: list[RecordExport], what: str) -> None:
    """Each vector is a unit vector of the store's dimension, close to its content's."""
    embedder = getattr(memory, "embedder", None)
    if any(i.vector is None for i in items):
        expect(all(i.vector is None for i in items), f"{what}: only some records have a vector")
        return
    dimension = getattr(memory, "dimension", None)
    fresh = await embed_texts(embedder, [i.content for i in items]) if embedder else None
    for n, item in enumerate(items):
        vector = item.vector or []
        if dimension is not None:
            expect_equal(len(vector), dimension, f"{what}: length of the vector of {item.id}")
        norm = math.hypot(*vector)
        expect(abs(norm - 1.0) <= _UNIT, f"{what}: the vector of {item.id} has norm {norm}")
        if fresh is not None:
            dot = sum(a * b for a, b in zip(vector, fresh[n], strict=False))
            expect(
                dot >= 1.0 - COSINE,
                f"{what}: the vector of {item.id} is not its content's (cosine {dot:.4f})",
            )


@check("memory", "export")
async def export_records_pages(ctx: CheckContext) -> None:
    """Pages cover each record once in code-point order of id, with its unit vector."""
    memory, own = await _source(ctx)
    saved = await _populate(ctx, memory, own)
    by_id = {r.id: r for r in saved}
    for limit in (1, 3, 500):
        items = await export_all(memory, limit=limit)
        ids = [i.id for i in items]
        expect(ids == sorted(ids), f"exported ids are not in code-point order (limit {limit})")
        expect(len(ids) == len(set(ids)), f"an id was exported twice (limit {limit})")
        mine = _mine(items, saved)
        expect_equal(sorted(i.id for i in mine), sorted(by_id), f"exported ids (limit {limit})")
        if own:
            expect_equal(len(items), len(saved), "records exported from a namespace of their own")
    for item in mine:
        expect(isinstance(item, RecordExport), f"export item {short(item)}")
        expect_same_record(item, by_id[item.id], f"exported record {item.id}")
    await _expect_vectors(memory, mine, "export")
    cut = sorted(by_id)[3]
    page = await memory.export_records(after=cut, limit=2)
    expect(all(i.id > cut for i in page.items), "export after a cursor returned earlier ids")
    for bad in (0, -1, True, "5", 100_001):
        await expect_raises(
            InvalidInput, partial(memory.export_records, limit=bad), f"export(limit={bad!r})"
        )
    for after in ("", "a\x00b"):
        await expect_raises(
            InvalidInput, partial(memory.export_records, after=after), f"export(after={after!r})"
        )


async def _target(ctx: CheckContext, source: Any) -> Any:
    if not await ctx.target.accepts("namespace"):
        ctx.note("the factory takes no namespace: records were restored onto themselves")
        return source
    options: dict[str, Any] = {"namespace": ctx.fresh_namespace()}
    if await ctx.target.accepts("embedder") and getattr(source, "embedder", None) is not None:
        options["embedder"] = source.embedder
    return await ctx.store(**options)


@check("memory", "export")
async def restore_records_round_trips(ctx: CheckContext) -> None:
    """Restored records keep id, session, metadata and ts; `get`, `load`, `search` agree."""
    source, own = await _source(ctx)
    saved = await _populate(ctx, source, own)
    # A day earlier, every one (so `load` order holds): a store that stamps restored records
    # with now is caught.
    exported = [
        r.model_copy(update={"ts": r.ts - 86_400})
        for r in _mine(await export_all(source, limit=4), saved)
    ]
    target = await _target(ctx, source)
    restored = await target.restore_records(exported)
    expect_equal([r.id for r in restored], [r.id for r in exported], "ids restore_records returns")
    again = _mine(await export_all(target, limit=500), saved)
    expect_equal([r.id for r in again], [r.id for r in exported], "ids exported from the target")
    for old, new in zip(exported, again, strict=True):
        expect_same_record(new, old, f"restored record {old.id}")
    await _expect_vectors(target, again, "restored")
    for sid in dict.fromkeys(r.session_id for r in saved if r.session_id is not None):
        expect_equal(
            [r.id for r in await target.load(sid)],
            [r.id for r in await source.load(sid)],
            f"load({sid!r}) after a restore",
        )
    probe = exported[5]
    [hit] = await target.search(probe.content, k=1, session_id=probe.session_id)
    expect_equal(hit.record.id, probe.id, "the best hit for a restored record's own text")
    expect(hit.score >= 1.0 - EXACT, f"a restored record scores {hit.score} for its own text")
    if ctx.advertises("get"):
        expect_same_record(await target.get(probe.id), probe, "get of a restored record")
    # Again, with one record changed: replaced, not doubled.
    n, first = next((n, r) for n, r in enumerate(exported) if r.session_id is not None)
    changed = first.model_copy(update={"metadata": {"changed": True}})
    await target.restore_records([*exported[:n], changed, *exported[n + 1 :]])
    twice = _mine(await export_all(target, limit=500), saved)
    expect_equal([r.id for r in twice], [r.id for r in exported], "ids after restoring twice")
    expect_equal(twice[n].metadata, {"changed": True}, "metadata of a record restored again")
    loaded = await target.load(first.session_id or "", limit=100)
    expect_equal(
        sum(r.id == changed.id for r in loaded), 1, "copies of a record restored twice in load"
    )
    # Without vectors (a record from another store, or reembed): the content is embedded.
    plain = [MemoryRecord(**r.model_dump(exclude={"vector"})) for r in exported[:2]]
    await target.restore_records(plain)
    await target.restore_records(exported[2:4], reembed=True)
    await _expect_vectors(target, _mine(await export_all(target, limit=500), saved), "re-embedded")


@check("memory", "export")
async def restore_records_all_or_none(ctx: CheckContext) -> None:
    """A batch with a bad record (NaN vector, duplicate id, blank text) writes nothing."""
    source, own = await _source(ctx)
    saved = await _populate(ctx, source, own)
    exported = _mine(await export_all(source, limit=500), saved)
    target = await _target(ctx, source)
    if target is source:
        if ctx.advertises("prune"):
            for sid in {r.session_id for r in saved if r.session_id is not None}:
                await source.prune(session_id=sid)
        else:
            ctx.note("cannot empty the store to check all-or-none")
            return
    dimension = len(exported[0].vector or []) or 3
    bad_vector = exported[-1].model_copy(update={"vector": [math.nan] * dimension})
    blank = exported[-1].model_copy(update={"content": "   "})
    for what, batch in (
        ("a NaN vector", [*exported[:-1], bad_vector]),
        ("a duplicate id", [*exported, exported[0]]),
        ("a blank content", [*exported[:-1], blank]),
        ("a str among records", [*exported, "text"]),
    ):
        if what == "a NaN vector" and exported[0].vector is None:
            continue
        await expect_raises(InvalidInput, partial(target.restore_records, batch), what)
        left = _mine(await export_all(target, limit=500), saved)
        expect(not left, f"a refused restore ({what}) wrote {len(left)} record(s)")
    expect_equal(await target.restore_records([]), [], "restore_records([])")
