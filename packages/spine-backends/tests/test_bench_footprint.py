"""`spine bench`'s storage figure: every memory store's private `_footprint()` hook grows when
records are written (not timed; sizes only)."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from spine_backends.bench.corpus import Corpus, PrecomputedEmbedder, clustered_corpus
from spine_backends.bench.memory import _footprint
from spine_core import MemoryItem, open_memory

RECORDS = 300
DIMENSION = 384


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return clustered_corpus((RECORDS,), 1, seed=7)


async def _grows(url: str, corpus: Corpus) -> None:
    namespace = f"bench_footprint_{secrets.token_hex(4)}"
    store = open_memory(url, namespace=namespace, embedder=PrecomputedEmbedder(corpus))
    try:
        before = await _footprint(store)
        assert isinstance(before, int), "the store reports no footprint"
        items = [MemoryItem(content=t, session_id="fp") for t in corpus.texts[:RECORDS]]
        await store.save_many(items)
        after = await _footprint(store)
        assert isinstance(after, int)
        # At least one byte per stored dimension (Redis keeps a quantized copy and the exact
        # float32 vector; the others keep float32).
        assert after - before >= RECORDS * DIMENSION, (before, after)
    finally:
        try:
            await store.prune(session_id="fp")
        finally:
            await store.aclose()


async def test_sqlite_footprint_counts_pages_in_use(tmp_path: Path, corpus: Corpus) -> None:
    await _grows(f"sqlite:///{tmp_path / 'fp.db'}", corpus)


async def test_postgres_footprint_is_the_vector_table(postgres_url: str, corpus: Corpus) -> None:
    await _grows(postgres_url, corpus)


async def test_redis_footprint_is_server_memory(redis_url: str, corpus: Corpus) -> None:
    await _grows(redis_url, corpus)


async def test_qdrant_footprint_is_the_directory(tmp_path: Path, corpus: Corpus) -> None:
    await _grows(f"qdrant+local:///{tmp_path / 'qd'}", corpus)


async def test_in_memory_stores_report_no_footprint(corpus: Corpus) -> None:
    store = open_memory("sqlite://", embedder=PrecomputedEmbedder(corpus))
    try:
        # An in-memory SQLite database still has pages: it is measured like a file.
        assert isinstance(await _footprint(store), int)
    finally:
        await store.aclose()
    qdrant = open_memory("qdrant+local://", embedder=PrecomputedEmbedder(corpus))
    try:
        assert await _footprint(qdrant) is None
    finally:
        await qdrant.aclose()
