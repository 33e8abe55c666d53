"""Every package is linted (ruff) and typed (mypy --strict): enforced by the test suite,
so the one CI command that runs it also keeps these promises."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _modules() -> list[str]:
    """Top-level module of every workspace member (from its wheel target)."""
    modules = []
    for pyproject in sorted(ROOT.glob("*/*/pyproject.toml")):
        if pyproject.parts[-3] not in {"packages", "adapters", "tooling"}:
            continue
        meta = tomllib.loads(pyproject.read_text())
        targets = meta.get("tool", {}).get("hatch", {}).get("build", {}).get("targets", {})
        for package in targets.get("wheel", {}).get("packages", []):
            modules.append(Path(package).name)
    return modules


def _tool(name: str) -> list[str]:
    exe = shutil.which(name, path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.fail(f"{name} is not installed in this environment (it is in the dev group)")
    return [exe]


def test_ruff_lint_and_format() -> None:
    lint = subprocess.run([*_tool("ruff"), "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = subprocess.run(
        [*_tool("ruff"), "format", "--check", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_mypy_strict_on_every_package() -> None:
    modules = _modules()
    assert len(modules) >= 7, modules
    args = [arg for module in modules for arg in ("-p", module)]
    result = subprocess.run([*_tool("mypy"), *args], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_package_ships_py_typed_and_a_readme() -> None:
    for pyproject in sorted(ROOT.glob("*/*/pyproject.toml")):
        package_dir = pyproject.parent
        if package_dir.parts[-2] not in {"packages", "adapters", "tooling"}:
            continue
        assert (package_dir / "README.md").read_text().strip(), package_dir
        assert (
            "pip install" in (package_dir / "README.md").read_text()
            or package_dir.name == "release"
        )
        for src in (package_dir / "src").iterdir():
            if src.is_dir() and (src / "__init__.py").is_file():
                assert (src / "py.typed").is_file(), src
