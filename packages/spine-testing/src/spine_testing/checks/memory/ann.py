"""Memory `approximate`: an approximate (ANN) index still ranks well."""

from __future__ import annotations

from spine_core import MemoryItem
from spine_testing._check import check
from spine_testing.context import CheckContext
from spine_testing.expect import expect


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
