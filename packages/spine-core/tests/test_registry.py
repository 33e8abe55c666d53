"""Registry: explicit registration, lazy entry points, loud misses with install hints."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from importlib import metadata as importlib_metadata
from typing import Any

import pytest

from spine_core import (
    ConfigError,
    InMemoryCheckpointStore,
    InMemoryVectorMemory,
    list_checkpoints,
    list_memories,
    list_plugins,
    open_checkpoint,
    open_memory,
    register_checkpoint,
    register_memory,
    resolve_checkpoint,
    resolve_memory,
)
from spine_core import registry as registry_module
from spine_core.registry import unregister


class Plain:
    async def put(self, state: Any) -> None: ...
    async def get(self, session_id: str) -> None: ...
    async def delete(self, session_id: str) -> None: ...


@pytest.fixture
def name(request: pytest.FixtureRequest) -> Iterator[str]:
    value = f"t-{request.node.name[:40]}".replace("[", "-").replace("]", "")
    yield value
    unregister("checkpoint", value)
    unregister("memory", value)


def test_register_and_resolve(name: str) -> None:
    register_checkpoint(name, Plain)
    assert resolve_checkpoint(name) is Plain
    assert name in list_checkpoints()
    register_checkpoint(name, Plain)  # the same factory again is harmless
    opened = open_checkpoint(name)
    assert isinstance(opened.wrapped, Plain)  # type: ignore[attr-defined]


async def test_plain_stores_get_a_lifecycle(name: str) -> None:
    register_checkpoint(name, Plain)
    async with open_checkpoint(name) as store:
        assert await store.get("x") is None
    managed = open_checkpoint("memory")
    assert isinstance(managed, InMemoryCheckpointStore)  # real stores are returned as they are


def test_different_factory_under_taken_name_fails(name: str) -> None:
    register_checkpoint(name, Plain)
    with pytest.raises(ConfigError, match="already registered"):
        register_checkpoint(name, InMemoryCheckpointStore)
    register_checkpoint(name, InMemoryCheckpointStore, replace=True)
    assert resolve_checkpoint(name) is InMemoryCheckpointStore


@pytest.mark.parametrize("bad", ["", " x", "a:b", "a/b", None])
def test_bad_names(bad: Any) -> None:
    with pytest.raises(ConfigError):
        register_memory(bad, InMemoryVectorMemory)


def test_non_callable_factory(name: str) -> None:
    with pytest.raises(ConfigError, match="callable"):
        register_checkpoint(name, 42)  # type: ignore[arg-type]


def test_incompatible_spi_fails_loud(name: str) -> None:
    class Future(Plain):
        SPI_VERSION = "9.0"

    with pytest.raises(ConfigError, match=r"SPI 9\.0"):
        register_checkpoint(name, Future)
    assert name not in list_checkpoints()


def test_miss_lists_installed_and_hints_the_extra() -> None:
    with pytest.raises(ConfigError) as info:
        resolve_checkpoint("no-such-backend")
    assert "memory" in str(info.value)  # lists what is installed
    if "redis" not in list_checkpoints():
        with pytest.raises(ConfigError, match=r'pip install "spine-backends\[redis\]"'):
            resolve_checkpoint("redis")


def test_memory_only_backend_says_so() -> None:
    with pytest.raises(ConfigError, match="keeps no checkpoint data"):
        resolve_checkpoint("qdrant")


def test_built_in_entry_points_resolve() -> None:
    assert resolve_checkpoint("memory") is InMemoryCheckpointStore
    assert resolve_memory("vector") is InMemoryVectorMemory
    assert {"memory"} <= set(list_checkpoints())
    assert {"vector"} <= set(list_memories())


def test_open_by_url_and_bad_options() -> None:
    assert isinstance(open_memory("vector://"), InMemoryVectorMemory)
    with pytest.raises(ConfigError, match="bad options"):
        open_checkpoint("memory", no_such_option=1)
    with pytest.raises(ConfigError, match="unknown checkpoint URL scheme"):
        open_checkpoint("ftp://x")


def test_bad_options_never_echo_secrets(name: str) -> None:
    def factory(*, url: str) -> Plain:
        return Plain()

    register_checkpoint(name, factory)
    with pytest.raises(ConfigError) as info:
        open_checkpoint(name, uri="redis://user:hunter2@host")  # a signature mismatch
    assert "hunter2" not in str(info.value)


def test_listing_imports_nothing() -> None:
    code = (
        "import sys; from spine_core import list_plugins; rows = list_plugins();"
        "mods = [m for m in sys.modules if m.startswith('spine_backend')];"
        "print(len(rows), mods)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith("[]"), out.stdout


def test_plugin_rows_describe_entry_points() -> None:
    rows = {row.name: row for row in list_plugins()}
    assert rows["memory"].kinds == ("checkpoint",)
    assert rows["memory"].distribution == "spine-core"
    assert rows["vector"].kinds == ("memory",)


def test_broken_entry_point_reports_import_error(monkeypatch: pytest.MonkeyPatch) -> None:
    ep = importlib_metadata.EntryPoint(
        name="ghost.checkpoint", value="spine_no_such_module:Store", group="spine.plugins"
    )
    monkeypatch.setattr(registry_module, "_entry_points", {("ghost", "checkpoint"): ep})
    monkeypatch.setattr(registry_module, "_load_errors", {})
    with pytest.raises(ConfigError, match="cannot be imported"):
        resolve_checkpoint("ghost")
    [row] = [r for r in list_plugins() if r.name == "ghost"]
    assert row.status.startswith("error:")


def test_lazy_exports_import_on_first_access() -> None:
    code = (
        "import sys, types; from spine_core.lazy import lazy_exports;"
        "pkg = types.ModuleType('lazypkg'); pkg.__path__ = [];"
        "sys.modules['lazypkg'] = pkg;"
        "sub = types.ModuleType('lazypkg.home'); sub.Thing = 42; sys.modules['lazypkg.home'] = sub;"
        "pkg.__getattr__, pkg.__dir__ = lazy_exports('lazypkg', {'Thing': 'home'});"
        "print(pkg.Thing, 'Thing' in dir(pkg), hasattr(pkg, 'Other'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["42", "True", "False"]
