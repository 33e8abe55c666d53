"""Memory workload: save latency, `save_many` throughput, load time, storage, search, recall@10.

The store grows through the requested sizes (10k, then 100k): at each size it is measured
as it stands, with the corpus's queries for that size. Recall@10 is against exact search over
the same embeddings (numpy brute force); a hit counts when its exact score reaches the 10th
best exact score, so ties in the ground truth do not penalize a store. Storage is what the
store's private `_footprint()` hook reports (file, table or server memory) grown by its writes.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol, cast

from spine_core import (
    ConfigError,
    MemoryCapabilities,
    MemoryItem,
    capabilities_of,
    open_memory,
)
from spine_core._opening import backend_name
from spine_core._urls import is_url

from .corpus import Corpus, PrecomputedEmbedder
from .stats import summarize

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["K", "Progress", "recall_at_k", "run_memory"]

K = 10
_TOLERANCE = 1e-4
"""Float32 ground truth vs. a store's float64 (or quantized) scores."""


class Progress(Protocol):
    """How a workload reports long-running steps."""

    def stage(self, message: str) -> None:
        """A one-line note about what happens next."""

    def bar(self, description: str, total: int) -> AbstractContextManager[Callable[[int], None]]:
        """A progress bar; the context yields `advance(n)`."""


def _open(target: str, namespace: str, embedder: PrecomputedEmbedder) -> Any:
    try:
        return open_memory(target, namespace=namespace, embedder=embedder)
    except ConfigError as exc:
        if "bad options" not in str(exc):
            raise
        return open_memory(target, embedder=embedder)


async def _save_many(
    store: Any, items: Sequence[MemoryItem], *, batch: int, batching: bool, advance: Any
) -> list[str]:
    ids: list[str] = []
    for start in range(0, len(items), batch):
        chunk = items[start : start + batch]
        if batching:
            records = await store.save_many(chunk)
        else:
            records = [
                await store.save(i.content, session_id=i.session_id, metadata=i.metadata)
                for i in chunk
            ]
        ids.extend(r.id for r in records)
        advance(len(chunk))
    return ids


def load_vector_floor(target: str, backend: str, details: Mapping[str, Any]) -> Any | None:
    """The adapter's raw ingest floor (entry point `<backend>.memory` in `spine.bench`), or None.

    It takes the store's `capabilities.details` (so it builds the index the store builds)
    and offers `open`, `add([(id, little-endian FP32 blob), ...])`, `cleanup` and `close`.
    """
    from importlib import metadata as importlib_metadata

    from .checkpoint import BENCH_GROUP

    if not is_url(target):
        return None
    eps = importlib_metadata.entry_points(group=BENCH_GROUP, name=f"{backend}.memory")
    ep = next(iter(eps), None)
    if ep is None:
        return None
    try:
        return ep.load()(target, details)
    except Exception:  # a broken floor must not stop the store's own numbers
        return None


async def _floor_add(floor: Any, corpus: Corpus, start: int, end: int, batch: int) -> float:
    """Feed records [start, end) to the floor in pipelines of `batch`; the seconds it took."""
    began = time.perf_counter()
    for lo in range(start, end, batch):
        hi = min(lo + batch, end)
        await floor.add(
            [(f"r{i}", corpus.vectors[i].astype("<f4").tobytes()) for i in range(lo, hi)]
        )
    return time.perf_counter() - began


async def _footprint(store: Any) -> int | None:
    """Bytes the store's storage holds now (its private `_footprint` hook), or None."""
    probe = getattr(store, "_footprint", None)
    if not callable(probe):
        return None
    try:
        value = await probe()
    except Exception:  # a figure for the report only: never stop the measurement
        return None
    return value if isinstance(value, int) else None


def recall_at_k(
    corpus: Corpus,
    query: npt.NDArray[np.float32],
    size: int,
    hits: Sequence[Any],
    index: dict[str, int],
) -> float:
    """Share of the true top-K (ties at the K-th score included) among the first K hits."""
    kth, scores = corpus.exact_top(query, size, K)
    wanted = min(K, size)
    good = sum(
        1
        for hit in hits[:wanted]
        if (row := index.get(hit.record.id)) is not None and scores[row] >= kth - _TOLERANCE
    )
    return good / wanted


