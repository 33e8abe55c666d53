"""The umbrella package: eager core re-exports, lazy adapter classes, missing-extra hints."""

from __future__ import annotations

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
