"""Recall of the ANN stores' DEFAULT settings on the bench's clustered corpus (issue 12).

Not timed: only recall@10 against exact search is asserted, for each store opened with its
defaults and loaded with 10k records. At this size HNSW is forgiving (pgvector with
`ef_search=10` still finds ~0.97), so this guards the search path and the defaults against
breakage; the corpus separates shallow settings from good ones at 100k, where `spine bench`
measures them (docs/benchmarks.md). `test_cli_bench` shows `recall_at_k` itself can fail.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from spine_backends.bench.corpus import Corpus, PrecomputedEmbedder, clustered_corpus
from spine_backends.bench.memory import K, recall_at_k
from spine_core import MemoryItem, open_memory

SIZE = 10_000
QUERIES = 50
TARGET = 0.95


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return clustered_corpus((SIZE,), QUERIES, seed=7)


async def _recall(store: Any, corpus: Corpus, index: dict[str, int]) -> float:
    vectors = corpus.query_vectors(SIZE)
    total = 0.0
    for q, text in enumerate(corpus.queries(SIZE)):
        hits = await store.search(text, k=K)
        total += recall_at_k(corpus, vectors[q], SIZE, hits, index)
    return total / QUERIES


async def _load(store: Any, corpus: Corpus) -> dict[str, int]:
    ids: list[str] = []
    for start in range(0, SIZE, 1000):
        chunk = [
            MemoryItem(content=text, session_id="recall")
            for text in corpus.texts[start : start + 1000]
        ]
        ids.extend(r.id for r in await store.save_many(chunk))
    return {rid: i for i, rid in enumerate(ids)}


async def _check(url: str, corpus: Corpus, namespace: str) -> None:
    namespace = f"{namespace}_{secrets.token_hex(4)}"  # never a leftover of a crashed run
    store = open_memory(url, namespace=namespace, embedder=PrecomputedEmbedder(corpus))
    try:
        assert store.capabilities.approximate  # an ANN index is what is under test
        index = await _load(store, corpus)
        recall = await _recall(store, corpus, index)
        assert recall >= TARGET, f"default settings: recall@10 {recall:.3f} < {TARGET}"
    finally:
        try:
            await store.prune(session_id="recall")
        finally:
            await store.aclose()


async def test_pgvector_defaults_reach_recall_on_clustered_data(
    postgres_url: str, corpus: Corpus
) -> None:
    await _check(postgres_url, corpus, "bench_recall_pg")


async def test_redis_defaults_reach_recall_on_clustered_data(
    redis_url: str, corpus: Corpus
) -> None:
    await _check(redis_url, corpus, "bench_recall_redis")
