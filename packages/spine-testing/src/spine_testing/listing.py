"""The list of checks as text or Markdown (`python -m spine_testing --list`, the README)."""

from __future__ import annotations

from spine_core import Kind

from .registry import list_checks

__all__ = ["checks_markdown", "checks_text"]


def checks_markdown(kind: Kind | None = None) -> str:
    """A Markdown table per kind: check, group (or capability), what it verifies."""
    kinds: tuple[Kind, ...] = (kind,) if kind else ("checkpoint", "memory")
    out: list[str] = []
    for k in kinds:
        checks = list_checks(k)
        out += [f"### {k} ({len(checks)} checks)", "", "| check | group | verifies |"]
        out.append("|---|---|---|")
        out += [f"| `{c.name}` | {c.group} | {c.doc.replace('|', '/')} |" for c in checks]
        out.append("")
    return "\n".join(out)


def checks_text(kind: Kind | None = None) -> str:
    """One line per check: kind, name, group (or capability), what it verifies."""
    checks = list_checks(kind)
    width = max(len(c.name) for c in checks)
    return "\n".join(f"{c.kind:<10}  {c.name:<{width}}  {c.group:<18}  {c.doc}" for c in checks)
