"""Helpers the memory check modules share: tolerances, record comparison, the guides' embedders."""

from __future__ import annotations

from typing import Any

from spine_core import MemoryRecord
from spine_testing.expect import CheckFailed, expect, expect_equal, expect_json_equal, short

EXACT = 1e-3
"""How close to 1 the score of a record whose text equals the query must be."""
COSINE = 0.02
"""How far a score may be from the exact cosine (room for float32 and quantized indexes)."""
TS = 1e-3
"""How far a timestamp read back may be from the one `save` returned (seconds; storage
precision)."""


def expect_same_record(actual: object, expected: MemoryRecord, what: str) -> None:
    """`actual` is a MemoryRecord equal to `expected` (ts within `TS`)."""
    if not isinstance(actual, MemoryRecord):
        raise CheckFailed(f"{what}: expected a MemoryRecord, got {short(actual)}")
    expect_equal(actual.id, expected.id, f"{what}: id")
    expect_equal(actual.content, expected.content, f"{what}: content")
    expect_equal(actual.session_id, expected.session_id, f"{what}: session_id")
    expect_json_equal(actual.metadata, expected.metadata, f"{what}: metadata")
    expect(
        isinstance(actual.ts, float) and abs(actual.ts - expected.ts) <= TS,
        f"{what}: ts {actual.ts!r} differs from the saved {expected.ts!r}",
    )


def contents(records: list[Any]) -> list[str]:
    return [r.content for r in records]


def hit_contents(hits: list[Any]) -> list[str]:
    return [h.record.content for h in hits]


class GuideEmbedder:
    """The embedder the authoring guide shows: only `async def embed(text) -> list[float]`.

    No `dim`, `name` or batch method, so a store must learn the dimension from the first
    vector. Axes: fruit, engines, anything.
    """

    async def embed(self, text: str) -> list[float]:
        return [float("apple" in text), float("engine" in text), 0.25]


class OtherGuideEmbedder:
    """Another one-text embedder, of another (undeclared) dimension."""

    async def embed(self, text: str) -> list[float]:
        return [float("apple" in text), 1.0]
