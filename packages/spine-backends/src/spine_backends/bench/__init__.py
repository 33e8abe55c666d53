"""`spine bench`: one standard workload per backend, with the numbers DESIGN §6 asks for.

Checkpoint put / get / CAS-put latency and throughput for a 50-message state beside the raw
driver; memory save latency, `save_many` throughput, search latency and recall@10 at each
size of each corpus (hashed text, clustered vectors); `HashEmbedder` throughput. Each number
is judged against its target. The result is a JSON-ready dict; `chart.write_chart` draws it.
"""

from __future__ import annotations

import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

from spine_core import ConfigError, HashEmbedder, Kind
from spine_core._opening import backend_name
from spine_core._redact import redact_text

from .checkpoint import run_checkpoint
from .corpus import CORPORA, Corpus, CorpusName, clustered_corpus, make_texts, text_corpus
from .memory import Progress, run_memory

__all__ = [
    "CORPORA",
    "TARGETS",
    "BenchConfig",
    "NullProgress",
    "Progress",
    "memory_goals",
    "metric_value",
    "run_bench",
]

SCHEMA = "spine-bench/2"

TARGETS: dict[str, float] = {
    "checkpoint_overhead_max": 1.10,
    "sqlite_exact_p50_ms": 20.0,
    "sqlite_exact_p50_ms_at_scale": 60.0,
    "ann_p50_ms": 10.0,
    "ann_p50_ms_at_scale": 5.0,
    "ann_recall_at_10": 0.95,
    "postgres_save_many_per_s": 10_000.0,
    "redis_save_many_per_s": 3 * 652.0,
    "qdrant_save_many_per_s": 3 * 519.0,
    "embedder_per_s": 20_000.0,
    "memory_size": 100_000,
    "scale_size": 1_000_000,
}
"""DESIGN §6 and issue 12 targets. Latency and ingest targets apply from `memory_size`
records on (the `_at_scale` ones from `scale_size`); recall applies at every size. Redis and
Qdrant ingest targets are 3x the rates issue 12 measured (652 and 519 records/s)."""


@dataclass(frozen=True)
class BenchConfig:
    """What to run and how much."""

    targets: tuple[str, ...] = ()
    """Names or URLs; empty means the embedded default (SQLite in a temporary directory)."""
    sizes: tuple[int, ...] = (10_000, 100_000)
    repeat: int = 200
    """Measured operations per checkpoint op (and single saves per memory size)."""
    queries: int = 100
    dimension: int = 256
    messages: int = 50
    batch: int = 1000
    embed_texts: int = 20_000
    seed: int = 7
    kinds: tuple[Kind, ...] = ("checkpoint", "memory")
    corpora: tuple[CorpusName, ...] = CORPORA
    """Memory corpora: hashed `text` and/or `clustered` 384-d vectors."""
    quick: bool = False

    @classmethod
    def quick_run(cls, **overrides: Any) -> BenchConfig:
        """Tiny sizes and few repeats: seconds, for smoke tests."""
        base: dict[str, Any] = {
            "sizes": (500,),
            "repeat": 20,
            "queries": 10,
            "embed_texts": 2000,
            "batch": 250,
            "quick": True,
        }
        return cls(**(base | overrides))


class NullProgress:
    """Reports nothing."""

    def stage(self, message: str) -> None:
        """Ignore the note."""

    def bar(self, description: str, total: int) -> AbstractContextManager[Callable[[int], None]]:
        """A bar that draws nothing."""
        return _no_bar()


@contextmanager
def _no_bar() -> Iterator[Callable[[int], None]]:
    yield lambda n: None


@dataclass
class _Plan:
    target: str
    kinds: list[Kind] = field(default_factory=list)


def _environment() -> dict[str, Any]:
    packages = {}
    for dist in importlib_metadata.distributions():
        name = dist.metadata["Name"] or ""
        if name.startswith("spine-") or name in ("numpy", "redis", "psycopg", "qdrant-client"):
            packages[name] = dist.version
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "packages": dict(sorted(packages.items())),
    }


def _embed_rate(embedder: HashEmbedder, texts: list[str]) -> float:
    start = time.perf_counter()
    for text in texts:
        embedder.embed_one(text)
    seconds = time.perf_counter() - start
    return len(texts) / seconds if seconds > 0 else float("inf")


