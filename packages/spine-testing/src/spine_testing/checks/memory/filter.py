"""Memory `filter`: metadata filters on search."""

from __future__ import annotations

import math
from functools import partial
from typing import Any

from spine_core import InvalidInput, MemoryRecord
from spine_core._records import matches_filter
from spine_testing._check import check
from spine_testing.context import CheckContext
from spine_testing.expect import expect, expect_equal, expect_raises, short


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
