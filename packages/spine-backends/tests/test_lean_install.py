"""`pip install spine-backends` brings no test framework, and `spine check` runs without one."""

from __future__ import annotations

import importlib.metadata
import json
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[3]
TEST_FRAMEWORKS = {"pytest", "pytest-asyncio", "hypothesis"}

# An interpreter in which pytest, pytest-asyncio and hypothesis cannot be imported, as in a
# clean venv with `pip install spine-backends`; then `python -m spine_backends ARGS…`.
WITHOUT_PYTEST = (
    "import runpy, sys\n"
    "class Block:\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        if name.split('.')[0] in {'pytest', '_pytest', 'pytest_asyncio', 'hypothesis'}:\n"
    "            raise ModuleNotFoundError(f'blocked: {name}', name=name)\n"
    "sys.meta_path.insert(0, Block())\n"
    "sys.argv = ['spine', *sys.argv[1:]]\n"
    "try:\n"
    "    runpy.run_module('spine_backends', run_name='__main__')\n"
    "finally:\n"
    "    loaded = sorted(m for m in sys.modules if m.split('.')[0] in {'pytest', '_pytest'})\n"
    "    print('pytest modules loaded:', loaded, file=sys.stderr)\n"
)


def _workspace() -> dict[str, dict]:
    """Workspace distribution name → its [project] table."""
    found = {}
    for pyproject in sorted(ROOT.glob("*/*/pyproject.toml")):
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        if "name" in project:
            found[canonicalize_name(project["name"])] = project
    return found


def _requirements(name: str, extras: set[str], workspace: dict[str, dict]) -> list[Requirement]:
    """What installing `name[extras]` asks for directly (environment markers evaluated)."""
    if name in workspace:
        project = workspace[name]
        raw = list(project.get("dependencies", []))
        for extra in extras:
            raw += project.get("optional-dependencies", {}).get(extra, [])
    else:
        raw = importlib.metadata.requires(name) or []
    wanted = [{"extra": e} for e in ("", *extras)]
    return [
        req
        for req in map(Requirement, raw)
        if req.marker is None or any(req.marker.evaluate(env) for env in wanted)
    ]


def _closure(root: str, extras: set[str]) -> set[str]:
    """Every distribution installing `root[extras]` pulls, workspace and third-party alike.

    Workspace members are read from their pyproject files, the others from their installed
    metadata (a third-party distribution not installed here is counted, not followed).
    """
    workspace = _workspace()
    pulled: set[str] = set()
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = [(canonicalize_name(root), frozenset(extras))]
    while todo:
        name, wanted = todo.pop()
        if (name, wanted) in seen:
            continue
        seen.add((name, wanted))
        pulled.add(name)
        if name not in workspace:
            try:
                importlib.metadata.distribution(name)
            except importlib.metadata.PackageNotFoundError:
                continue
        for req in _requirements(name, set(wanted), workspace):
            todo.append((canonicalize_name(req.name), frozenset(req.extras)))
    return pulled


@pytest.mark.parametrize("extra", ["", "redis", "postgres", "qdrant", "all"])
def test_spine_backends_pulls_no_test_framework(extra: str) -> None:
    pulled = _closure("spine-backends", {extra} if extra else set())
    assert "spine-testing" in pulled  # the kit is there (spine check runs it)...
    assert "spine-core" in pulled
    assert not pulled & TEST_FRAMEWORKS, sorted(pulled & TEST_FRAMEWORKS)  # ...not pytest
    assert "pytest-spine" not in pulled


def test_the_pytest_extra_is_what_brings_pytest() -> None:
    """The closure above is not blind: the kit's [pytest] extra does reach pytest."""
    pulled = _closure("spine-testing", {"pytest"})
    assert {"pytest-spine", "pytest", "pytest-asyncio"} <= pulled


def test_spine_check_runs_without_pytest(spine_subprocess, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lean.db'}"
    result = spine_subprocess("check", url, "--json", code=WITHOUT_PYTEST)
    assert result.code == 0, result.err[-3000:]
    assert "pytest modules loaded: []" in result.err
    report = json.loads(result.out)
    assert {k: v["level"] for k, v in report["kinds"].items()} == {
        "checkpoint": "full",
        "memory": "full",
    }
    assert not [r for r in report["results"] if r["status"] == "failed"]


def test_the_blocker_blocks(spine_subprocess) -> None:
    """The interpreter above really cannot import pytest."""
    code = WITHOUT_PYTEST.replace(
        "runpy.run_module('spine_backends', run_name='__main__')", "import pytest"
    )
    result = spine_subprocess(code=code)
    assert result.code == 1
    assert "ModuleNotFoundError: blocked: pytest" in result.err