def _bench_embedder(config: BenchConfig) -> dict[str, Any]:
    # The first pass starts with a cold word cache (a fresh process); the next ones, over
    # other texts of the same vocabulary, are the steady state of a long-running agent, which
    # is what the target is about. Best of the warm passes, as timeit does: on a shared
    # machine, interference only ever slows a pass down.
    cold = make_texts(config.embed_texts, seed=config.seed, stream=3)
    texts = make_texts(config.embed_texts, seed=config.seed, stream=4)
    embedder = HashEmbedder(config.dimension)
    cold_rate = _embed_rate(embedder, cold)
    passes = 1 if config.quick else 3
    rates = [_embed_rate(embedder, texts) for _ in range(passes)]
    rate = max(rates)
    return {
        "name": embedder.name,
        "texts": len(texts),
        "chars_per_text": round(sum(map(len, texts)) / len(texts)),
        "cold_per_second": cold_rate,
        "passes": passes,
        "per_second": rate,
        "target": TARGETS["embedder_per_s"],
        "ok": rate >= TARGETS["embedder_per_s"],
    }


Goal = tuple[str, str, str, str, float]
"""(what, metric, unit, comparison, goal)."""


def memory_goals(backend: str, approximate: bool, size: int) -> list[Goal]:
    """The targets a memory store is judged against at `size` records."""
    goals: list[Goal] = []
    scale = size >= TARGETS["scale_size"]
    judged = size >= TARGETS["memory_size"]
    if approximate:
        if judged:
            key = "ann_p50_ms_at_scale" if scale else "ann_p50_ms"
            goals.append(("search p50", "search_p50_ms", "ms", "<=", TARGETS[key]))
        goals.append(("recall@10", "recall_at_10", "", ">=", TARGETS["ann_recall_at_10"]))
    elif backend == "sqlite" and judged:
        key = "sqlite_exact_p50_ms_at_scale" if scale else "sqlite_exact_p50_ms"
        goals.append(("exact search p50", "search_p50_ms", "ms", "<=", TARGETS[key]))
    ingest = f"{backend}_save_many_per_s"
    if judged and ingest in TARGETS:
        goals.append(("save_many", "save_many_per_s", " rec/s", ">=", TARGETS[ingest]))
    return goals


def metric_value(row: dict[str, Any], metric: str) -> float | None:
    """A memory size row's value for a goal's metric (None when not measured)."""
    if metric == "search_p50_ms":
        return float(row["search"]["p50_ms"])
    if metric == "recall_at_10":
        return float(row["recall_at_10"])
    bulk = row.get("save_many") or {}
    rate = bulk.get("records_per_s")
    return None if rate is None else float(rate)


def _check(name: str, value: float, unit: str, op: str, goal: float) -> dict[str, Any]:
    return {
        "name": name,
        "value": value,
        "unit": unit,
        "target": f"{op} {goal:g}",
        "goal": goal,
        "op": op,
        "ok": value <= goal if op == "<=" else value >= goal,
    }


def _judge(result: dict[str, Any], embedder: dict[str, Any]) -> list[dict[str, Any]]:
    """Annotate results with targets; return the list of judged checks."""
    checks = [
        _check(
            f"HashEmbedder throughput ({embedder['chars_per_text']}-char texts)",
            embedder["per_second"],
            " embeddings/s",
            ">=",
            TARGETS["embedder_per_s"],
        )
    ]
    overhead = TARGETS["checkpoint_overhead_max"]
    for item in result["results"]:
        cp = item.get("checkpoint")
        combined = (cp or {}).get("put_get")
        if combined:
            # Issue 12: put + get p50 against the user floor (driver + stdlib json); the
            # strict floor's ratio is shown beside it, not judged.
            ratio = combined.get("ratio_user")
            combined["target"] = overhead
            combined["ok"] = None if ratio is None else ratio <= overhead
            if ratio is not None:
                name = f"{cp['backend']} checkpoint put+get overhead vs user floor (p50)"
                checks.append(_check(name, ratio, "x", "<=", overhead))
        for mem in (item.get("memory") or {}).values():
            for row in mem["sizes"]:
                row["targets"] = []
                for what, metric, unit, op, goal in memory_goals(
                    mem["backend"], mem["approximate"], row["size"]
                ):
                    value = metric_value(row, metric)
                    if value is None:
                        continue
                    name = f"{mem['backend']} {mem['corpus']} {what} at {row['size']:,}"
                    entry = _check(name, value, unit, op, goal) | {"metric": metric}
                    row["targets"].append(entry)
                    checks.append(entry)
    return checks


