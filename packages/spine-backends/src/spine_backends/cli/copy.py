"""`spine copy SOURCE TARGET`: move sessions and memories between backends, then verify."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spine_core import InvalidInput

from ._ui import UI, fmt_num

if TYPE_CHECKING:
    from spine_core._copy import CopyProgress, CopyReport

__all__ = ["add_parser", "parse_since"]


def add_parser(subparsers: Any) -> None:
    """Register `spine copy`."""
    parser = subparsers.add_parser(
        "copy",
        help="copy sessions and memories from one backend to another",
        description=(
            "Copy every session (checkpoints) and/or memory from SOURCE to TARGET, each a URL "
            "or a registered backend name. The source is only read. Sessions keep their state, "
            "tenant, ttl remaining and updated_at, and are written with compare-and-set: a "
            "session TARGET already holds with another state is reported as a conflict, not "
            "overwritten (--overwrite forces). Memories keep id, session, metadata and "
            "timestamp; vectors are copied when both sides use the same embedder, re-embedded "
            "otherwise (--reembed forces). Progress is saved after every page in "
            "./.spine/copy-<hash>.json, so --resume continues an interrupted copy. At the end "
            "both sides are counted and a sample read back. Exits 0 when everything copied "
            "and verified, 1 on a conflict or a verification mismatch, 2 on a usage error or "
            "an unreachable store."
        ),
    )
    parser.add_argument("source", metavar="SOURCE", help="backend name or URL to read")
    parser.add_argument("target", metavar="TARGET", help="backend name or URL to write")
    parser.add_argument(
        "--kind",
        choices=("checkpoint", "memory"),
        help="copy only this kind (default: every kind both offer)",
    )
    parser.add_argument("--namespace", help="namespace to read and write (default: the default)")
    parser.add_argument("--tenant", metavar="TENANT", help="copy only this tenant's sessions")
    parser.add_argument(
        "--since",
        type=parse_since,
        metavar="WHEN",
        help="copy only items updated/saved at or after WHEN (ISO 8601; UTC when no offset)",
    )
    parser.add_argument("--dry-run", action="store_true", help="read and count; write nothing")
    parser.add_argument(
        "--resume", action="store_true", help="continue the interrupted copy of the same pair"
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace sessions TARGET already holds"
    )
    parser.add_argument(
        "--reembed", action="store_true", help="embed every memory again with TARGET's embedder"
    )
    parser.add_argument(
        "--from-layout",
        choices=("spinekit",),
        help="read SOURCE in spinekit's layout (its tables or keys), without changing it",
    )
    parser.add_argument(
        "--page-size",
        type=int,
        default=500,
        metavar="N",
        help="items per page read and written (default 500)",
    )
    parser.add_argument("--state", type=Path, metavar="PATH", help="state file (for --resume)")
    parser.add_argument(
        "--config",
        type=Path,
        metavar="PATH",
        help="spine.toml whose [spine.embedder] both memory stores use "
        "(default: $SPINE_CONFIG or ./spine.toml when present, else the stores' default)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="show the stores' retry warnings"
    )
    parser.set_defaults(func=run)


def parse_since(text: str) -> datetime:
    """An ISO 8601 moment; a naive one is taken as UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date/time: {text!r}") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class _Bar:
    """A rich progress bar per kind and phase: rate and ETA when the total is known."""

    def __init__(self, ui: UI) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=ui.err,
            transient=False,
        )
        self.tasks: dict[tuple[str, str], Any] = {}

    def __call__(self, event: CopyProgress) -> None:
        key = (event.kind, event.phase)
        task = self.tasks.get(key)
        copying = self.tasks.get((event.kind, "copy"))
        if event.phase == "verify" and task is None and copying is not None:
            # The copy is over: fill its bar (its total was unknown while it ran).
            done = self.progress.tasks[copying].completed
            self.progress.update(copying, total=done, completed=done)
        if task is None:
            task = self.progress.add_task(
                f"{event.kind}: {event.phase}", total=event.total, rate=""
            )
            self.tasks[key] = task
        self.progress.update(task, completed=event.done, total=event.total)
        speed = self.progress.tasks[task].speed if event.phase == "copy" else None
        if speed:
            self.progress.update(task, rate=f"{fmt_num(speed)}/s")
        if event.phase == "verify" and event.total is not None:
            self.progress.update(task, completed=event.total)