async def run_memory(
    target: str,
    corpus: Corpus,
    *,
    sizes: Sequence[int],
    repeat: int,
    queries: int,
    batch: int,
    progress: Progress,
) -> dict[str, Any]:
    """Measure one target at each size; cleans up what it wrote; returns the JSON-ready result."""
    token = secrets.token_hex(4)
    session = f"bench-{token}"
    namespace = f"spine_bench_{corpus.name}_{token}"
    store = _open(target, namespace, PrecomputedEmbedder(corpus))
    caps = cast(MemoryCapabilities, capabilities_of(store, "memory"))
    result: dict[str, Any] = {
        "backend": backend_name(target, "memory"),
        "corpus": corpus.name,
        "dimension": corpus.dimension,
        "embedder": corpus.embedder_name,
        "namespace": namespace,
        "approximate": caps.approximate,
        "capabilities": sorted(caps.advertised()),
        "details": {k: v for k, v in caps.details.items() if isinstance(v, str | int | float)},
        "k": K,
        "sizes": [],
    }
    info = getattr(store, "info", None)
    if callable(info):
        described = info()
        result["distribution"] = described.distribution
        result["version"] = described.version
    ids: list[str] = []
    index: dict[str, int] = {}
    # Load time and storage growth add up over the sizes, counting the store's own writes
    # only (the raw floor writes between them, possibly to the same server).
    load_seconds = 0.0
    grown: int | None = 0
    floor = load_vector_floor(target, result["backend"], caps.details) if caps.save_many else None
    if floor is not None:
        try:
            await floor.open()
        except Exception:
            floor = None
    result["raw_floor"] = (
        None if floor is None else f"{type(floor).__module__}.{type(floor).__name__}"
    )
    try:
        for size in sorted(set(sizes)):
            have = len(ids)
            singles = min(repeat, size - have)
            save_times = []
            progress.stage(f"{result['backend']}: saving {have:,} → {size:,} records")
            before = await _footprint(store)
            for i in range(have, have + singles):
                start = time.perf_counter()
                record = await store.save(corpus.texts[i], session_id=session, metadata={"i": i})
                save_times.append(time.perf_counter() - start)
                ids.append(record.id)
            bulk = [
                MemoryItem(content=corpus.texts[i], session_id=session, metadata={"i": i})
                for i in range(have + singles, size)
            ]
            with progress.bar(f"save_many → {size:,}", len(bulk)) as advance:
                start = time.perf_counter()
                ids.extend(
                    await _save_many(
                        store, bulk, batch=batch, batching=caps.save_many, advance=advance
                    )
                )
                bulk_seconds = time.perf_counter() - start
            load_seconds += sum(save_times) + bulk_seconds
            after = await _footprint(store)
            grown = (
                None if grown is None or before is None or after is None else grown + after - before
            )
            raw_rate = None
            if floor is not None and bulk:
                # The same vectors into the floor's own set, grown alongside the store's.
                progress.stage(f"{result['backend']}: raw floor → {size:,} vectors")
                await _floor_add(floor, corpus, have, have + singles, batch)
                raw_seconds = await _floor_add(floor, corpus, have + singles, size, batch)
                raw_rate = len(bulk) / raw_seconds if raw_seconds > 0 else None
            index = {rid: i for i, rid in enumerate(ids)}
            search_times = []
            answers = []
            for text in corpus.queries(size)[:queries]:
                start = time.perf_counter()
                answers.append(await store.search(text, k=K))
                search_times.append(time.perf_counter() - start)
            # Ground truth only after the timed searches: numpy's BLAS threads keep spinning
            # for a while after each product, and on a small machine they took the cores an
            # in-process engine searched on (qdrant-edge: 1.5 ms alone, 24 ms interleaved).
            query_vectors = corpus.query_vectors(size)
            recalls = [
                recall_at_k(corpus, query_vectors[q], size, hits, index)
                for q, hits in enumerate(answers)
            ]
            result["sizes"].append(
                {
                    "size": size,
                    "save": summarize(save_times) if save_times else None,
                    "save_many": {
                        "records": len(bulk),
                        "batch": batch if caps.save_many else 1,
                        "seconds": bulk_seconds,
                        "records_per_s": len(bulk) / bulk_seconds if bulk_seconds > 0 else None,
                        "native": caps.save_many,
                        "raw_per_s": raw_rate,
                    }
                    if bulk
                    else None,
                    "load_seconds": load_seconds,
                    "footprint_bytes": grown,
                    "search": summarize(search_times),
                    "recall_at_10": sum(recalls) / len(recalls),
                }
            )
    finally:
        if floor is not None:
            try:
                await floor.cleanup()
            finally:
                await floor.close()
        result["cleanup"] = await _cleanup(store, session, ids, caps.prune, caps.forget)
        aclose = getattr(store, "aclose", None)
        if callable(aclose):
            await aclose()
    return result


async def _cleanup(store: Any, session: str, ids: list[str], prune: bool, forget: bool) -> str:
    if not ids:
        return "nothing written"
    if prune:
        removed = await store.prune(session_id=session)
        return f"pruned {removed:,} records"
    if forget:
        for rid in ids:
            await store.forget(rid)
        return f"forgot {len(ids):,} records"
    return f"left {len(ids):,} records in session {session!r}: the store cannot delete them"
