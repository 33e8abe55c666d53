"""Kit code states failures with `expect*` or `raise`, never a bare `assert` (``python -O``
strips those, and a kit that an interpreter flag switches off would pass anything)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "spine_testing"


def bare_asserts(root: Path) -> list[str]:
    """``path:line`` of every `assert` statement in the Python files under `root`."""
    return [
        f"{path.relative_to(root)}:{node.lineno}"
        for path in sorted(root.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Assert)
    ]


def test_kit_code_has_no_bare_assert() -> None:
    assert list(SRC.rglob("*.py")), SRC
    assert bare_asserts(SRC) == []


def test_a_bare_assert_is_found(tmp_path: Path) -> None:
    (tmp_path / "ok.py").write_text("def f(x):\n    if not x:\n        raise ValueError(x)\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "bad.py").write_text("def f(x):\n    assert x, 'x'\n")
    assert bare_asserts(tmp_path) == ["sub/bad.py:2"]
