"""pytest-spine is the one distribution that registers the kit's plugin and brings pytest."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import pytest_spine
import spine_testing

HERE = Path(__file__).resolve().parents[1]
KIT = HERE.parent / "spine-testing"


def _project(folder: Path) -> dict:
    return tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_only_pytest_spine_registers_the_plugin() -> None:
    spine = [ep for ep in importlib.metadata.entry_points(group="pytest11") if ep.name == "spine"]
    assert [(ep.dist.name if ep.dist else None, ep.value) for ep in spine] == [
        ("pytest-spine", pytest_spine.PLUGIN)
    ]
    assert _project(HERE)["entry-points"]["pytest11"] == {"spine": "spine_testing.plugin"}
    assert "entry-points" not in _project(KIT)


def test_the_plugin_is_active_here(pytestconfig: pytest.Config) -> None:
    assert pytestconfig.pluginmanager.has_plugin("spine")


def test_the_kit_needs_no_test_framework_and_its_pytest_extra_brings_one() -> None:
    kit = _project(KIT)
    assert not [d for d in kit["dependencies"] if d.startswith(("pytest", "hypothesis"))]
    assert kit["optional-dependencies"]["pytest"] == ["pytest-spine>=0.1,<0.2"]
    ours = _project(HERE)["dependencies"]
    assert [d.split(">")[0] for d in ours] == ["spine-testing", "pytest", "pytest-asyncio"]


def test_the_base_classes_load_lazily_from_the_kit() -> None:
    from spine_testing import contracts

    assert spine_testing.CheckpointStoreContract is contracts.CheckpointStoreContract
    assert spine_testing.MemoryContract is contracts.MemoryContract
    assert spine_testing.Intermittent is contracts.Intermittent
    names = set(dir(spine_testing))
    assert {"CheckpointStoreContract", "MemoryContract", "Intermittent"} <= names
    assert not names & {"Any", "TYPE_CHECKING"}
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = spine_testing.nope  # type: ignore[attr-defined]


def test_without_pytest_the_runner_imports_and_the_base_classes_say_what_to_install() -> None:
    # A meta-path blocker makes pytest unimportable, as in `pip install spine-testing`.
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in {'pytest', '_pytest', 'pytest_asyncio'}:\n"
        "            raise ModuleNotFoundError(f'blocked: {name}', name=name.split('.')[0])\n"
        "sys.meta_path.insert(0, Block())\n"
        "import spine_testing, spine_testing.runner, spine_testing.services\n"
        "from spine_testing import run_conformance, factory_for, ConformanceReport\n"
        "try:\n"
        "    spine_testing.MemoryContract\n"
        "except ModuleNotFoundError as exc:\n"
        "    print(exc)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'pytest', '_pytest'}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.splitlines() == [
        "spine_testing.MemoryContract is the kit's pytest face and needs pytest: "
        'pip install "spine-testing[pytest]"',
        "[]",
    ], out.stderr
