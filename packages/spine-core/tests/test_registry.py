"""Registry: explicit registration, lazy entry points, loud misses with install hints."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from importlib import metadata as importlib_metadata
from typing import Any

import pytest

from spine_core import (
    BufferMemory,
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
    assert isinstance(resolve_checkpoint(name), Plain)
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
    assert isinstance(resolve_checkpoint(name), InMemoryCheckpointStore)


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
    assert isinstance(resolve_checkpoint("memory"), InMemoryCheckpointStore)
    assert isinstance(resolve_memory("vector"), InMemoryVectorMemory)
    assert isinstance(resolve_memory("buffer"), BufferMemory)
    assert {"memory"} <= set(list_checkpoints())
    assert {"vector", "buffer"} <= set(list_memories())


def test_resolve_builds_a_store_with_the_config(name: str) -> None:
    seen: list[dict[str, Any]] = []

    def factory(**config: Any) -> Plain:
        seen.append(config)
        return Plain()

    register_memory(name, factory)
    assert isinstance(resolve_memory(name, dim=8, table="t"), Plain)
    assert seen == [{"dim": 8, "table": "t"}]
    store = resolve_checkpoint("memory", namespace="ns-1", default_ttl=5)
    assert (store.namespace, store.default_ttl) == ("ns-1", 5)


def test_resolve_with_bad_options_is_a_config_error_without_secrets() -> None:
    with pytest.raises(ConfigError, match="bad options for checkpoint backend 'memory'") as info:
        resolve_checkpoint("memory", password="hunter2", url="redis://u:hunter2@h")
    assert "hunter2" not in str(info.value)


def test_miss_suggests_the_closest_name() -> None:
    with pytest.raises(ConfigError, match=r"did you mean 'sqlite'\?"):
        resolve_checkpoint("sqlit")
    with pytest.raises(ConfigError, match=r"did you mean 'vector'\?"):
        resolve_memory("vectr")
    with pytest.raises(ConfigError) as info:
        resolve_checkpoint("zzzzzz")
    assert "did you mean" not in str(info.value)


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
        "import sys, types; from spine_core._lazy import lazy_exports;"
        "pkg = types.ModuleType('lazypkg'); pkg.__path__ = [];"
        "sys.modules['lazypkg'] = pkg;"
        "sub = types.ModuleType('lazypkg.home'); sub.Thing = 42; sys.modules['lazypkg.home'] = sub;"
        "pkg.__getattr__, pkg.__dir__ = lazy_exports('lazypkg', {'Thing': 'home'});"
        "print(pkg.Thing, 'Thing' in dir(pkg), hasattr(pkg, 'Other'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["42", "True", "False"]


def test_lazy_exports_name_a_missing_driver_and_what_to_install() -> None:
    # The home module imports a driver that is not installed (a --no-deps install).
    code = (
        "import sys, types; from spine_core._lazy import lazy_exports;"
        "pkg = types.ModuleType('lazypkg'); pkg.__path__ = [];"
        "sys.modules['lazypkg'] = pkg;"
        "pkg.__getattr__, pkg.__dir__ = lazy_exports('lazypkg', {'Thing': 'home'});"
        "import importlib.abc, importlib.util\n"
        "class Home(importlib.abc.MetaPathFinder, importlib.abc.Loader):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name == 'lazypkg.home': return importlib.util.spec_from_loader(name, self)\n"
        "    def exec_module(self, module): import spine_no_such_driver\n"
        "sys.meta_path.insert(0, Home())\n"
        "try:\n"
        "    pkg.Thing\n"
        "except ModuleNotFoundError as exc:\n"
        "    print(exc.name); print(exc)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    name, message = out.stdout.splitlines()
    assert name == "spine_no_such_driver"
    assert "lazypkg.Thing needs the Python module 'spine_no_such_driver'" in message
    assert 'pip install "lazypkg"' in message


# -- self-registering plugins (spinekit's entry-point form) ------------------------------------

SELF_REGISTERING = """
from spine_core import InMemoryCheckpointStore, InMemoryVectorMemory
from spine_core import register_checkpoint, register_memory

