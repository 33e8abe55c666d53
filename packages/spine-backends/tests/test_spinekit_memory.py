"""spinekit's memory tests (packages/spine-backends/tests/test_memory.py), ported as written.

Each asserts the behaviour spinekit's test did, through `spine_backends`' public names.
"""

from __future__ import annotations

from types import SimpleNamespace

from spine_backends import HashEmbedder, InMemoryVectorMemory, MemoryRecord, OpenAIEmbedder


async def test_search_ranks_by_similarity() -> None:
    mem = InMemoryVectorMemory()
    await mem.save("the cat sat on the mat")
    await mem.save("python is a programming language")
    await mem.save("dogs and cats are pets")

    hits = await mem.search("tell me about cats and pets", k=2)
    assert len(hits) == 2
    assert "pets" in hits[0].record.content or "cat" in hits[0].record.content
    assert hits[0].score >= hits[1].score
    assert all("python" not in h.record.content for h in hits[:1])


async def test_session_scoping_and_load() -> None:
    mem = InMemoryVectorMemory()
    await mem.save("alpha note", session_id="s1")
    await mem.save("beta note", session_id="s2")

    scoped = await mem.search("note", k=5, session_id="s1")
    assert [h.record.content for h in scoped] == ["alpha note"]

    loaded = await mem.load("s2")
    assert [r.content for r in loaded] == ["beta note"]


async def test_custom_embedder_is_used() -> None:
    class TagEmbedder:
        """Embeds 'a'->[1,0], everything else ->[0,1]."""

        async def embed(self, text: str) -> list[float]:
            return [1.0, 0.0] if "apple" in text else [0.0, 1.0]

    mem = InMemoryVectorMemory(embedder=TagEmbedder())
    await mem.save("apple pie recipe")
    await mem.save("car engine repair")
    hits = await mem.search("fresh apple", k=1)
    assert "apple" in hits[0].record.content
    assert hits[0].score == 1.0


async def test_openai_embedder_with_fake_client() -> None:
    class FakeEmbeddings:
        async def create(self, *, model, input):  # type: ignore[no-untyped-def]
            return SimpleNamespace(data=[SimpleNamespace(embedding=[0.1, 0.2, 0.3])])

    client = SimpleNamespace(embeddings=FakeEmbeddings())
    embedder = OpenAIEmbedder(client=client)
    assert await embedder.embed("hi") == [0.1, 0.2, 0.3]


async def test_hash_embedder_and_vector_memory_take_dim() -> None:
    assert len(await HashEmbedder().embed("hello")) == 256
    assert HashEmbedder(dim=64).dim == 64
    assert InMemoryVectorMemory(dim=128).dim == 128


def test_memory_record_needs_no_ts() -> None:
    record = MemoryRecord(id="x", content="y")
    assert isinstance(record.ts, float)
