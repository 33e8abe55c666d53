"""The benchmark chart: one panel per figure family, each with its target line, via matplotlib.

matplotlib is optional (the `[bench]` extra) and imported only here, when a chart is drawn.
Panels: checkpoint overhead vs the raw driver, search p50, recall@10 and `save_many`
throughput against corpus size (one line per backend and corpus), `HashEmbedder`
throughput, and the list of judged targets. A missed target is a red cross on its point.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from spine_core import ConfigError

from . import TARGETS, metric_value

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["INSTALL_HINT", "ChartUnavailable", "write_chart"]

INSTALL_HINT = 'pip install "spine-backends[bench]"'
_MISS = "#cf222e"
_TARGET = "#57606a"
TIMES = "\u00d7"  # the multiplication sign, for ratios
_OPS = ("put", "get", "cas_put")


class ChartUnavailable(ConfigError):
    """matplotlib is not installed, so no chart can be drawn."""


def _series(result: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(label, memory result) for every backend and corpus measured."""
    out = []
    for item in result["results"]:
        for corpus, mem in (item.get("memory") or {}).items():
            out.append((f"{mem['backend']} · {corpus}", mem))
    return out


def _target_line(ax: Axes, value: float, label: str) -> None:
    ax.axhline(value, color=_TARGET, linestyle="--", linewidth=1)
    ax.annotate(
        label,
        (1.0, value),
        xycoords=("axes fraction", "data"),
        xytext=(-4, 3),
        textcoords="offset points",
        ha="right",
        fontsize=7,
        color=_TARGET,
        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1},
    )


def _misses(ax: Axes, mem: dict[str, Any], metric: str, values: list[float]) -> None:
    for row, value in zip(mem["sizes"], values, strict=True):
        if any(t["metric"] == metric and not t["ok"] for t in row.get("targets") or []):
            ax.plot([row["size"]], [value], "x", color=_MISS, markersize=9, markeredgewidth=2)


def _by_size(ax: Axes, result: dict[str, Any], metric: str, empty: tuple[float, float]) -> bool:
    """One line per backend and corpus; `empty` is the y range shown when nothing was measured."""
    drawn = False
    for label, mem in _series(result):
        rows = [r for r in mem["sizes"] if metric_value(r, metric) is not None]
        if not rows:
            continue
        values = [float(metric_value(r, metric) or 0.0) for r in rows]
        ax.plot([r["size"] for r in rows], values, "o-", label=label, markersize=4)
        _misses(ax, {"sizes": rows}, metric, values)
        drawn = True
    ax.set_xlabel("records in the store")
    ax.grid(True, which="both", alpha=0.3)
    if drawn:
        ax.set_xscale("log")
    else:
        ax.set_ylim(*empty)
        ax.text(0.5, 0.5, "not measured", transform=ax.transAxes, ha="center", color=_TARGET)
    return drawn


def _checkpoint_panel(ax: Axes, result: dict[str, Any]) -> None:
    backends = [i["checkpoint"] for i in result["results"] if i.get("checkpoint")]
    width = 0.8 / len(_OPS)
    for j, op in enumerate(_OPS):
        xs, ys, misses = [], [], []
        for i, cp in enumerate(backends):
            entry = cp["ops"].get(op) or {}
            ratio = entry.get("ratio_user_p50")
            if ratio is None:
                continue
            xs.append(i + (j - 1) * width)
            ys.append(ratio)
            misses.append(ratio > TARGETS["checkpoint_overhead_max"])
        bars = ax.bar(xs, ys, width, label=op, color=f"C{j}")
        for bar, missed in zip(bars, misses, strict=True):
            if missed:  # keep the op's colour, mark the miss
                bar.set_edgecolor(_MISS)
                bar.set_linewidth(2)
                bar.set_hatch("//")
    ax.set_xticks(range(len(backends)), [cp["backend"] for cp in backends])
    ax.set_ylabel(f"store p50 / user floor p50 ({TIMES})")
    ax.set_title("Checkpoint overhead vs driver + stdlib json")
    _target_line(ax, TARGETS["checkpoint_overhead_max"], f"target ≤ 1.10{TIMES} (put + get)")
    ax.grid(True, axis="y", alpha=0.3)
    if backends:
        ax.legend(fontsize=7, loc="upper left")


