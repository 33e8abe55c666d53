"""Console output shared by the subcommands: rich when a person watches, plain in CI logs."""

from __future__ import annotations

import json
import os
import sys
from typing import Any, TextIO

from rich.console import Console
from rich.text import Text

from spine_core._redact import redact_text

__all__ = ["UI", "fmt_ms", "fmt_num"]

_LOG_WIDTH = 120
"""Width used when output is not a terminal (CI logs, pipes), unless $COLUMNS says otherwise."""


def _console(stream: TextIO) -> Console:
    terminal = stream.isatty()
    width = None if terminal or os.environ.get("COLUMNS") else _LOG_WIDTH
    # highlight=False: rich would otherwise colour numbers and paths at random in our tables.
    return Console(file=stream, width=width, highlight=False, soft_wrap=False)


class UI:
    """Where a subcommand writes: `out` for results, `err` for diagnostics."""

    def __init__(self, stdout: TextIO | None = None, stderr: TextIO | None = None) -> None:
        self._stdout = stdout if stdout is not None else sys.stdout
        self.out = _console(self._stdout)
        self.err = _console(stderr if stderr is not None else sys.stderr)
        self.unicode = (self.out.encoding or "").lower().replace("-", "") in ("utf8", "utf16")

    @property
    def interactive(self) -> bool:
        """True when a person is watching (progress bars make sense)."""
        return self.err.is_terminal

    def mark(self, ok: bool | None) -> Text:
        """✓ / ✗ (or ok / FAIL without unicode); '—' when there is nothing to judge."""
        if ok is None:
            return Text("—" if self.unicode else "-", style="dim")
        if ok:
            return Text("✓" if self.unicode else "ok", style="green")
        return Text("✗" if self.unicode else "FAIL", style="bold red")

    def error(self, message: str) -> None:
        """One red line on stderr; secrets redacted, newlines folded."""
        line = " ".join(redact_text(message).split())
        self.err.print(Text.assemble(("error: ", "bold red"), (line, "red")), soft_wrap=True)

    def warn(self, message: str) -> None:
        """One yellow line on stderr."""
        line = " ".join(redact_text(message).split())
        self.err.print(
            Text.assemble(("warning: ", "bold yellow"), (line, "yellow")), soft_wrap=True
        )

    def note(self, message: str) -> None:
        """A dim progress note on stderr (keeps stdout for results)."""
        self.err.print(Text(message, style="dim"))

    def print_json(self, data: Any) -> None:
        """Machine output on stdout, bypassing rich (no wrapping, no markup)."""
        self._stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
        self._stdout.flush()


def fmt_ms(value: float | None, *, unit: bool = True) -> str:
    """Milliseconds with sensible precision ('0.291 ms'; without the unit for table cells)."""
    if value is None:
        return "—"
    if value < 1:
        text = f"{value:.3f}"
    elif value < 100:
        text = f"{value:.2f}"
    else:
        text = f"{value:,.0f}"
    return f"{text} ms" if unit else text


def fmt_num(value: float | None, unit: str = "") -> str:
    """A large number with thousands separators."""
    if value is None:
        return "—"
    text = f"{value:,.0f}" if value >= 100 else f"{value:,.2f}"
    return f"{text}{unit}"
