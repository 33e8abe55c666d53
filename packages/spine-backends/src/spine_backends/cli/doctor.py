"""`spine doctor`: open the configured stores and report health, capabilities and location."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from ._ui import UI, fmt_ms

__all__ = ["add_parser", "diagnose"]


def add_parser(subparsers: Any) -> None:
    """Register `spine doctor`."""
    parser = subparsers.add_parser(
        "doctor",
        help="check that the configured backends are reachable and healthy",
        description=(
            "Read spine.toml (--config, $SPINE_CONFIG or ./spine.toml; built-in SQLite "
            "defaults without one), open each configured backend, and report its health "
            "(latency), capabilities and where its data lives. Without a spine.toml it writes "
            "nothing: a default database that does not exist yet is reported, not created. "
            "Exits 1 when a backend is unhealthy, 2 when the configuration itself is invalid."
        ),
    )
    parser.add_argument("--config", type=Path, metavar="PATH", help="spine.toml to read")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(func=run)


def _missing_file(target: str) -> Path | None:
    """The file an embedded-database URL names, when it does not exist yet; else None."""
    from spine_core._urls import embedded_path, is_url
    from spine_core.spi import scheme_storage

    if not is_url(target) or scheme_storage(target.partition("://")[0]) != "file":
        return None
    path = embedded_path(target)
    if path is None or Path(path).exists():
        return None
    return Path(path).resolve()


async def _probe(
    kind: str, target: str, options: dict[str, Any], *, configured: bool = True
) -> dict[str, Any]:
    from spine_backends._targets import location, opened, shown
    from spine_core import SpineError, capabilities_of, open_checkpoint, open_memory
    from spine_core._capabilities import PROPERTIES
    from spine_core._opening import backend_name
    from spine_core._redact import redact_text
    from spine_core._urls import is_url

    row: dict[str, Any] = {
        "kind": kind,
        "target": shown(target),
        "backend": None,
        "options": sorted(options),  # names only: values may be secrets
        "ok": False,
        "status": "unavailable",
        "error": None,
    }
    try:
        row["backend"] = shown(
            backend_name(target, "checkpoint" if kind == "checkpoint" else "memory")
        )
        if kind == "checkpoint":
            store: Any = open_checkpoint(target, **options)
        else:
            store = open_memory(target, **options)
    except SpineError as exc:
        row["error"] = redact_text(f"{type(exc).__name__}: {exc}")
        return row
    async with opened(store):
        info = store.info() if callable(getattr(store, "info", None)) else None
        caps = capabilities_of(store, "checkpoint" if kind == "checkpoint" else "memory")
        row["location"] = location(target) if is_url(target) else (info and info.target)
        advertised = caps.advertised()
        row["capabilities"] = [str(n) for n in caps.optional_names() if n in advertised]
        row["properties"] = [str(name) for name in PROPERTIES if getattr(caps, name)]
        row["details"] = dict(caps.details)
        if info is not None:
            row["info"] = info.model_dump(mode="json")
        missing = None if configured else _missing_file(target)
        if missing is not None:
            # health() would create the database: doctor reports, it never writes.
            row.update(ok=True, status="ok")
            row["error"] = f"no database at {missing} yet (created on first use; not probed)"
            return row
        if not callable(getattr(store, "health", None)):
            row.update(ok=True, status="ok")
            row["error"] = "store has no health() probe; nothing checked"
            return row
        first = await store.health()  # connects: the first probe includes opening
        if not first.ok:
            # "unsupported": the server answers but cannot serve this kind (Redis < 8 memory).
            row["status"] = getattr(first, "status", "unavailable")
            row["error"] = first.error
            return row
        second = await store.health()
        row.update(
            ok=second.ok,
            status=getattr(second, "status", "ok" if second.ok else "unavailable"),
            connect_ms=first.latency_ms,
            latency_ms=second.latency_ms,
            error=second.error,
        )
    return row


async def diagnose(config_path: Path | None) -> dict[str, Any]:
    """Health of every configured backend as a JSON-ready dict.

    Without a spine.toml the built-in SQLite default is not created: a database file that
    does not exist yet is reported, not opened.
    """
    from spine_core import load_config

    config = load_config(config_path)
    rows = []
    for kind, target in (("checkpoint", config.checkpoint), ("memory", config.memory)):
        options = config.options_for(target, kind)
        rows.append(await _probe(kind, target, options, configured=config.source is not None))
    return {
        "config": str(config.source.resolve()) if config.source else None,
        "ok": all(r["ok"] for r in rows),
        "backends": rows,
    }


_UNHEALTHY = {"unsupported": "unsupported by the server", "unavailable": "unhealthy"}
"""How the Health column names each status that is not ok."""


def run(args: argparse.Namespace, ui: UI) -> int:
    """Print the health report; 1 when a backend is unhealthy."""
    from rich.table import Table
    from rich.text import Text

    report = asyncio.run(diagnose(args.config))
    if args.json:
        ui.print_json(report)
        return 0 if report["ok"] else 1
    source = report["config"] or "no spine.toml found: built-in defaults (embedded SQLite)"
    ui.out.print(Text.assemble(("Spine doctor", "bold"), " · config: ", (source, "cyan")))
    table = Table(show_lines=True)
    for column in ("Kind", "Backend", "Data lives in", "Health", "Latency", "Capabilities"):
        table.add_column(column, overflow="fold")
    for row in report["backends"]:
        info = row.get("info") or {}
        backend = Text(row["backend"] or "?", style="bold")
        if info:
            backend.append(
                f"\n{info['distribution']} {info['version']}\nSPI {info['spi_version']}, "
                f"{info['topology']}",
                style="dim",
            )
        word = " healthy" if row["ok"] else f" {_UNHEALTHY.get(row.get('status'), 'unhealthy')}"
        health = Text.assemble(ui.mark(row["ok"]), word)
        caps = (", ".join(row["capabilities"]) or "base only") if "capabilities" in row else "—"
        props = ", ".join(p.replace("_", " ") for p in row.get("properties", []))
        latency = fmt_ms(row.get("latency_ms"))
        if row.get("connect_ms") is not None:
            latency += f"\n(connect {fmt_ms(row['connect_ms'])})"
        table.add_row(
            row["kind"],
            backend,
            Text(str(row.get("location") or row["target"])),
            health,
            latency,
            Text(caps + (f"\n{props}" if props else ""), style="" if caps else "dim"),
        )
    ui.out.print(table)
    for row in report["backends"]:
        if row["error"]:
            style = "yellow" if row["ok"] else "red"
            ui.out.print(
                Text.assemble((f"{row['kind']} ({row['backend'] or '?'}): ", "bold"), row["error"]),
                style=style,
                soft_wrap=True,
            )
    if report["ok"]:
        ui.out.print(Text.assemble(ui.mark(True), " all configured backends are healthy"))
        return 0
    failing = [r for r in report["backends"] if not r["ok"]]
    unsupported = sum(1 for r in failing if r.get("status") == "unsupported")
    parts = (
        [f"{len(failing) - unsupported} backend(s) unhealthy"] if len(failing) > unsupported else []
    )
    if unsupported:
        parts.append(f"{unsupported} kind(s) unsupported by the server")
    ui.out.print(Text.assemble(ui.mark(False), " " + ", ".join(parts)))
    return 1
