"""The umbrella package: eager core re-exports, lazy adapter classes, missing-extra hints."""

from __future__ import annotations

import importlib
import json
import textwrap

import pytest

import spine_backends
import spine_core
from spine_backends import ConfigError, MissingExtraError

ADAPTER_PREFIXES = ("spine_backend_", "redis", "psycopg", "qdrant_client", "numpy")


def test_every_core_name_is_reexported_as_the_same_object() -> None:
    for name in spine_core.__all__:
        assert getattr(spine_backends, name) is getattr(spine_core, name), name
    assert spine_backends.errors is spine_core.errors
    assert set(spine_core.__all__) <= set(spine_backends.__all__)


def test_adapter_classes_are_listed_but_not_in_star_exports() -> None:
    names = dir(spine_backends)
    for name in spine_backends.ADAPTERS:
        assert name in names
        assert name not in spine_backends.__all__


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="NoSuchStore"):
        spine_backends.NoSuchStore  # noqa: B018
    assert not hasattr(spine_backends, "NoSuchStore")


def test_importing_the_umbrella_imports_no_adapter_or_driver(spine_subprocess) -> None:
    code = textwrap.dedent(
        """
        import json, sys
        import spine_backends
        from spine_backends import *  # noqa: F403
        print(json.dumps(sorted(sys.modules)))
        """
    )
    result = spine_subprocess(code=code)
    assert result.code == 0, result.err
    loaded = [m for m in json.loads(result.out) if m.startswith(ADAPTER_PREFIXES)]
    assert loaded == []


def test_adapter_class_loads_on_first_access(spine_subprocess) -> None:
    code = textwrap.dedent(
        """
        import json, sys
        import spine_backends
        from spine_backends import SQLiteCheckpoint
        from spine_backend_sqlite.checkpoint import SQLiteCheckpoint as real
        assert SQLiteCheckpoint is real
        assert spine_backends.SQLiteCheckpoint is real
        print(json.dumps(sorted(m for m in sys.modules if m.startswith("spine_backend_"))))
        """
    )
    result = spine_subprocess(code=code)
    assert result.code == 0, result.err
    loaded = json.loads(result.out)
    assert "spine_backend_sqlite.checkpoint" in loaded
    assert not [m for m in loaded if m.startswith(("spine_backend_redis", "spine_backend_qdrant"))]


@pytest.mark.parametrize(
    ("name", "module", "extra"),
    [
        ("RedisCheckpoint", "spine_backend_redis", "redis"),
        ("RedisMemory", "spine_backend_redis", "redis"),
        ("PostgresCheckpoint", "spine_backend_postgres", "postgres"),
        ("PgVectorMemory", "spine_backend_postgres", "postgres"),
        ("QdrantMemory", "spine_backend_qdrant", "qdrant"),
    ],
)
def test_missing_extra_names_the_pip_install(spine_subprocess, name, module, extra) -> None:
    # Simulate an environment without the extra: the adapter package cannot be imported.
    code = textwrap.dedent(
        f"""
        import sys
        sys.modules[{module!r}] = None
        from spine_core import ConfigError
        try:
            from spine_backends import {name}
        except ImportError as exc:
            assert isinstance(exc, ConfigError), type(exc).__mro__
            print(exc)
        else:
            raise SystemExit("imported {name} although {module} is blocked")
        """
    )
    result = spine_subprocess(code=code)
    assert result.code == 0, result.err
    assert f'pip install "spine-backends[{extra}]"' in result.out
    assert name in result.out


def test_missing_extra_error_is_both_config_error_and_import_error() -> None:
    assert issubclass(MissingExtraError, ConfigError)
    assert issubclass(MissingExtraError, ImportError)


# -- spinekit's modules of spine_backends -------------------------------------------------------

SPINEKIT_MODULES = {
    "sqlite": ["SQLiteCheckpoint"],
    "redis": ["RedisCheckpoint"],
    "postgres": ["PostgresCheckpoint"],
    "pgvector": ["PgVectorMemory"],
    "memory": ["InMemoryVectorMemory", "BufferMemory"],
    "embeddings": [
        "HashEmbedder",
        "OpenAIEmbedder",
        "SentenceTransformerEmbedder",
        "FastEmbedEmbedder",
    ],
    "migrations": ["register_migration", "migrate"],
}


