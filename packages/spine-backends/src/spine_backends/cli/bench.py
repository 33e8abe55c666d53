"""`spine bench`: the standard workload against one or more backends (DESIGN §6)."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ._ui import UI, fmt_ms, fmt_num

TIMES = "\u00d7"  # the multiplication sign, for ratios

__all__ = ["add_parser", "parse_sizes"]


_SIZE_SUFFIXES = {"k": 1_000, "m": 1_000_000}


def _scaled(number: str, factor: int) -> int:
    """'1.5' x 1,000,000 → 1,500,000; a fraction of a record is not a size."""
    value = float(number) * factor
    if factor == 1 or not value.is_integer():
        raise ValueError(number)
    return int(value)


def parse_sizes(text: str) -> tuple[int, ...]:
    """'10000,100k,1M' → (10000, 100000, 1000000); '1.5M' works too."""
    sizes = []
    for part in text.split(","):
        part = part.strip().lower()
        if not part:
            continue
        factor = _SIZE_SUFFIXES.get(part[-1:], 1)
        number = part[:-1] if part[-1:] in _SIZE_SUFFIXES else part
        try:
            value = int(number) * factor if number.isdigit() else _scaled(number, factor)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a size: {part!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"sizes must be positive, got {value}")
        sizes.append(value)
    if not sizes:
        raise argparse.ArgumentTypeError("no sizes given")
    return tuple(sorted(set(sizes)))


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return value


def add_parser(subparsers: Any) -> None:
    """Register `spine bench`."""
    parser = subparsers.add_parser(
        "bench",
        help="benchmark backends: checkpoint overhead vs raw driver, search latency, recall",
        description=(
            "Run the standard workload against each TARGET (a URL or a backend name; "
            "default: embedded SQLite in a temporary directory): checkpoint put/get/CAS "
            "latency and throughput for a 50-message state beside the raw driver, memory "
            "save latency, save_many throughput, search latency and recall@10 against "
            "exact search at each size, on hashed texts and on clustered 384-d vectors "
            "(the hard case for HNSW), and HashEmbedder throughput. Prints each number "
            "beside its target (DESIGN §6) and writes JSON and, with matplotlib "
            '(pip install "spine-backends[bench]"), a PNG chart. Everything it writes '
            "to a backend is deleted afterwards."
        ),
    )
    parser.add_argument("targets", nargs="*", metavar="TARGET", help="backend URLs or names")
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        metavar="N,N",
        help="memory corpus sizes (default 10000,100000; with --quick 500); '10k', '1M' work",
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes and few repeats (seconds, for smoke tests)"
    )
    parser.add_argument(
        "--repeat",
        type=_positive,
        metavar="N",
        help="measured operations per checkpoint op and single saves per size (default 200)",
    )
    parser.add_argument(
        "--queries", type=_positive, metavar="N", help="search queries per size (default 100)"
    )
    parser.add_argument(
        "--kind", choices=("checkpoint", "memory"), help="benchmark only this kind of store"
    )
    parser.add_argument(
        "--corpus",
        choices=("text", "clustered", "both"),
        default="both",
        help="memory corpus: hashed texts, clustered 384-d vectors, or both (default)",
    )
    parser.add_argument(
        "--json",
        dest="json_path",
        default="spine-bench.json",
        metavar="PATH",
        help="where to write the results (default spine-bench.json; '-' prints to stdout)",
    )
    parser.add_argument(
        "--png",
        dest="png_path",
        default="spine-bench.png",
        metavar="PATH",
        help="where to draw the chart (default spine-bench.png; '' to skip; needs matplotlib)",
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when a number misses its target"
    )
    parser.set_defaults(func=run)


class _Reporter:
    """Progress for the bench: bars for a person, one line per step in a log."""

    def __init__(self, ui: UI) -> None:
        self.ui = ui

    def stage(self, message: str) -> None:
        self.ui.note(message)

    @contextmanager
    def bar(self, description: str, total: int) -> Iterator[Callable[[int], None]]:
        if total <= 0:
            yield lambda n: None
            return
        if not self.ui.interactive:
            self.ui.note(f"{description} ({total:,})")
            yield lambda n: None
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=self.ui.err, transient=True) as progress:
            task = progress.add_task(description, total=total)
            yield lambda n: progress.advance(task, n)


def _config(args: argparse.Namespace) -> Any:
    from spine_backends.bench import BenchConfig

    overrides: dict[str, Any] = {"targets": tuple(args.targets)}
    if args.sizes:
        overrides["sizes"] = args.sizes
    if args.repeat:
        overrides["repeat"] = args.repeat
    if args.queries:
        overrides["queries"] = args.queries
    if args.kind:
        overrides["kinds"] = (args.kind,)
    if args.corpus != "both":
        overrides["corpora"] = (args.corpus,)
    return BenchConfig.quick_run(**overrides) if args.quick else BenchConfig(**overrides)


def run(args: argparse.Namespace, ui: UI) -> int:
    """Run, print, write; 1 when a backend failed (or, with --strict, missed a target)."""
    from spine_backends.bench import run_bench

    config = _config(args)
    result = asyncio.run(run_bench(config, _Reporter(ui)))
    to_stdout = args.json_path == "-"
    if not to_stdout:
        _render(result, ui)
    written = []
    if args.json_path and not to_stdout:
        path = Path(args.json_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
        written.append(str(path))
    if args.png_path:
        from spine_backends.bench.chart import ChartUnavailable, write_chart

        try:
            written.append(str(write_chart(result, args.png_path)))
        except ChartUnavailable as exc:
            ui.err.print(f"no chart drawn: {exc}", markup=False)
    if to_stdout:
        ui.print_json(result)
    elif written:
        ui.out.print("wrote " + " and ".join(written), markup=False)
    if result["errors"]:
        return 1
    return 1 if args.strict and not result["ok"] else 0


def _ratio(value: float | None) -> str:
    return f"{value:.2f}{TIMES}" if value is not None else "—"


def _target_text(entry: dict[str, Any] | None, ui: UI) -> Any:
    from rich.text import Text

    if not entry or entry.get("ok") is None:
        return ui.mark(None)
    return Text.assemble(ui.mark(entry["ok"]), f" ≤ {entry['target']:g}{TIMES}")


def _symbols(text: str, ui: UI) -> str:
    return text.replace("<=", "≤").replace(">=", "≥") if ui.unicode else text


_GOAL_LABEL = {"search_p50_ms": "p50", "recall_at_10": "R@10", "save_many_per_s": "bulk"}


def _goal(check: dict[str, Any], ui: UI) -> str:
    goal = check["goal"]
    shown = f"{goal:,.0f}" if goal >= 100 else f"{goal:g}"
    return _symbols(f"{check['op']}{shown}{check['unit'].strip()}", ui).replace("rec/s", "/s")


def _index_details(mem: dict[str, Any]) -> str:
    """The search/index parameters a store reports, so a number is read with its settings."""
    keys = ("hnsw.", "m", "build_ef", "search_ef", "ef", "quantization", "oversample", "index")
    shown = [
        f"{k}={v}"
        for k, v in mem.get("details", {}).items()
        if v is not None and (k in keys or k.startswith(keys[0])) and len(str(v)) <= 40
    ]
    return ", ".join(shown)


def _table(title: str, columns: list[str]) -> Any:
    from rich import box
    from rich.table import Table

    # Compact (one space between columns, no outer edge) so it fits an 80-column terminal.
    table = Table(
        box=box.SIMPLE_HEAD,
        title=title,
        title_justify="left",
        pad_edge=False,
        padding=(0, 1, 0, 0),
    )
    for i, column in enumerate(columns):
        last = i == len(columns) - 1
        table.add_column(column, justify="left" if i == 0 or last else "right", no_wrap=True)
    return table


def _bytes(n: int) -> str:
    """1536 -> '1.5 KiB'."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(size) < 1024 or unit == "GiB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def _render(result: dict[str, Any], ui: UI) -> None:
    from rich.text import Text

    out = ui.out
    for item in result["results"]:
        where = item["target"] + ("  (temporary default)" if item["default"] else "")
        out.print()
        out.print(Text.assemble(("spine bench", "bold"), " · ", (where, "cyan")))
        cp = item.get("checkpoint")
        if cp:
            version = f"{cp.get('distribution', '?')} {cp.get('version', '')}".strip()
            table = _table(
                f"checkpoint · {version} · {cp['messages']} messages "
                f"({cp['state_bytes']:,} B) {TIMES} {cp['repeat']} · ms",
                [
                    "op",
                    "p50",
                    "p95",
                    "ops/s",
                    "user p50",
                    "raw p50",
                    "raw op/s",
                    "vs user",
                    "vs raw",
                    "target",
                ],
            )
            for op, entry in cp["ops"].items():
                if not entry.get("store"):
                    table.add_row(op, Text(entry.get("note", ""), style="dim"))
                    continue
                s, r, u = entry["store"], entry.get("raw") or {}, entry.get("user") or {}
                table.add_row(
                    op,
                    fmt_ms(s["p50_ms"], unit=False),
                    fmt_ms(s["p95_ms"], unit=False),
                    fmt_num(s["ops_per_s"]),
                    fmt_ms(u.get("p50_ms"), unit=False),
                    fmt_ms(r.get("p50_ms"), unit=False),
                    fmt_num(r.get("ops_per_s")),
                    _ratio(entry.get("ratio_user_p50")),
                    _ratio(entry.get("ratio_p50")),
                    "",
                )
            both = cp.get("put_get")
            if both:
                table.add_row(
                    "put+get",
                    fmt_ms(both["store_ms"], unit=False),
                    "",
                    "",
                    fmt_ms(both.get("user_ms"), unit=False),
                    fmt_ms(both.get("raw_ms"), unit=False),
                    "",
                    _ratio(both.get("ratio_user")),
                    _ratio(both.get("ratio_raw")),
                    _target_text(both, ui),
                )
            out.print(table)
            out.print(
                Text(
                    "user floor: the same data through stdlib json and the driver; raw: "
                    "pre-serialized bytes through the store's statements",
                    style="dim",
                )
            )
            if cp.get("raw_note"):
                out.print(Text(f"raw floor: {cp['raw_note']}", style="yellow"))
        for corpus, mem in (item.get("memory") or {}).items():
            mode = "ANN search" if mem["approximate"] else "exact search"
            version = f"{mem.get('distribution', '?')} {mem.get('version', '')}".strip()
            table = _table(
                f"memory · {version} · {corpus} corpus ({mem['dimension']}-d) · {mode}, "
                f"k={mem['k']} · ms",
                [
                    "records",
                    "save p50",
                    "save p95",
                    "bulk/s",
                    "query p50",
                    "query p95",
                    "R@10",
                    "targets",
                ],
            )
            for row in mem["sizes"]:
                save = row.get("save") or {}
                bulk = row.get("save_many") or {}
                judged = row.get("targets") or []
                target = Text(ui.mark(None).plain, style="dim")
                if judged:
                    target = Text(" ").join(
                        Text.assemble(
                            ui.mark(t["ok"]), f" {_GOAL_LABEL[t['metric']]} {_goal(t, ui)}"
                        )
                        for t in judged
                    )
                table.add_row(
                    f"{row['size']:,}",
                    fmt_ms(save.get("p50_ms"), unit=False),
                    fmt_ms(save.get("p95_ms"), unit=False),
                    fmt_num(bulk.get("records_per_s")),
                    fmt_ms(row["search"]["p50_ms"], unit=False),
                    fmt_ms(row["search"]["p95_ms"], unit=False),
                    f"{row['recall_at_10']:.3f}",
                    target,
                )
            out.print(table)
            floors = [
                (row["size"], bulk["records_per_s"], bulk["raw_per_s"])
                for row in mem["sizes"]
                if (bulk := row.get("save_many") or {}).get("raw_per_s")
            ]
            if floors:
                rates = "; ".join(
                    f"{size:,}: {fmt_num(raw)} rec/s"
                    + (f" (store {store / raw:.2f}{TIMES})" if store else "")
                    for size, store, raw in floors
                )
                out.print(
                    Text(f"raw ingest floor (the vectors alone, same index): {rates}"),
                    soft_wrap=True,
                )
            loads = [
                f"{row['size']:,}: {row['load_seconds']:,.0f} s"
                + (f", {_bytes(row['footprint_bytes'])}" if row.get("footprint_bytes") else "")
                for row in mem["sizes"]
                if row.get("load_seconds") is not None
            ]
            if loads:
                out.print(
                    Text(f"load time, storage grown: {'; '.join(loads)}", style="dim"),
                    soft_wrap=True,
                )
            details = _index_details(mem)
            if details:
                out.print(Text(f"defaults: {details}", style="dim"), soft_wrap=True)
            out.print(Text(f"cleanup: {mem['cleanup']}", style="dim"))
        for error in item["errors"]:
            out.print(Text.assemble(ui.mark(False), (f" {error}", "red")), soft_wrap=True)
    emb = result["embedder"]
    out.print()
    out.print(
        Text.assemble(
            ("HashEmbedder", "bold"),
            f" ({emb['name']}): {emb['per_second']:,.0f} embeddings/s for "
            f"{emb['chars_per_text']}-character texts ("
            + (f"best of {emb['passes']} warm passes" if emb["passes"] > 1 else "warm")
            + f"; {emb['cold_per_second']:,.0f}/s cold), target ≥ {emb['target']:,.0f} ",
            ui.mark(emb["ok"]),
        ),
        soft_wrap=True,
    )
    met = sum(1 for c in result["checks"] if c["ok"])
    out.print(
        Text.assemble(
            ui.mark(result["ok"]),
            f" {met}/{len(result['checks'])} targets met in {result['seconds']:.1f} s",
            *((f"; {len(result['errors'])} error(s)", "red"),) if result["errors"] else (),
        )
    )