def _corpora(config: BenchConfig, progress: Progress) -> list[Corpus]:
    size = max(config.sizes)
    corpora = []
    for name in config.corpora:
        if name == "text":
            with progress.bar(f"embedding a {size:,}-text corpus", size) as advance:
                corpora.append(
                    text_corpus(
                        size,
                        config.queries,
                        seed=config.seed,
                        dimension=config.dimension,
                        progress=advance,
                    )
                )
        else:
            progress.stage(f"generating {size:,} clustered 384-d vectors")
            corpora.append(clustered_corpus(config.sizes, config.queries, seed=config.seed))
    return corpora


def _plan(config: BenchConfig, default: str) -> list[_Plan]:
    from spine_backends._targets import resolve_kinds

    plans = []
    for target in config.targets or (default,):
        offered = resolve_kinds(target)
        kinds = [k for k in offered if k in config.kinds]
        if not kinds:
            offered_text = ", ".join(offered)
            raise ConfigError(
                f"{target!r} offers {offered_text}; nothing to run for --kind "
                f"{'/'.join(config.kinds)}"
            )
        plans.append(_Plan(target, kinds))
    return plans


async def run_bench(config: BenchConfig, progress: Progress | None = None) -> dict[str, Any]:
    """Run the benchmark; raises `ConfigError` only for unusable targets (before any work)."""
    from spine_backends._targets import ensure_parent_dir, shown

    progress = progress or NullProgress()
    tmp = None if config.targets else Path(tempfile.mkdtemp(prefix="spine-bench-"))
    default = f"sqlite:///{tmp / 'bench.db'}" if tmp else ""
    try:
        plans = _plan(config, default)
        started = datetime.now(UTC)
        progress.stage(f"HashEmbedder: embedding {config.embed_texts:,} texts")
        embedder = _bench_embedder(config)
        corpora: list[Corpus] = []
        if any("memory" in p.kinds for p in plans):
            corpora = _corpora(config, progress)
        results = []
        for plan in plans:
            ensure_parent_dir(plan.target)
            item: dict[str, Any] = {
                "target": shown(plan.target),
                "backend": backend_name(plan.target, plan.kinds[0]),
                "default": tmp is not None,
                "kinds": plan.kinds,
                "checkpoint": None,
                "memory": None,
                "errors": [],
            }
            if "checkpoint" in plan.kinds:
                cp_name = backend_name(plan.target, "checkpoint")
                progress.stage(f"{cp_name}: checkpoint put/get/CAS x{config.repeat}")
                try:
                    item["checkpoint"] = await run_checkpoint(
                        plan.target, repeat=config.repeat, messages=config.messages
                    )
                except Exception as exc:  # one backend failing must not hide the others
                    item["errors"].append(redact_text(f"checkpoint: {type(exc).__name__}: {exc}"))
            if "memory" in plan.kinds:
                item["memory"] = {}
                for corpus in corpora:
                    try:
                        item["memory"][corpus.name] = await run_memory(
                            plan.target,
                            corpus,
                            sizes=config.sizes,
                            repeat=config.repeat,
                            queries=config.queries,
                            batch=config.batch,
                            progress=progress,
                        )
                    except Exception as exc:
                        error = f"memory ({corpus.name}): {type(exc).__name__}: {exc}"
                        item["errors"].append(redact_text(error))
            results.append(item)
        result: dict[str, Any] = {
            "schema": SCHEMA,
            "created_at": started.isoformat(),
            "seconds": (datetime.now(UTC) - started).total_seconds(),
            "environment": _environment(),
            "config": {
                **asdict(config),
                "targets": [shown(p.target) for p in plans],
            },
            "thresholds": dict(TARGETS),
            "embedder": embedder,
            "results": results,
        }
        result["checks"] = _judge(result, embedder)
        result["errors"] = [f"{r['backend']}: {e}" for r in results for e in r["errors"]]
        result["ok"] = not result["errors"] and all(c["ok"] for c in result["checks"])
        return result
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