register_checkpoint("{name}", lambda **cfg: InMemoryCheckpointStore(**cfg))
register_memory("{name}", InMemoryVectorMemory)
"""


@pytest.fixture
def plugins(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Install throwaway self-registering plugins as plain `spine.plugins` entry points."""
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry_module, "_plain_errors", {})
    monkeypatch.setattr(registry_module, "_plain_loaded", {})
    eps: dict[str, importlib_metadata.EntryPoint] = {}
    monkeypatch.setattr(registry_module, "_plain_entry_points", eps)
    modules: list[str] = []

    def add(ep_name: str, module: str, source: str, *, attr: str | None = None) -> None:
        (tmp_path / f"{module}.py").write_text(source)
        modules.append(module)
        value = f"{module}:{attr}" if attr else module
        eps[ep_name] = importlib_metadata.EntryPoint(
            name=ep_name, value=value, group="spine.plugins"
        )

    yield add
    for module in modules:
        sys.modules.pop(module, None)
    for name in list_checkpoints() + list_memories():
        if name.startswith("sr-"):
            unregister("checkpoint", name)
            unregister("memory", name)


def _row(name: str) -> Any:
    return next(r for r in list_plugins() if r.name == name)


def test_self_registering_plugin_is_listed_then_found_by_name(plugins: Any) -> None:
    plugins("sr-mydb", "sr_mydb_mod", SELF_REGISTERING.format(name="sr-mydb"))
    row = _row("sr-mydb")
    assert (row.kinds, row.kinds_known, row.status) == ((), False, "not loaded")
    assert "sr_mydb_mod" not in sys.modules  # listing imports nothing
    assert "sr-mydb" not in list_checkpoints()
    store = open_checkpoint("sr-mydb", namespace="n")
    assert isinstance(store, InMemoryCheckpointStore)
    assert "sr_mydb_mod" in sys.modules
    row = _row("sr-mydb")
    assert (row.kinds, row.kinds_known, row.status) == (("checkpoint", "memory"), True, "loaded")
    assert isinstance(resolve_memory("sr-mydb"), InMemoryVectorMemory)
    assert "sr-mydb" in list_memories()


def test_module_attr_plugin_may_register_any_name(plugins: Any) -> None:
    source = SELF_REGISTERING.format(name="sr-zeta") + "\nclass Thing:\n    pass\n"
    plugins("sr-acme", "sr_acme_mod", source, attr="Thing")
    assert isinstance(resolve_memory("sr-zeta"), InMemoryVectorMemory)  # loads the others
    row = _row("sr-zeta")
    assert row.kinds == ("checkpoint", "memory")
    assert row.status == "loaded"
    assert not [r for r in list_plugins() if r.name == "sr-acme"]  # shown under what it provides


def test_broken_self_registering_plugin_is_reported_not_raised(plugins: Any) -> None:
    plugins("sr-broken", "sr_broken_mod", "raise ImportError('needs register_provider')\n")
    plugins("sr-good", "sr_good_mod", SELF_REGISTERING.format(name="sr-good"))
    # Resolving another name imports every plain plugin: the broken one is noted, not raised.
    with pytest.raises(ConfigError) as info:
        resolve_checkpoint("sr-absent")
    assert "plugins that failed to import: sr-broken (ImportError: needs register_provider)" in str(
        info.value
    )
    assert "sr-good" in list_checkpoints()
    row = _row("sr-broken")
    assert row.status == "error: ImportError: needs register_provider"
    assert not row.kinds_known
    # Asking for the broken plugin by its own name raises its error.
    with pytest.raises(ConfigError, match=r"plugin 'sr-broken' .* cannot be imported"):
        resolve_checkpoint("sr-broken")


def test_plugin_that_registers_nothing_is_listed_as_loaded(plugins: Any) -> None:
    plugins("sr-provider", "sr_provider_mod", "X = 1\n")
    with pytest.raises(ConfigError, match="no memory backend named 'sr-provider'"):
        resolve_memory("sr-provider")
    row = _row("sr-provider")
    assert (row.kinds, row.kinds_known, row.status) == ((), True, "loaded")
