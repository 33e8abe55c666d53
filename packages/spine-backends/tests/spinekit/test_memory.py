"""spinekit's memory tests, ported: ranking, session scoping, load, custom embedders, registry.

Each test runs on every memory backend (in-memory vectors, SQLite, Redis 8, pgvector, Qdrant
local), built as a spinekit user builds them.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest


async def test_search_ranks_by_similarity(memory: Any) -> None:
    await memory.save("the cat sat on the mat")
    await memory.save("python is a programming language")
    await memory.save("dogs and cats are pets")

    hits = await memory.search("tell me about cats and pets", k=2)
    assert len(hits) == 2
    assert "pets" in hits[0].record.content or "cat" in hits[0].record.content
    assert hits[0].score >= hits[1].score
    assert all("python" not in h.record.content for h in hits[:1])


async def test_session_scoping_and_load(memory: Any) -> None:
    await memory.save("alpha note", session_id="s1")
    await memory.save("beta note", session_id="s2")

    scoped = await memory.search("note", k=5, session_id="s1")
    assert [h.record.content for h in scoped] == ["alpha note"]

    loaded = await memory.load("s2")
    assert [r.content for r in loaded] == ["beta note"]


async def test_custom_embedder_is_used(make_memory: Callable[..., Any]) -> None:
    class TagEmbedder:
        """Embeds 'apple' texts as [1, 0], everything else as [0, 1]."""

        async def embed(self, text: str) -> list[float]:
            return [1.0, 0.0] if "apple" in text else [0.0, 1.0]

    store = make_memory(embedder=TagEmbedder())
    try:
        await store.save("apple pie recipe")
        await store.save("car engine repair")
        hits = await store.search("fresh apple", k=1)
    finally:
        await store.aclose()
    assert "apple" in hits[0].record.content
    assert hits[0].score == pytest.approx(1.0, abs=1e-6)


async def test_records_default_their_timestamp(memory: Any) -> None:
    from spine_core import MemoryRecord

    record = MemoryRecord(id="r1", content="no ts given")
    assert isinstance(record.ts, float)
    saved = await memory.save("stamped", session_id="s")
    assert isinstance(saved.ts, float)
    assert (await memory.load("s"))[0].ts == pytest.approx(saved.ts, abs=1e-6)


async def test_registry_resolves_vector_memory() -> None:
    import spine_backends  # noqa: F401  (registers backends, as in spinekit)
    from spine_backends import InMemoryVectorMemory
    from spine_core import resolve_memory

    mem = resolve_memory("vector", dim=128)
    assert isinstance(mem, InMemoryVectorMemory)
    assert mem.dim == 128


async def test_buffer_memory_returns_recent() -> None:
    from spine_backends import BufferMemory

    mem = BufferMemory()
    for i in range(5):
        await mem.save(f"note {i}", session_id="s")
    hits = await mem.search("anything", k=2, session_id="s")
    assert [h.record.content for h in hits] == ["note 4", "note 3"]
    assert [r.content for r in await mem.load("s", limit=2)] == ["note 3", "note 4"]


async def test_openai_embedder_with_an_injected_client() -> None:
    from spine_backends import OpenAIEmbedder

    class Embeddings:
        async def create(self, *, model: str, input: Any, **_: Any) -> Any:
            texts = [input] if isinstance(input, str) else list(input)
            return SimpleNamespace(
                data=[
                    SimpleNamespace(embedding=[0.1, 0.2, 0.3], index=i) for i in range(len(texts))
                ]
            )

    embedder = OpenAIEmbedder(client=SimpleNamespace(embeddings=Embeddings()))
    assert await embedder.embed("hi") == [0.1, 0.2, 0.3]


def test_registry_lists_vector_buffer_and_pgvector() -> None:
    import spine_backends  # noqa: F401
    from spine_core import list_memories

    assert {"vector", "buffer", "pgvector"} <= set(list_memories())


async def test_hash_embedder_embeds_one_text() -> None:
    from spine_backends import HashEmbedder

    embedder = HashEmbedder(dim=64)
    vector = await embedder.embed("hello world")
    assert embedder.dim == 64
    assert len(vector) == 64
    assert sum(x * x for x in vector) == pytest.approx(1.0)
