"""Fixtures for the SQLite adapter's tests.

SQLite is embedded, so there is no server to find: the probe only checks that this Python's
sqlite3 has what the adapter needs (UPSERT, JSON functions) and skips with the reason
otherwise (or fails under SPINE_REQUIRE_SERVICES=1, like the server probes). Each test's
database lives in its own pytest `tmp_path`.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from spine_testing.plugin import skip_or_fail


def _probe() -> str:
    if sqlite3.sqlite_version_info < (3, 24, 0):
        return f"SQLite {sqlite3.sqlite_version} is older than 3.24 (no UPSERT)"
    try:
        sqlite3.connect(":memory:").execute("SELECT json_type('{}')").fetchone()
    except sqlite3.OperationalError as exc:
        return f"SQLite {sqlite3.sqlite_version} lacks the JSON functions: {exc}"
    return ""


@pytest.fixture(scope="session")
def sqlite_usable() -> None:
    """Skip (or fail when services are required) if this sqlite3 cannot host the stores."""
    problem = _probe()
    if problem:
        skip_or_fail(problem)


@pytest.fixture
def db_path(sqlite_usable: None, tmp_path: Path) -> Path:
    """A fresh database file path (not created yet) in a nested, not-yet-existing directory."""
    return tmp_path / "data" / "spine.db"
