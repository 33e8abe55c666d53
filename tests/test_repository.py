"""House rules of the repository that no package test would notice."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ADAPTERS = sorted(p for p in (ROOT / "adapters").iterdir() if (p / "pyproject.toml").is_file())


def test_ci_runs_exactly_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"^(uv run [^\n#]*?)\s+# the whole test suite", readme, re.MULTILINE)
    assert len(commands) == 1, "README must name exactly one test-suite command"
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert commands[0] in ci, f".ci/run must run {commands[0]!r} verbatim"


def test_no_registry_host_is_committed() -> None:
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert "uv.lock" not in tracked
    # Spelled in pieces so this file does not match itself.
    pattern = re.compile(
        "(" + "index" + r"-url|https?://[^\s\"']*/" + r"simple/?[\s\"']|https?://" + r"files\.)"
    )
    offenders = [
        f
        for f in tracked
        if not f.endswith(".md")
        and (ROOT / f).is_file()
        and pattern.search((ROOT / f).read_text(errors="ignore"))
    ]
    assert not offenders


@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda p: p.name)
def test_every_adapter_has_the_same_shape(adapter: Path) -> None:
    meta = tomllib.loads((adapter / "pyproject.toml").read_text())
    project = meta["project"]
    name = project["name"]
    module = name.replace("-", "_")
    assert adapter.name == name
    assert meta["build-system"]["build-backend"] == "hatchling.build"
    assert any(dep.startswith("spine-core>=") and ",<" in dep for dep in project["dependencies"])
    plugins = project["entry-points"]["spine.plugins"]
    assert plugins, "an adapter registers at least one backend"
    for entry, target in plugins.items():
        kind = entry.rpartition(".")[2]
        assert kind in {"checkpoint", "memory"}, entry
        assert target.startswith(f"{module}.{kind}:"), target
    src = adapter / "src" / module
    for path in ["__init__.py", "py.typed"]:
        assert (src / path).is_file(), path
    kinds = {entry.rpartition(".")[2] for entry in plugins}
    for kind in kinds:
        assert (src / f"{kind}.py").is_file(), f"{kind}.py"
    for path in ["README.md", "tests/conftest.py", "tests/test_conformance.py"]:
        assert (adapter / path).is_file(), path
    assert "pip install" in (adapter / "README.md").read_text()
