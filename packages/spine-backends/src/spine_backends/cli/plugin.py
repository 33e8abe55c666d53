"""`spine plugin list`: installed and registered backends, without importing any of them.

A self-registering plugin (an entry point naming a module) shows kinds "?" until something
imports it; from then on, the backends it registered.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import Any

from ._ui import UI

__all__ = ["add_parser"]

_STATUS_STYLE = {
    "loaded": "green",
    "not loaded": "dim",
    "registered": "cyan",
    "not installed": "yellow",
}


def add_parser(subparsers: Any) -> None:
    """Register `spine plugin …`."""
    parser = subparsers.add_parser(
        "plugin",
        help="inspect installed backends",
        description="Inspect the backends Spine can use.",
    )
    commands = parser.add_subparsers(dest="plugin_command", metavar="COMMAND", required=True)
    listing = commands.add_parser(
        "list",
        help="list backends: kinds, URL schemes, distribution, version, SPI, load status",
        description=(
            "List every backend by name: the kinds it offers, the URL schemes that open it, "
            "the distribution that ships it, its version, the SPI it targets and whether it "
            "is loaded (a first-party backend not installed says what to install). Reads "
            "package metadata only; imports no plugin."
        ),
    )
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    listing.set_defaults(func=run_list)


def _kinds(kinds: tuple[str, ...], *, known: bool) -> str:
    if not known:
        return "?"
    return ", ".join(kinds) or "—"


def _status(status: str, install: str | None) -> str:
    if status == "not installed" and install:
        return f'not installed: pip install "{install}"'
    return status


def run_list(args: argparse.Namespace, ui: UI) -> int:
    """Print the plugin table (or JSON)."""
    from rich.table import Table
    from rich.text import Text

    from spine_core import list_plugins

    plugins = list_plugins()
    if args.json:
        ui.print_json(
            [{**asdict(p), "kinds": list(p.kinds), "schemes": list(p.schemes)} for p in plugins]
        )
        return 0
    table = Table(title="Spine backends", title_justify="left")
    for column in ("Name", "Kinds", "Schemes", "Distribution", "Version", "SPI", "Status"):
        table.add_column(column, overflow="fold")
    for p in plugins:
        style = "red" if p.status.startswith("error") else _STATUS_STYLE.get(p.status, "")
        table.add_row(
            Text(p.name, style="bold"),
            Text(_kinds(p.kinds, known=p.kinds_known)),
            Text(", ".join(f"{s}://" for s in p.schemes) or "—"),
            Text(p.distribution or "—"),
            Text(p.version or "—"),
            Text(p.spi or "—"),
            Text(_status(p.status, p.install), style=style),
        )
    ui.out.print(table)
    if not plugins:
        ui.out.print(
            "No backends found. Install one with: pip install spine-backends", markup=False
        )
    return 0
