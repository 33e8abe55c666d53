"""Two faces (`spine_core` for users, `spine_core.spi` for backend authors), one capability enum,
and the dead names that are gone."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import spine_core
from spine_core import Capability, CheckpointCapabilities, MemoryCapabilities, spi
from spine_core import _capabilities as capabilities_module
from spine_core._capabilities import (
    CHECKPOINT_OPERATIONS,
    CHECKPOINT_OPTIONAL,
    MEMORY_OPERATIONS,
    MEMORY_OPTIONAL,
    PROPERTIES,
)

REPO = Path(__file__).resolve().parents[3]

IMPLEMENTER_NAMES = {
    "StoreBase",
    "CheckpointStoreBase",
    "MemoryStoreBase",
    "PreparedRecord",
    "dump_state",
    "load_state",
}

DEAD_NAMES = (
    "RevisionedCheckpointStore",
    "TTLCheckpointStore",
    "ListableCheckpointStore",
    "PrunableCheckpointStore",
    "RecordLookupMemory",
    "ForgettingMemory",
    "PrunableMemory",
    "BatchingMemory",
    "FilterableMemory",
    "RawSQLiteSync",
)


def test_the_user_face_holds_no_implementer_names() -> None:
    assert not IMPLEMENTER_NAMES & set(spine_core.__all__)
    namespace: dict[str, object] = {}
    exec("from spine_core import *", namespace)
    assert not IMPLEMENTER_NAMES & set(namespace)
    for name in ("open_checkpoint", "State", "ConfigError", "HashEmbedder", "Capability"):
        assert name in spine_core.__all__


def test_the_implementer_face_has_everything_an_adapter_imports() -> None:
    assert set(spi.__all__) >= IMPLEMENTER_NAMES
    for name in spi.__all__:
        assert getattr(spi, name) is not None, name
    for name in ("BACKENDS", "Capability", "retry_transient", "validate_session_id"):
        assert name in spi.__all__
    # Moved off the face, not removed: old imports keep working.
    assert spine_core.dump_state is spi.dump_state
    assert spine_core.CheckpointStoreBase is spi.CheckpointStoreBase


def test_adapters_and_the_template_import_core_internals_only_from_spi() -> None:
    internal = re.compile(
        r"^\s*(from spine_core\.(_\w+|registry) import|from spine_core import _"
        r"|import spine_core\._)",
        re.M,
    )
    sources = [
        *REPO.glob("adapters/*/src/**/*.py"),
        *REPO.glob("tooling/cookiecutter-*/**/src/**/*.py"),
    ]
    assert len(sources) > 20
    offenders = [str(p.relative_to(REPO)) for p in sources if internal.search(p.read_text())]
    assert offenders == []


PUBLIC_MODULES = {
    "checkpoint",
    "embedders",
    "errors",
    "memory",
    "messages",
    "registry",
    "spi",
    "state",
}


def test_every_other_core_module_is_private() -> None:
    # httpx style: the public faces are `spine_core` and `spine_core.spi` (plus spinekit's
    # module names); the rest is `_private`, free to move without breaking anyone.
    package = REPO / "packages/spine-core/src/spine_core"
    public = {
        p.stem if p.is_file() else p.name
        for p in package.iterdir()
        if not p.name.startswith("_") and (p.suffix == ".py" or (p / "__init__.py").exists())
    }
    assert public == PUBLIC_MODULES


def test_capability_lists_derive_from_the_enum() -> None:
    assert Capability.TTL == "ttl"
    assert set(CHECKPOINT_OPTIONAL) | set(MEMORY_OPTIONAL) | set(PROPERTIES) == set(Capability)
    assert CHECKPOINT_OPTIONAL == CheckpointCapabilities.optional_names() == CHECKPOINT_OPERATIONS
    assert MemoryCapabilities.optional_names() == MEMORY_OPTIONAL
    for model, optional in (
        (CheckpointCapabilities, CHECKPOINT_OPTIONAL),
        (MemoryCapabilities, MEMORY_OPTIONAL),
    ):
        flags = {n for n, f in model.model_fields.items() if f.annotation is bool}
        assert flags == {*optional, *PROPERTIES}
    caps = MemoryCapabilities(get=True, filter=True)
    assert caps.advertised() == {"get", "filter"}
    assert all(isinstance(name, Capability) for name in caps.advertised())


def test_the_kit_s_capability_gates_derive_from_the_enum() -> None:
    from spine_testing.registry import CHECKPOINT_CAPABILITIES, FUNCTIONAL, MEMORY_CAPABILITIES

    assert set(CHECKPOINT_CAPABILITIES) == {
        *CHECKPOINT_OPTIONAL,
        Capability.DURABLE,
        Capability.CONCURRENT_WRITERS,
    }
    assert MEMORY_CAPABILITIES == MEMORY_OPTIONAL
    assert {
        "checkpoint": frozenset(CHECKPOINT_OPERATIONS),
        "memory": frozenset(MEMORY_OPERATIONS),
    } == FUNCTIONAL


def test_a_model_drifting_from_the_enum_fails_at_import(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(capabilities_module, "PROPERTIES", (Capability.DURABLE,))
    with pytest.raises(RuntimeError, match="encryption"):
        capabilities_module._check_fields()


def test_dead_names_are_gone_from_code_and_docs() -> None:
    for name in DEAD_NAMES:
        assert not hasattr(spine_core, name)
        assert not hasattr(spine_core._protocols, name)
    git = shutil.which("git")
    if git is None or not (REPO / ".git").exists():
        pytest.skip("needs a git checkout to list the repository's files")
    args = [arg for name in DEAD_NAMES for arg in ("-e", name)]
    this = str(Path(__file__).resolve().relative_to(REPO))
    proc = subprocess.run(
        [git, "grep", "-n", "-F", *args, "--", ".", f":!{this}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1, proc.stdout  # 1: no line matches


OPTIONAL_OPERATIONS = """\
from datetime import UTC, datetime

from spine_core import MemoryItem, SessionPage, State, open_checkpoint, open_memory


async def use() -> None:
    async with open_checkpoint("memory://") as store:
        revision: int = await store.revision("s")
        await store.put(State(session_id="s"), expected_revision=revision, ttl=5.0)
        page: SessionPage = await store.list_sessions(limit=10)
        pruned: int = await store.prune(before=datetime.now(UTC))
        flag: bool = store.capabilities.revisions
    async with open_memory("memory://") as memory:
        await memory.save_many([MemoryItem(content="x")])
        await memory.search("x", filter={"a": 1})
        gone: bool = await memory.forget("id")
        found = await memory.get("id")
        n: int = await memory.prune(session_id="s")
        flag = memory.capabilities.save_many
"""


def test_optional_operations_type_check_on_what_open_returns(tmp_path: Path) -> None:
    pytest.importorskip("mypy")
    source = tmp_path / "use_optional.py"
    source.write_text(OPTIONAL_OPERATIONS)
    proc = subprocess.run(
        # The repository's cache: spine_core is checked once, by test_quality too.
        [sys.executable, "-m", "mypy", "--strict", str(source)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
