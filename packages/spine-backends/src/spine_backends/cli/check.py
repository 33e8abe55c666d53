"""`spine check TARGET`: run the conformance kit against a backend name or URL."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from spine_core import SpineError

from ._ui import UI

if TYPE_CHECKING:
    from spine_core import Kind

__all__ = ["PROBE_TIMEOUT", "REQUIRABLE", "TargetUnreachable", "add_parser", "check_target"]

PROBE_TIMEOUT = 3.0
"""Seconds the reachability probe may take per kind before a server counts as unreachable.

Embedded stores (a file, a directory) are not timed: there is no server to wait for, and
their first open includes importing the driver, which alone can take seconds on a busy machine.
"""

REQUIRABLE = ("base", "validated", "standard", "full")
"""`spine_testing.LEVELS` above none, spelled out: `spine --help` should not load every check."""


def add_parser(subparsers: Any) -> None:
    """Register `spine check`."""
    parser = subparsers.add_parser(
        "check",
        help="run the conformance kit against a backend name or URL",
        description=(
            "Run the conformance kit against TARGET, a registered backend name (memory, "
            "vector, sqlite, your own) or a URL (sqlite:///x.db, redis://…), for every kind "
            "it offers. Prints the report and the conformance level (none < base < validated "
            "< standard < full) with a verdict per group of checks. TARGET is probed once first "
            "(health, bounded): an unreachable server is one line and exit 2; a kind the "
            "server cannot serve (e.g. memory on Redis 7, PostgreSQL without pgvector) is "
            "reported as unsupported in one line and not checked. Exits 0 when every "
            "supported kind passes (with --require LEVEL: reaches LEVEL), 1 when a check "
            "fails, 2 when TARGET cannot be used (unknown, unreachable, or no kind supported). "
            "Retry warnings go to the log, shown only with -v."
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
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="show the stores' retry warnings (the 'spine' logger) while checking",
    )
    parser.set_defaults(func=run)


class TargetUnreachable(SpineError):
    """The target did not answer the reachability probe (`spine check` exits 2)."""


async def _probe(factory: Any, kind: Kind, target: str) -> str | None:
    """None when a `kind` store on `target` is healthy; the reason when the server cannot serve it.

    Raises `TargetUnreachable` (one line: what, where, why) when it does not answer in time.
    """
    from spine_backends._targets import shown
    from spine_core._redact import redact_text
    from spine_testing.context import CheckContext, Target, close_quietly, drop_namespace

    # Its own namespace, like every check: the probe must not touch the user's default one.
    own = await Target(factory, kind, namespace_per_check=True).accepts("namespace")
    store = factory(namespace=CheckContext.fresh_namespace()) if own else factory()
    try:
        health = getattr(store, "health", None)
        if not callable(health):
            return None
        timeout = None if getattr(store, "topology", None) == "embedded" else PROBE_TIMEOUT
        try:
            result = await asyncio.wait_for(health(), timeout=timeout)
        except TimeoutError:
            why = f"no answer within {PROBE_TIMEOUT:g} s"
        else:
            if result.ok:
                if own:  # opening registered the namespace (a memory store's embedder)
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(drop_namespace(store), timeout=timeout)
                return None
            error = str(result.error or "unhealthy")
            # A server that answers but lacks a feature says so (status "unsupported"); a store
            # not on Spine's bases may only report its ConfigError (what to use instead).
            if getattr(result, "status", None) == "unsupported" or error.startswith("ConfigError"):
                return redact_text(error.partition(": ")[2] or error)
            why = error
    finally:
        # A server that never answers must not hold the close either (the probe's budget is 5 s).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(close_quietly(store), timeout=1.0)
    raise TargetUnreachable(
        redact_text(f"cannot reach {shown(target)} ({kind} store): {' '.join(why.split())}")
    )


@contextlib.contextmanager
def _quiet_retries(verbose: bool) -> Iterator[None]:
    """Keep the 'spine' logger's retry warnings off the screen (they stay in any log handler)."""
    log = logging.getLogger("spine")
    if verbose or log.handlers:  # -v, or the user configured where the log goes: leave it
        yield
        return
    null = logging.NullHandler()
    log.addHandler(null)  # a handler stops logging's last-resort print to stderr
    try:
        yield
    finally:
        log.removeHandler(null)


class _Ticker:
    """Updates a spinner line as the kit reports each check."""

    def __init__(self, kind: str, status: Any) -> None:
        self.kind = kind
        self.status = status
        self.done = 0

    def __call__(self, result: Any) -> None:
        self.done += 1
        self.status.update(f"{self.kind}: {self.done} checks, last {result.name}: {result.status}")


async def _run_kit(
    target: str, kinds: list[Kind], ui: UI, unsupported: dict[str, str]
) -> list[Any]:
    from spine_testing import factory_for, run_conformance

    factories = {kind: factory_for(target, kind) for kind in kinds}
    for kind, factory in factories.items():
        reason = await _probe(factory, kind, target)
        if reason is not None:
            unsupported[kind] = reason
    reports = []
    for kind, factory in factories.items():
        if kind in unsupported:
            continue
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
    unsupported: dict[str, str] | None = None,
) -> list[Any]:
    """Run the kit for each kind `target` offers; one `ConformanceReport` per supported kind.

    Kinds the server cannot serve are left out and, with their reason, put in `unsupported`.
    """
    from spine_backends._targets import import_modules, register_plugin, resolve_kinds

    import_modules(imports)
    for spec in plugins:
        register_plugin(spec, target)
    kinds = resolve_kinds(target, kind)
    found: dict[str, str] = {} if unsupported is None else unsupported
    return asyncio.run(_run_kit(target, kinds, ui or UI(), found))


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

    unsupported: dict[str, str] = {}
    with _quiet_retries(args.verbose):
        reports = check_target(
            args.target,
            args.kind,
            imports=args.imports,
            plugins=args.plugins,
            ui=ui,
            unsupported=unsupported,
        )
    if not reports:
        raise TargetUnreachable(
            f"{shown(args.target)} cannot serve "
            + "; ".join(f"{kind}: {why}" for kind, why in unsupported.items())
        )
    combined = ConformanceReport.combine(reports)
    passed = combined.meets(args.require) if args.require else combined.ok
    data = {
        "target": shown(args.target),
        "required": args.require,
        **combined.to_dict(),
        "unsupported": unsupported,
    }
    if args.json:
        ui.print_json(data)
        return 0 if passed else 1
    _render(data, ui)
    for kind, why in unsupported.items():
        ui.out.print(Text(f"{kind}: unsupported — {why}", style="yellow"), soft_wrap=True)
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