def _embedder_panel(ax: Axes, result: dict[str, Any]) -> None:
    emb = result["embedder"]
    ax.bar(
        ["warm", "cold"],
        [emb["per_second"], emb["cold_per_second"]],
        color=["C0" if emb["ok"] else _MISS, "#afb8c1"],
    )
    ax.set_ylabel("embeddings / s")
    ax.set_title(f"HashEmbedder, {emb['chars_per_text']}-char texts")
    _target_line(ax, TARGETS["embedder_per_s"], f"target ≥ {TARGETS['embedder_per_s']:,.0f}/s")
    ax.grid(True, axis="y", alpha=0.3)


def _checks_panel(ax: Axes, result: dict[str, Any]) -> None:
    ax.axis("off")
    checks = result["checks"]
    met = sum(1 for c in checks if c["ok"])
    lines = [f"{met}/{len(checks)} targets met"]
    for c in checks[:24]:
        value = f"{c['value']:,.3g}" if abs(c["value"]) < 1000 else f"{c['value']:,.0f}"
        mark = "✓" if c["ok"] else "✗"
        goal = c["target"].replace("<=", "≤").replace(">=", "≥")
        lines.append(f"{mark} {c['name']}: {value}{c['unit']} ({goal})")
    if len(checks) > 24:
        lines.append(f"… and {len(checks) - 24} more in the JSON")
    ax.text(0, 1, "\n".join(lines), va="top", ha="left", fontsize=6.5, family="DejaVu Sans")
    ax.set_title("Targets")


def write_chart(result: dict[str, Any], path: str | Path) -> Path:
    """Draw the chart of a `run_bench` result into `path` (PNG); needs matplotlib."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ChartUnavailable(f"matplotlib is not installed: {INSTALL_HINT}") from None
    fig = Figure(figsize=(15, 9), layout="constrained")
    (a, b, c), (d, e, f) = fig.subplots(2, 3)
    _checkpoint_panel(a, result)

    if _by_size(b, result, "search_p50_ms", (0.1, 100.0)):
        b.legend(fontsize=7)
    b.set_yscale("log")
    b.set_ylabel("search p50 (ms, k=10)")
    b.set_title("Search latency")
    _target_line(b, TARGETS["ann_p50_ms"], "ANN ≤ 10 ms at 100k")
    _target_line(b, TARGETS["sqlite_exact_p50_ms"], "SQLite exact ≤ 20 ms at 100k")

    if _by_size(c, result, "recall_at_10", (0.85, 1.01)):
        c.legend(fontsize=7, loc="lower left")
    recalls = [r["recall_at_10"] for _, mem in _series(result) for r in mem["sizes"]]
    c.set_ylim(max(0.0, min([*recalls, 0.9]) - 0.05), 1.01)  # the region around the target
    c.set_ylabel("recall@10 vs exact search")
    c.set_title("Recall@10")
    _target_line(c, TARGETS["ann_recall_at_10"], "ANN ≥ 0.95")

    if _by_size(d, result, "save_many_per_s", (100.0, 100_000.0)):
        d.legend(fontsize=7)
    d.set_yscale("log")
    d.set_ylabel("save_many (records / s)")
    d.set_title("Ingest")
    for backend in ("postgres", "redis", "qdrant"):
        goal = TARGETS[f"{backend}_save_many_per_s"]
        _target_line(d, goal, f"{backend} ≥ {goal:,.0f}/s at 100k")

    _embedder_panel(e, result)
    _checks_panel(f, result)
    fig.suptitle(f"spine bench · {result['created_at'][:19]} · {result['seconds']:.0f} s")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png", dpi=100)
    return out
