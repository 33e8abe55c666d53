"""Import contracts (root pyproject.toml, `[tool.importlinter]`) hold, and they catch violations.

Adapters import only the core, never each other; the kit imports only the core; the umbrella
imports core and kit, and adapters only by name (lazily); no import cycles inside the core or
the kit. `lint-imports` reads static imports only, so a lazy import by string is invisible.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def _lint_imports(cwd: Path, *, pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.fail("lint-imports is not installed (import-linter is in the dev group)")
    env = dict(os.environ)
    if pythonpath is not None:
        # Ahead of the workspace's editable installs, so the copies below are what is analysed.
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(
        [exe, "--no-cache", "--config", str(cwd / "pyproject.toml")],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _sources() -> dict[str, Path]:
    """Top-level package name → its source directory, for every workspace package and adapter."""
    return {
        src.name: src
        for group in ("packages", "adapters")
        for src in sorted(ROOT.glob(f"{group}/*/src/*"))
        if (src / "__init__.py").exists()
    }


def test_every_package_is_under_contract() -> None:
    assert set(CONFIG["root_packages"]) == set(_sources()), (
        "add the new package to [tool.importlinter] root_packages and to its contracts"
    )
    adapters = {name for name in _sources() if name.startswith("spine_backend_")}
    for contract in CONFIG["contracts"]:
        if contract["type"] == "independence":
            assert adapters <= set(contract["modules"]), contract["name"]
        if contract["type"] == "acyclic_siblings":
            assert adapters <= set(contract["ancestors"]), contract["name"]


def test_import_contracts_hold() -> None:
    run = _lint_imports(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"Contracts: {len(CONFIG['contracts'])} kept, 0 broken." in run.stdout, run.stdout


VIOLATIONS = {
    "adapter imports another adapter": (
        "spine_backend_redis/_violation.py",
        "import spine_backend_sqlite\n",
        "Adapters and the kit are independent of each other",
    ),
    "the core imports the kit": (
        "spine_core/_violation.py",
        "import spine_testing\n",
        "Layers: umbrella over kit and adapters, everything over core",
    ),
    "the kit imports an adapter": (
        "spine_testing/_violation.py",
        "from spine_backend_postgres import PostgresCheckpoint\n",
        "Adapters and the kit are independent of each other",
    ),
    "the umbrella imports an adapter statically": (
        "spine_backends/_violation.py",
        "import spine_backend_qdrant\n",
        "The umbrella reaches adapters only by name (lazily), never by a static import",
    ),
    "a cycle inside the kit": (
        "spine_testing/_check.py",
        "from . import registry\n",
        "No cycles inside the core, the kit or an adapter",
    ),
    "a cycle inside an adapter": (
        "spine_backend_sqlite/_sqlite.py",
        "from . import _runner\n",
        "No cycles inside the core, the kit or an adapter",
    ),
}


@pytest.mark.parametrize("violation", list(VIOLATIONS))
def test_a_violation_breaks_a_contract(violation: str, tmp_path: Path) -> None:
    """A copy of the sources plus one bad import: `lint-imports` fails, naming the contract."""
    path, line, contract = VIOLATIONS[violation]
    for name, src in _sources().items():
        shutil.copytree(src, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / path
    target.write_text((target.read_text() if target.exists() else "") + line)
    run = _lint_imports(tmp_path, pythonpath=tmp_path)
    assert run.returncode != 0, run.stdout
    assert f"{contract} BROKEN" in run.stdout, run.stdout
    assert "1 broken." in run.stdout, run.stdout
