"""Memory `persistent`: a reopened namespace keeps its records and refuses another embedder."""

from __future__ import annotations

from functools import partial
from typing import Any

from spine_core import ConfigError, HashEmbedder
from spine_testing._check import check
from spine_testing.checks.memory._shared import (
    EXACT,
    GuideEmbedder,
    OtherGuideEmbedder,
    expect_same_record,
)
from spine_testing.context import CheckContext
from spine_testing.expect import expect, expect_equal, expect_raises


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
        expect_same_record(got, want, "a record after reopening")
    hits = await second.search(saved[1].content, k=1, session_id=sid)
    expect(hits and hits[0].record.id == saved[1].id, "search after reopening")
    expect(abs(hits[0].score - 1.0) <= EXACT, f"exact match after reopen scored {hits[0].score}")


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


@check("memory", "persistent")
async def one_text_embedder_reopen(ctx: CheckContext) -> None:
    """A namespace written by a one-text embedder reopens with it; another dimension fails loud."""
    await ctx.require_option("embedder", why="the check passes its own embedder")
    await ctx.require_option("namespace", why="the check needs a namespace of its own")
    namespace = ctx.fresh_namespace()
    memory = await ctx.store(namespace=namespace, embedder=GuideEmbedder())
    sid = ctx.sid("guide-reopen")
    token = ctx.token()
    pie = await memory.save(f"{token} apple pie recipe", session_id=sid)
    await memory.save(f"{token} engine repair manual", session_id=sid)
    await memory.aclose()
    again = await ctx.store(namespace=namespace, embedder=GuideEmbedder())
    hits = await again.search("apple", k=1, session_id=sid)
    expect(hits and hits[0].record.id == pie.id, "search after reopening with the same embedder")
    others: list[tuple[Any, str]] = [
        (HashEmbedder(), "a 256-d HashEmbedder over 3-d vectors"),
        (OtherGuideEmbedder(), "a one-text 2-d embedder over 3-d vectors"),
    ]
    for other, what in others:
        wrong = await ctx.store(namespace=namespace, embedder=other)
        await expect_raises(ConfigError, partial(wrong.search, "apple"), f"search with {what}")
        await expect_raises(
            ConfigError, partial(wrong.save, "more", session_id=sid), f"save with {what}"
        )
    expect_equal(len(await again.load(sid)), 2, "records after refused reopens")
