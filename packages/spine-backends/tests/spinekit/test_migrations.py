"""spinekit's migration tests, ported (plus `except ValueError` still catching a gap)."""

from __future__ import annotations

from typing import Any

import pytest

from spine_backends import register_migration
from spine_backends.migrations import migrate


@pytest.fixture
def isolated_migrations(monkeypatch: pytest.MonkeyPatch) -> None:
    from spine_core import _migrations as migrations

    monkeypatch.setattr(migrations, "_MIGRATIONS", {})


def test_migrate_pass_through_at_current_version() -> None:
    assert migrate({"version": 1, "session_id": "x"})["version"] == 1


def test_migrate_runs_registered_upgrade(isolated_migrations: None) -> None:
    def v0_to_v1(raw: dict[str, Any]) -> dict[str, Any]:
        raw = dict(raw)
        raw["version"] = 1
        raw.setdefault("session_id", "migrated")
        return raw

    register_migration(0, v0_to_v1)
    out = migrate({"version": 0})
    assert out["version"] == 1
    assert out["session_id"] == "migrated"


def test_a_gap_is_a_value_error(isolated_migrations: None) -> None:
    with pytest.raises(ValueError, match="version 0"):
        migrate({"version": 0, "session_id": "x"})


def test_a_migration_that_does_not_advance_is_a_value_error(isolated_migrations: None) -> None:
    register_migration(0, lambda raw: dict(raw))
    with pytest.raises(ValueError, match="did not advance"):
        migrate({"version": 0, "session_id": "x"})
