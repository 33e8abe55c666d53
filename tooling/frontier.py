"""Recall against search width and time, on the engines under the stores, without Spine.

    uv run --all-packages python tooling/frontier.py --postgres "$URL" --size 1M
    uv run --all-packages python tooling/frontier.py --redis "$URL" --size 1M --widths 500,4000

`spine bench` measures the stores with their defaults. This measures what the engines can do
at all on the same corpus (`--corpus clustered` or `text`, seed 7, 100 queries as in the
bench): pgvector rows copied in, then one `CREATE INDEX … USING hnsw` with `--m` and
`--build-ef` (ef_construction), searched at each `ef_search` in `--widths`; or a Redis vector
set filled by pipelined `VADD … CAS Q8` with `--m` and `--build-ef`, searched with
`VSIM … COUNT 40 EF` and the 40 re-scored exactly, as `RedisMemory` re-scores its candidates.
Per width it prints one JSON line: recall@10 against exact search, search p50/p95, and how
many queries found at most 1 and at least 7 of their true top 10 (a graph search either finds
a query's neighbourhood or it does not). Everything it writes is dropped at the end.
docs/benchmarks.md ("Why recall falls at 1M") has a run at 1M.
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import numpy.typing as npt

from spine_backends.bench.clustered import clustered_queries, clustered_vectors
from spine_backends.bench.corpus import text_corpus
from spine_backends.cli.bench import parse_sizes

K = 10
Vectors = npt.NDArray[np.float32]
Search = Callable[[Vectors, int], list[int]]


def corpus(name: str, size: int, queries: int, seed: int) -> tuple[Vectors, Vectors]:
    """(stored vectors, query vectors) as `spine bench` builds them."""
    if name == "clustered":
        vectors = clustered_vectors(size, seed=seed, steps=(size,))
        return vectors, clustered_queries(vectors, size, queries, seed=seed)
    text = text_corpus(size, queries, seed=seed, dimension=384)
    return text.vectors, text.query_vectors(size)


def exact_top(vectors: Vectors, queries: Vectors) -> list[set[int]]:
    """Row numbers of each query's true top K (cosine: the vectors are unit length)."""
    tops = []
    for start in range(0, len(queries), 20):  # 20 x N scores at a time bounds the memory
        scores = queries[start : start + 20] @ vectors.T
        tops += [set(row.tolist()) for row in np.argpartition(-scores, K, axis=1)[:, :K]]
    return tops


def measure(
    label: str, width: int, search: Search, queries: Vectors, truth: list[set[int]]
) -> None:
    """Search every query at `width`; print one JSON line of recall and latency."""
    times: list[float] = []
    found: list[int] = []
    for query, true_top in zip(queries, truth, strict=True):
        began = time.perf_counter()
        hits = search(query, width)
        times.append(time.perf_counter() - began)
        found.append(len(set(hits[:K]) & true_top))
    times.sort()
    row = {
        "engine": label,
        "width": width,
        "recall_at_10": round(sum(found) / (K * len(found)), 3),
        "p50_ms": round(1000 * statistics.median(times), 2),
        "p95_ms": round(1000 * times[int(0.95 * (len(times) - 1))], 2),
        "queries_at_most_1": sum(f <= 1 for f in found),
        "queries_at_least_7": sum(f >= 7 for f in found),
    }
    print(json.dumps(row), flush=True)


def _literal(vector: Vectors) -> str:
    return "[" + ",".join(map(str, vector.tolist())) + "]"


