"""The guides' one-text Embedder: the core helper, dimension learning, identity, `ts`."""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from spine_core import (
    ConfigError,
    Embedder,
    HashEmbedder,
    InMemoryVectorMemory,
    InvalidInput,
    MemoryRecord,
)
from spine_core._embedding import embed_texts, embedder_dimension, embedder_name
from spine_core._records import now_ts, to_epoch_us, ts_datetime


class TagEmbedder:
    """The build-a-backend guide's embedder shape: one text in, one vector out."""

    async def embed(self, text: str) -> list[float]:
        return [1.0, 0.0] if "apple" in text else [0.0, 1.0]


class CountingEmbedder:
    """One-text embedder that records how many calls overlap."""

    def __init__(self) -> None:
        self.running = 0
        self.peak = 0
        self.calls = 0

    async def embed(self, text: str) -> list[float]:
        self.calls += 1
        self.running += 1
        self.peak = max(self.peak, self.running)
        await asyncio.sleep(0)
        self.running -= 1
        return [float(len(text)), 1.0, 0.5]


class Returns:
    """An embedder that returns whatever it is told to (for the helper's checks)."""

    def __init__(self, value: Any, *, many: bool = False) -> None:
        self.value = value
        if many:
            self.embed_many = self._many

    async def embed(self, text: str) -> Any:
        return self.value

    async def _many(self, texts: list[str]) -> Any:
        return self.value


async def test_the_guides_embedder_is_an_embedder_and_works_in_memory() -> None:
    assert isinstance(TagEmbedder(), Embedder)
    mem = InMemoryVectorMemory(embedder=TagEmbedder())
    assert mem.dim is None  # nothing declared, nothing embedded yet
    await mem.save("apple pie recipe")
    await mem.save("car engine repair")
    hits = await mem.search("fresh apple", k=1)
    assert hits[0].record.content == "apple pie recipe"
    assert hits[0].score == 1.0
    assert mem.dim == 2  # learned from the first vector


async def test_helper_prefers_embed_many_and_bounds_concurrency_otherwise() -> None:
    counting = CountingEmbedder()
    vectors = await embed_texts(counting, [f"t{i}" for i in range(40)], concurrency=4)
    assert len(vectors) == 40
    assert counting.calls == 40
    assert 1 < counting.peak <= 4
    assert all(math.isclose(math.hypot(*v), 1.0) for v in vectors)

    class Batch(HashEmbedder):
        async def embed(self, text: str) -> list[float]:
            raise AssertionError("embed_many should have been used")

    assert len(await embed_texts(Batch(dim=16), ["a", "b"])) == 2


@pytest.mark.parametrize(
    ("embedder", "message"),
    [
        (Returns([[1.0, 0.0]], many=True), "1 vectors for 2 texts"),
        (Returns("abc"), "expected a list"),
        (Returns([1.0, float("nan")]), "non-finite"),
        (Returns([0.0, 0.0]), "zero vector"),
        (Returns([]), "empty vector"),
        (Returns([1.0, "x"]), "only numbers"),
        (Returns([[1.0, 0.0], [1.0, 0.0, 0.0]], many=True), "3-d vector for text 1"),
    ],
)
async def test_helper_refuses_bad_vectors(embedder: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        await embed_texts(embedder, ["a", "b"])


async def test_helper_checks_a_declared_dimension() -> None:
    with pytest.raises(InvalidInput, match="expected 3-d"):
        await embed_texts(TagEmbedder(), ["apple"], dim=3)


async def test_store_refuses_an_embedder_that_changes_its_dimension() -> None:
    class Shifty:
        def __init__(self) -> None:
            self.n = 2

        async def embed(self, text: str) -> list[float]:
            self.n += 1
            return [1.0] * self.n

    mem = InMemoryVectorMemory(embedder=Shifty())
    await mem.save("first")
    with pytest.raises(InvalidInput, match="expected 3-d"):
        await mem.save("second")


def test_identity_helpers() -> None:
    assert embedder_name(HashEmbedder(64)) == "hash-v1-64"
    assert embedder_name(TagEmbedder()).endswith("test_embedder_protocol.TagEmbedder")
    assert embedder_dimension(HashEmbedder(64)) == 64
    assert embedder_dimension(TagEmbedder()) is None

    class Declares:
        dimension = 12

        async def embed(self, text: str) -> list[float]:
            return [1.0] * 12

    assert embedder_dimension(Declares()) == 12

    class Bad:
        dim = 0

    with pytest.raises(ConfigError, match="dim=0"):
        embedder_dimension(Bad())


def test_memory_record_ts_is_spinekits_float() -> None:
    a = MemoryRecord(id="x", content="y")
    b = MemoryRecord(id="x", content="y")
    assert isinstance(a.ts, float)
    assert a.ts < b.ts  # strictly increasing default
    assert abs(a.ts - datetime.now(UTC).timestamp()) < 60
    moment = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone(timedelta(hours=2)))
    c = MemoryRecord(id="x", content="y", ts=moment)
    assert c.ts == moment.timestamp()
    assert ts_datetime(c.ts) == moment
    assert MemoryRecord(id="x", content="y", ts=12.5).ts == 12.5
    assert MemoryRecord.model_validate_json('{"id": "x", "content": "y", "ts": 3}').ts == 3.0
    for bad in (datetime(2026, 1, 1), float("nan"), True, "soon"):
        with pytest.raises(ValidationError):
            MemoryRecord(id="x", content="y", ts=bad)


def test_now_ts_is_whole_microseconds() -> None:
    stamps = [now_ts() for _ in range(1000)]
    assert stamps == sorted(set(stamps))
    assert all(to_epoch_us(t) / 1_000_000 == t for t in stamps)


async def test_prune_takes_a_datetime_or_epoch_seconds() -> None:
    mem = InMemoryVectorMemory()
    old = await mem.save("old", session_id="s")
    cut = now_ts()
    await mem.save("new", session_id="s")
    assert await mem.prune(before=old.ts) == 0
    assert await mem.prune(before=cut) == 1
    assert await mem.prune(before=datetime.now(UTC)) == 1
    for bad in (datetime(2999, 1, 1), "2999", float("inf"), True):
        with pytest.raises(InvalidInput):
            await mem.prune(before=bad)  # type: ignore[arg-type]


def test_in_memory_vector_memory_takes_dim() -> None:
    assert InMemoryVectorMemory(dim=128).dim == 128
    assert InMemoryVectorMemory().dim == 256
    assert InMemoryVectorMemory(embedder=HashEmbedder(32), dim=128).dim == 32