def test_spinekit_top_level_names() -> None:
    for name in (
        "BufferMemory",
        "HashEmbedder",
        "InMemoryVectorMemory",
        "PgVectorMemory",
        "PostgresCheckpoint",
        "RedisCheckpoint",
        "SQLiteCheckpoint",
        "register_migration",
    ):
        assert getattr(spine_backends, name) is not None, name
    for name in ("OpenAIEmbedder", "SentenceTransformerEmbedder", "FastEmbedEmbedder"):
        assert name in dir(spine_backends), name
    assert spine_backends.BufferMemory is spine_core.BufferMemory


def test_spinekit_modules_import_without_drivers(spine_subprocess) -> None:
    code = textwrap.dedent(
        f"""
        import importlib, json, sys
        names = {SPINEKIT_MODULES!r}
        for module in names:
            imported = importlib.import_module("spine_backends." + module)
            for name in names[module]:
                assert name in dir(imported), (module, name)
        print(json.dumps(sorted(sys.modules)))
        """
    )
    result = spine_subprocess(code=code)
    assert result.code == 0, result.err
    loaded = [m for m in json.loads(result.out) if m.startswith(ADAPTER_PREFIXES)]
    assert loaded == []


@pytest.mark.parametrize(
    ("module", "name", "home"),
    [
        ("sqlite", "SQLiteCheckpoint", "spine_backend_sqlite.checkpoint"),
        ("redis", "RedisCheckpoint", "spine_backend_redis.checkpoint"),
        ("postgres", "PostgresCheckpoint", "spine_backend_postgres.checkpoint"),
        ("pgvector", "PgVectorMemory", "spine_backend_postgres.memory"),
        ("memory", "InMemoryVectorMemory", "spine_core._reference"),
        ("memory", "BufferMemory", "spine_core._buffer"),
        ("embeddings", "HashEmbedder", "spine_core._embedding"),
        ("migrations", "register_migration", "spine_core._migrations"),
        ("migrations", "migrate", "spine_core._migrations"),
    ],
)
def test_spinekit_module_names_are_spines_objects(module: str, name: str, home: str) -> None:
    imported = importlib.import_module(f"spine_backends.{module}")
    assert getattr(imported, name) is getattr(importlib.import_module(home), name)
    # spinekit imported its submodules eagerly: `spine_backends.<module>` works after import.
    assert getattr(getattr(spine_backends, module), name) is getattr(imported, name)


def test_spinekit_module_missing_extra_names_the_pip_install(spine_subprocess) -> None:
    code = textwrap.dedent(
        """
        import sys
        sys.modules["spine_backend_redis"] = None
        try:
            from spine_backends.redis import RedisCheckpoint
        except ImportError as exc:
            print(type(exc).__name__, exc)
        """
    )
    result = spine_subprocess(code=code)
    assert result.code == 0, result.err
    assert result.out.startswith("MissingExtraError RedisCheckpoint is not available")
    assert 'pip install "spine-backends[redis]"' in result.out


def test_spinekit_register_functions_register_the_backends() -> None:
    from spine_backends import memory, sqlite

    memory.register()
    sqlite.register()
    assert {"vector", "buffer", "sqlite"} <= set(spine_core.list_memories())
    assert "sqlite" in spine_core.list_checkpoints()


def test_migration_gap_is_caught_as_value_error() -> None:
    from spine_backends.migrations import migrate

    with pytest.raises(ValueError, match="no migration registered"):
        migrate({"version": 1}, target=2)


def test_dir_lists_public_names_only() -> None:
    from spine_backends import redis

    names = dir(spine_backends)
    for private in ("Any", "TYPE_CHECKING", "importlib", "annotations", "spine_core"):
        assert private not in names
    assert {"State", "SQLiteCheckpoint", "sqlite", "MissingExtraError"} <= set(names)
    assert dir(redis) == ["RedisCheckpoint", "RedisMemory", "register"]
