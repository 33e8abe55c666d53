"""The `spine` command: inspect plugins, check conformance, diagnose, demo and benchmark.

Each subcommand lives in its own public module `spine_backends.cli.<name>` that defines
`add_parser(subparsers)`; the parser it adds sets `func=run`, a callable taking
`(args, ui)` and returning the exit code. Every public module of this package is picked up
(private helpers start with `_`), so adding a subcommand is adding its module. Modules
import their heavy dependencies inside `run`, so `spine --help` stays fast.

Exit codes: 0 success, 1 a check or health probe failed, 2 a usage or configuration error
(printed as one red line, never a traceback), 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from collections.abc import Callable, Sequence
from typing import cast

from spine_core import SpineError

from ._ui import UI

__all__ = ["SUBCOMMANDS", "build_parser", "main"]

_HELP_ORDER = ("demo", "check", "doctor", "plugin", "bench", "new")


def _discover() -> list[str]:
    # Every public module of this package is a subcommand: dropping `new.py` in registers
    # `spine new` with no edit here. Listed ones come first, in that order.
    found = {m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")}
    rank = {name: i for i, name in enumerate(_HELP_ORDER)}
    return sorted(found, key=lambda name: (rank.get(name, len(rank)), name))


SUBCOMMANDS: list[str] = _discover()
"""Modules of `spine_backends.cli` that each contribute one subcommand, in help order."""

Handler = Callable[[argparse.Namespace, UI], int]


def _version() -> str:
    from . import _meta

    return _meta.version_line()


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="spine",
        description="Durable run state and semantic memory for AI agents.",
        epilog="Run `spine demo` to see it work on the embedded SQLite default.",
    )
    parser.add_argument("--version", action="version", version=_version())
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        module = importlib.import_module(f"{__name__}.{name}")
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `spine` command with `argv` (default: the process arguments); return the code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors: argparse already printed
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    func = cast(Handler | None, getattr(args, "func", None))
    if func is None:
        parser.print_help()
        return 2
    ui = UI()
    try:
        return func(args, ui)
    except SpineError as exc:
        ui.error(str(exc))
        return 2
    except KeyboardInterrupt:
        ui.error("interrupted")
        return 130
    except BrokenPipeError:
        # The reader went away (`spine plugin list | head -1`): stop quietly, as Python
        # recommends, pointing stdout at devnull so the interpreter's final flush is silent.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
