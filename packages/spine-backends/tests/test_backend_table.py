"""One table of backends: URL schemes, install hints, known kinds, lazy classes, plugin list."""

from __future__ import annotations

import importlib
from importlib import metadata as importlib_metadata
from pathlib import Path
from types import MappingProxyType

import pytest

import spine_backends
from spine_core import ConfigError, list_plugins, open_checkpoint, open_memory
from spine_core import _backends as table
from spine_core._urls import backend_for_url
from spine_core.registry import INSTALL_HINTS, refresh_plugins
from spine_core.spi import BACKENDS, Backend, lazy_classes

FIFTH = Backend(
    name="fifthdb",
    kinds=("checkpoint", "memory"),
    schemes=("fifth", "fifths"),
    install="spine-backends[fifthdb]",
    classes={
        "checkpoint": "spine_backend_fifthdb.checkpoint:FifthCheckpoint",
        "memory": "spine_backend_fifthdb.memory:FifthMemory",
    },
)


@pytest.fixture
def fifth_row(monkeypatch: pytest.MonkeyPatch) -> Backend:
    """The table with one more first-party backend row (its package is not installed)."""
    monkeypatch.setattr(table, "BACKENDS", MappingProxyType({**BACKENDS, FIFTH.name: FIFTH}))
    return FIFTH


def test_every_scheme_of_the_table_opens_its_backend() -> None:
    for row in BACKENDS.values():
        for scheme in row.schemes:
            for kind in row.kinds:
                # `memory://` is the one scheme two rows share: one row per kind.
                assert backend_for_url(f"{scheme}://host/x", kind) == row.name


def test_a_scheme_of_the_other_kind_says_what_the_backend_offers() -> None:
    assert backend_for_url("qdrant://localhost:6333", "checkpoint") == "qdrant"
    with pytest.raises(ConfigError, match="offers memory only"):
        open_checkpoint("qdrant://localhost:6333")
    with pytest.raises(ConfigError, match="offers memory only"):
        open_checkpoint("pgvector://localhost/db")


def test_install_hints_and_lazy_classes_derive_from_the_table() -> None:
    assert {n: r.install for n, r in BACKENDS.items() if r.install} == INSTALL_HINTS
    assert lazy_classes() == spine_backends.ADAPTERS
    expected = {
        path.partition(":")[2]
        for row in BACKENDS.values()
        if row.install
        for path in row.classes.values()
    }
    assert set(spine_backends.ADAPTERS) == expected


def test_first_party_classes_match_their_entry_points_and_import() -> None:
    eps = {ep.name: ep.value for ep in importlib_metadata.entry_points(group="spine.plugins")}
    for row in BACKENDS.values():
        assert set(row.classes) == set(row.kinds), row.name
        for kind, path in row.classes.items():
            assert eps[f"{row.name}.{kind}"] == path, (row.name, kind)
            module, _, attr = path.partition(":")
            cls = getattr(importlib.import_module(module), attr)
            assert cls.backend == ("postgres" if row.name == "pgvector" else row.name)


def test_one_new_row_is_a_known_backend_everywhere(fifth_row: Backend) -> None:
    """What `docs/add-a-backend.md` promises: the row alone makes the backend known."""
    assert backend_for_url("fifths://db.example/x", "memory") == "fifthdb"
    with pytest.raises(ConfigError, match=r'pip install "spine-backends\[fifthdb\]"'):
        open_checkpoint("fifth://db.example/x")
    with pytest.raises(ConfigError, match="did you mean 'fifthdb'"):
        open_memory("fifthd")
    assert lazy_classes()["FifthMemory"] == (
        "spine_backend_fifthdb.memory",
        "spine-backends[fifthdb]",
    )
    [row] = [p for p in list_plugins() if p.name == "fifthdb"]
    assert (row.status, row.kinds, row.schemes, row.install) == (
        "not installed",
        ("checkpoint", "memory"),
        ("fifth", "fifths"),
        "spine-backends[fifthdb]",
    )


def test_plugin_list_shows_the_table_s_schemes() -> None:
    rows = {p.name: p for p in list_plugins()}
    for name, row in BACKENDS.items():
        assert rows[name].schemes == row.schemes
        assert rows[name].status != "not installed"  # the workspace installs every backend


def test_an_unknown_scheme_lists_the_known_ones() -> None:
    refresh_plugins()
    with pytest.raises(ConfigError) as err:
        open_checkpoint("nosuchdb://x")
    message = str(err.value)
    for scheme in ("sqlite://", "redis://", "rediss://", "postgresql://", "memory://"):
        assert scheme in message
    assert "qdrant://" not in message  # memory only


def test_where_a_url_keeps_its_data_comes_from_the_table() -> None:
    from spine_backends._targets import location

    assert location("qdrant+local:///vectors") == str((Path("vectors")).resolve())
    assert location("sqlite://") == "memory (gone when the process exits)"
    assert location("vector://") == "memory (gone when the process exits)"
    assert location("redis://:secret@localhost:6379/0") == "redis://:***@localhost:6379/0"


def test_each_row_s_service_is_what_its_adapter_releases_against() -> None:
    import tomllib

    repo = Path(__file__).resolve().parents[3]
    for row in BACKENDS.values():
        if row.install is None:
            continue  # ships inside spine-core
        modules = {path.partition(".")[0] for path in row.classes.values()}
        [module] = modules
        pyproject = repo / "adapters" / module.replace("_", "-") / "pyproject.toml"
        meta = tomllib.loads(pyproject.read_text())
        services = meta["tool"]["spine"]["release"]["services"]
        assert services == ([row.service] if row.service else []), row.name