@contextmanager
def pgvector(url: str, vectors: Vectors, m: int, build_ef: int) -> Iterator[Search]:
    """A throwaway table holding `vectors`, indexed once after the copy."""
    import psycopg

    table = f"spine_frontier_{secrets.token_hex(4)}"
    conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
    try:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        conn.execute(f"CREATE TABLE {table} (id int, embedding vector({vectors.shape[1]}))")
        began = time.perf_counter()
        with conn.cursor() as cur, cur.copy(f"COPY {table} FROM STDIN") as copy:
            for i, vector in enumerate(vectors):
                copy.write_row((i, _literal(vector)))
        conn.execute(f"ANALYZE {table}")
        copied = time.perf_counter() - began
        # The whole graph in memory, two workers: the fast build pgvector documents (1M
        # records x 384-d at m 16 took 1.9 GB).
        conn.execute("SET maintenance_work_mem = '4GB'")
        conn.execute("SET max_parallel_maintenance_workers = 2")
        conn.execute(
            f"CREATE INDEX ON {table} USING hnsw (embedding vector_cosine_ops)"
            f" WITH (m = {m}, ef_construction = {build_ef})"
        )
        built = time.perf_counter() - began - copied
        print(json.dumps({"copy_s": round(copied, 1), "index_build_s": round(built, 1)}))
        select = f"SELECT id FROM {table} ORDER BY embedding <=> %s::vector LIMIT {K}"

        def search(query: Vectors, width: int) -> list[int]:
            conn.execute(f"SET hnsw.ef_search = {width}")
            return [row[0] for row in conn.execute(select, (_literal(query),))]

        yield search
    finally:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
        conn.close()


@contextmanager
def redis_vector_set(url: str, vectors: Vectors, m: int, build_ef: int) -> Iterator[Search]:
    """A throwaway vector set holding `vectors`, filled by pipelined VADD (CAS, Q8)."""
    import redis

    client: Any = redis.Redis.from_url(url, socket_timeout=60)  # redis-py is partly untyped
    key = f"spine-frontier:{secrets.token_hex(4)}"
    try:
        began = time.perf_counter()
        for start in range(0, len(vectors), 256):
            pipe = client.pipeline(transaction=False)
            for i in range(start, min(start + 256, len(vectors))):
                blob = vectors[i].astype("<f4").tobytes()
                pipe.execute_command(
                    "VADD", key, "FP32", blob, str(i), "CAS", "Q8", "EF", build_ef, "M", m
                )
            pipe.execute()
        print(json.dumps({"vadd_s": round(time.perf_counter() - began, 1)}))

        def search(query: Vectors, width: int) -> list[int]:
            blob = query.astype("<f4").tobytes()
            reply = client.execute_command("VSIM", key, "FP32", blob, "COUNT", 4 * K, "EF", width)
            ids = np.array([int(i) for i in reply], dtype=np.int64)
            exact = vectors[ids] @ query  # Q8 ranks roughly; the store re-scores in FP32
            return [int(i) for i in ids[np.argsort(-exact, kind="stable")][:K]]

        yield search
    finally:
        client.delete(key)
        client.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Build one engine's index over the corpus and measure it at each width."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--postgres", metavar="URL", help="a PostgreSQL with pgvector")
    where.add_argument("--redis", metavar="URL", help="a Redis 8 (vector sets)")
    parser.add_argument("--corpus", choices=("clustered", "text"), default="clustered")
    parser.add_argument("--size", default="100k", help="records, e.g. 20k or 1M")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--m", type=int, default=16, help="graph links per node")
    parser.add_argument("--build-ef", type=int, help="default: 64 (pgvector), 100 (Redis)")
    parser.add_argument("--widths", default=None, help="comma-separated search widths")
    args = parser.parse_args(argv)
    [size] = parse_sizes(args.size)
    vectors, queries = corpus(args.corpus, size, args.queries, args.seed)
    truth = exact_top(vectors, queries)
    engine: Any
    if args.postgres:
        engine = pgvector(args.postgres, vectors, args.m, args.build_ef or 64)
        widths = args.widths or "40,100,200,400,1000"
        label = f"pgvector m {args.m} ef_construction {args.build_ef or 64}"
    else:
        engine = redis_vector_set(args.redis, vectors, args.m, args.build_ef or 100)
        widths = args.widths or "100,500,1000,4000"
        label = f"redis M {args.m} EF {args.build_ef or 100} Q8"
    label += f", {args.corpus} {size:,}"
    with engine as search:
        for width in (int(w) for w in widths.split(",")):
            measure(label, width, search, queries, truth)
    return 0


if __name__ == "__main__":
    sys.exit(main())
