"""Memory `save_many`: many records at once, all or none."""

from __future__ import annotations

import math
from functools import partial
from typing import Any

from spine_core import InvalidInput, MemoryItem
from spine_testing._check import check
from spine_testing.checks.memory._shared import contents
from spine_testing.context import CheckContext
from spine_testing.expect import (
    CheckSkipped,
    expect,
    expect_equal,
    expect_json_equal,
    expect_raises,
    short,
)


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
    expect_equal(contents(batch_a), contents(one_by_one), "load order: batch vs one by one")
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


class _PlantedFailure(Exception):
    """The error the kit makes one chunk of a chunked `save_many` raise."""


class _FailSecondChunk:
    """Wraps a store's `_insert`: the 2nd call writes half its chunk, then raises."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.calls = 0
        self.ids: list[str] = []

    async def __call__(self, records: list[Any], **kw: Any) -> None:
        self.calls += 1
        self.ids += [r.id for r in records]
        if self.calls == 2:
            # Partly applied, as a chunk that fails mid-way (or loses its reply) may be.
            await self.real(records[: len(records) // 2], **kw)
            raise _PlantedFailure("the kit made the 2nd chunk fail")
        await self.real(records, **kw)


@check("memory", "save_many")
async def save_many_failed_chunk_leaves_nothing(ctx: CheckContext) -> None:
    """A save_many written in chunks whose 2nd chunk fails raises that error, leaving nothing."""
    memory = await ctx.store()
    chunk = getattr(memory, "_insert_chunk", None)
    if not isinstance(chunk, int) or isinstance(chunk, bool) or chunk < 1:
        raise CheckSkipped("the store writes a save_many in one _insert call (no chunks)")
    # Small chunks keep the check fast; the flow under test does not depend on their size.
    size = min(chunk, 8)
    memory._insert_chunk = size
    sid = ctx.sid("chunks")
    token = ctx.token()
    items = [
        MemoryItem(content=f"{token} chunked {i}", session_id=sid, metadata={"i": i})
        for i in range(3 * size + size // 2 + 1)
    ]
    fault = _FailSecondChunk(memory._insert)
    memory._insert = fault
    try:
        raised = await expect_raises(
            _PlantedFailure, partial(memory.save_many, items), "save_many with a failing chunk"
        )
    finally:
        del memory._insert  # the class's own method again
    expect(fault.calls >= 2, f"save_many of {len(items)} items made {fault.calls} _insert call(s)")
    expect(
        isinstance(raised, _PlantedFailure), f"save_many raised {short(raised)}, not the original"
    )
    left = await memory.load(sid, limit=len(items) + 10)
    expect(not left, f"a failed save_many left {len(left)} record(s): {short(contents(left))}")
    if ctx.advertises("get"):
        kept = [rid for rid in fault.ids if await memory.get(rid) is not None]
        expect(not kept, f"get finds {len(kept)} record(s) of a failed save_many: {short(kept)}")
    # The store stays usable: the next save_many is written whole.
    saved = await memory.save_many(items[:3])
    expect_equal(contents(await memory.load(sid)), contents(saved), "load after a later save_many")
