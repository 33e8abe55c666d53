"""Forward migrations of serialized `State` documents."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import ConfigError, DataError
from .state import STATE_VERSION

__all__ = ["Migration", "migrate", "register_migration", "registered_migrations"]

Migration = Callable[[dict[str, Any]], dict[str, Any]]
"""Takes a state document at one version and returns it at a later version."""

_MIGRATIONS: dict[int, Migration] = {}


def register_migration(from_version: int, fn: Migration, *, replace: bool = False) -> None:
    """Register the upgrade of state documents written at `from_version`."""
    if not isinstance(from_version, int) or from_version < 0:
        raise ConfigError(f"migration version must be a non-negative int, got {from_version!r}")
    existing = _MIGRATIONS.get(from_version)
    if existing is not None and existing is not fn and not replace:
        raise ConfigError(
            f"a different migration from version {from_version} is already registered "
            "(pass replace=True to override it)"
        )
    _MIGRATIONS[from_version] = fn


def registered_migrations() -> dict[int, Migration]:
    """A copy of the registered migrations, keyed by the version they upgrade from."""
    return dict(_MIGRATIONS)


def migrate(data: dict[str, Any], *, target: int = STATE_VERSION) -> dict[str, Any]:
    """Upgrade a state document to `target`, one registered step at a time.

    A document without a version is at version 1 (the first), and a step that returns a
    document without a version has advanced it by one, as spinekit read them. Raises
    `DataError` (a `ValueError`) on a gap, on a migration that does not advance the version
    and on a document newer than this library understands.
    """
    if not isinstance(data, dict):
        raise DataError(f"state document must be a JSON object, got {type(data).__name__}")
    version = data.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool):
        raise DataError(f"state version must be an int, got {version!r}")
    if version > target:
        raise DataError(
            f"state was written at version {version}, newer than this library's {target}; "
            "upgrade spine-core to read it"
        )
    while version < target:
        step = _MIGRATIONS.get(version)
        if step is None:
            raise DataError(f"no migration registered from state version {version} to {target}")
        try:
            data = step(dict(data))
        except DataError:
            raise
        except Exception as exc:  # a broken migration is corrupt data for this document
            raise DataError(f"migration from state version {version} failed: {exc!r}") from exc
        if not isinstance(data, dict):
            raise DataError(
                f"migration from state version {version} returned {type(data).__name__}, "
                "not a document"
            )
        if "version" not in data:
            data = {**data, "version": version + 1}
        new_version = data["version"]
        if (
            not isinstance(new_version, int)
            or isinstance(new_version, bool)
            or new_version <= version
        ):
            raise DataError(
                f"migration from state version {version} did not advance the version "
                f"(returned {new_version!r})"
            )
        version = new_version
    return data