class _Notes:
    """Plain lines for logs: one per phase, then every 10 pages."""

    def __init__(self, ui: UI) -> None:
        self.ui = ui
        self.calls = 0

    def __call__(self, event: CopyProgress) -> None:
        self.calls += 1
        if event.done == 0 or self.calls % 10 == 0:
            self.ui.note(f"{event.kind}: {event.phase} {event.done:,}")


async def _copy(args: argparse.Namespace, ui: UI) -> CopyReport:
    from spine_core import copy, load_config

    embedder = load_config(args.config).build_embedder()
    options: dict[str, Any] = dict(
        kind=args.kind,
        namespace=args.namespace,
        tenant_id=args.tenant,
        since=args.since,
        dry_run=args.dry_run,
        resume=args.resume,
        overwrite=args.overwrite,
        reembed=args.reembed,
        page_size=args.page_size,
        state_path=args.state,
        from_layout=args.from_layout,
        embedder=embedder,
    )
    if ui.interactive and not args.json:
        bar = _Bar(ui)
        with bar.progress:
            return await copy(args.source, args.target, progress=bar, **options)
    return await copy(args.source, args.target, progress=_Notes(ui), **options)


def _render(report: CopyReport, ui: UI) -> None:
    from rich.text import Text

    verb = "would copy" if report.dry_run else "copied"
    for part in report.kinds:
        unit = "sessions" if part.kind == "checkpoint" else "records"
        line = [
            f"{part.kind}: {verb} {part.copied:,} {unit} of {part.read:,} read",
            f"in {part.seconds:.1f} s ({fmt_num(part.rate)}/s)",
        ]
        if part.resumed_from is not None:
            line.append(f"resumed after {part.resumed_from!r}")
        ui.out.print(Text(" ".join(line)), soft_wrap=True)
        extras = [
            f"{n:,} {what}"
            for n, what in (
                (part.unchanged, "already there"),
                (part.skipped_since, "older than --since"),
                (part.expired, "expired"),
                (part.reembedded, "re-embedded"),
            )
            if n
        ]
        if extras:
            ui.out.print(Text("  " + ", ".join(extras), style="dim"), soft_wrap=True)
        if part.conflicts:
            shown_ids = ", ".join(part.conflict_ids[:10])
            more = "…" if part.conflicts > 10 else ""
            ui.out.print(
                Text(
                    f"  {part.conflicts:,} conflict(s): the target holds another state for "
                    f"{shown_ids}{more} (not overwritten; --overwrite forces)",
                    style="bold red",
                ),
                soft_wrap=True,
            )
        if part.verified is not None:
            groups = "sessions" if part.kind == "memory" else "tenants"
            ui.out.print(
                Text.assemble(
                    "  ",
                    ui.mark(part.verified),
                    f" verified: counts of {len(part.source_counts):,} {groups}, "
                    f"{part.sampled} items read back",
                ),
                soft_wrap=True,
            )
        for mismatch in part.mismatches[:20]:
            ui.out.print(Text(f"  mismatch: {mismatch}", style="red"), soft_wrap=True)
    ui.out.print(Text.assemble(ui.mark(report.ok), " ok" if report.ok else " not ok"))


def run(args: argparse.Namespace, ui: UI) -> int:
    """Copy, print the report; 0 when everything copied and verified."""
    if args.page_size < 1:
        raise InvalidInput("--page-size must be at least 1")
    from .check import _quiet_retries

    with _quiet_retries(args.verbose):
        report = asyncio.run(_copy(args, ui))
    if args.json:
        ui.print_json(report.to_dict())
    else:
        _render(report, ui)
    return 0 if report.ok else 1
