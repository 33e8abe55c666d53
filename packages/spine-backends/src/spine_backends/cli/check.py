"""`spine check TARGET`: run the conformance kit against a backend name or URL."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING, Any

from ._ui import UI

if TYPE_CHECKING:
    from spine_core import Kind

__all__ = ["REQUIRABLE", "add_parser", "check_target"]

REQUIRABLE = ("base", "validated", "standard", "full")
"""`spine_testing.LEVELS` above none, spelled out: importing the kit here would import pytest."""


def add_parser(subparsers: Any) -> None:
    """Register `spine check`."""
    parser = subparsers.add_parser(
        "check",
        help="run the conformance kit against a backend name or URL",
        description=(
            "Run the conformance kit against TARGET, a registered backend name (memory, "
            "vector, sqlite, your own) or a URL (sqlite:///x.db, redis://…), for every kind "
            "it offers. Prints the report and the conformance level (none < base < validated "
            "< standard < full) with a verdict per group of checks; exits 1 when a check fails "
            "(with --require LEVEL: when a kind is below LEVEL), 2 when TARGET cannot be used."
        ),
    )
    parser.add_argument("target", metavar="TARGET", help="backend name or URL")
    parser.add_argument(
        "--kind",
        choices=("checkpoint", "memory"),
        help="check only this kind (default: every kind the target offers)",
    )
    parser.add_argument(
        "--import",
        dest="imports",
        action="append",
        default=[],
        metavar="MODULE",
        help="import MODULE first (its register_checkpoint/register_memory calls run); repeatable",
    )
    parser.add_argument(
        "--plugin",
        dest="plugins",
        action="append",
        default=[],
        metavar="MODULE:ATTR",
        help="register the store class MODULE:ATTR under the name TARGET first; repeatable",
    )
    parser.add_argument(
        "--require",
        choices=REQUIRABLE,
        metavar="LEVEL",
        help="succeed when every kind reaches LEVEL (base, validated, standard, full), even if "
        "checks above it fail (default: succeed only when every check passes)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=run)


class _Ticker:
    """Updates a spinner line as the kit reports each check."""

    def __init__(self, kind: str, status: Any) -> None:
        self.kind = kind
        self.status = status
        self.done = 0

    def __call__(self, result: Any) -> None:
        self.done += 1
        self.status.update(f"{self.kind}: {self.done} checks, last {result.name}: {result.status}")


async def _run_kit(target: str, kinds: list[Kind], ui: UI) -> list[Any]:
    from spine_testing import factory_for, run_conformance

    reports = []
    for kind in kinds:
        factory = factory_for(target, kind)
        if ui.interactive:
            with ui.err.status(f"{kind}: running conformance checks…") as status:
                report = await run_conformance(factory, kind=kind, on_result=_Ticker(kind, status))
        else:
            report = await run_conformance(factory, kind=kind)
        reports.append(report)
    return reports


def check_target(
    target: str,
    kind: Kind | None = None,
    *,
    imports: list[str] | tuple[str, ...] = (),
    plugins: list[str] | tuple[str, ...] = (),
    ui: UI | None = None,
) -> list[Any]:
    """Run the kit for each kind `target` offers; one `ConformanceReport` per kind."""
    from spine_backends._targets import import_modules, register_plugin, resolve_kinds

    import_modules(imports)
    for spec in plugins:
        register_plugin(spec, target)
    kinds = resolve_kinds(target, kind)
    return asyncio.run(_run_kit(target, kinds, ui or UI()))


_STATUS_STYLE = {
    "passed": "green",
    "failed": "bold red",
    "expected failure": "yellow",
    "not advertised": "dim",
    "skipped": "yellow",
}
_LEVEL_STYLE = {
    "full": "bold green",
    "standard": "bold green",
    "validated": "bold yellow",
    "base": "bold yellow",
    "none": "bold red",
}
_VERDICT_STYLE = {"passed": "green", "failed": "bold red", "skipped": "yellow"}


def _render(data: dict[str, Any], ui: UI) -> None:
    from rich.table import Table
    from rich.text import Text

    for kind, facts in data["kinds"].items():
        rows = [r for r in data["results"] if r["kind"] == kind]
        table = Table(
            title=f"conformance · {kind} · {facts.get('store') or ''}".rstrip(" ·"),
            title_justify="left",
        )
        table.add_column("check", no_wrap=True)
        table.add_column("group", style="dim", no_wrap=True)
        table.add_column("status", no_wrap=True)
        table.add_column("time", justify="right", no_wrap=True)
        table.add_column("detail", overflow="fold")
        for r in rows:
            table.add_row(
                r["name"],
                r["group"],
                Text(r["status"], style=_STATUS_STYLE.get(r["status"], "")),
                f"{r['duration']:.2f}s",
                Text(" ".join(str(r["detail"]).split()), style="dim"),
            )
        ui.out.print(table)
        c = facts["counts"]
        level = facts["level"]
        ui.out.print(
            Text.assemble(
                f"{kind}: level ",
                (level.upper(), _LEVEL_STYLE.get(level, "bold")),
                f" · {c['passed']} passed, {c['failed']} failed, "
                f"{c['expected failure']} expected failures, {c['not advertised']} not "
                f"advertised, {c['skipped']} skipped",
            )
        )
        ui.out.print(Text(f"  {facts['reason']}", style="dim"))
        shown_groups = [(g, v) for g, v in facts["groups"].items() if v != "not advertised"]
        parts: list[Any] = ["  groups: "]
        for i, (group, verdict) in enumerate(shown_groups):
            parts += [", " if i else "", f"{group} ", (verdict, _VERDICT_STYLE.get(verdict, ""))]
        ui.out.print(Text.assemble(*parts))
        ui.out.print(
            Text(f"  advertised: {', '.join(facts['advertised']) or 'nothing'}", style="dim")
        )
        for remark in facts.get("remarks", ()):
            ui.out.print(Text(f"  {remark}", style="dim"))
        ui.out.print()


def run(args: argparse.Namespace, ui: UI) -> int:
    """Print the reports; 0 when every check passed."""
    from rich.text import Text

    from spine_backends._targets import shown
    from spine_testing import ConformanceReport

    reports = check_target(
        args.target, args.kind, imports=args.imports, plugins=args.plugins, ui=ui
    )
    combined = ConformanceReport.combine(reports)
    passed = combined.meets(args.require) if args.require else combined.ok
    data = {"target": shown(args.target), "required": args.require, **combined.to_dict()}
    if args.json:
        ui.print_json(data)
        return 0 if passed else 1
    _render(data, ui)
    failures = sum(c["counts"]["failed"] for c in data["kinds"].values())
    wanted = f" (required: {args.require.upper()})" if args.require else ""
    ui.out.print(
        Text.assemble(
            ui.mark(passed),
            f" {shown(args.target)}: level {combined.level.upper()}{wanted}"
            + ("" if combined.ok else f" · {failures} check(s) failed"),
        )
    )
    return 0 if passed else 1
