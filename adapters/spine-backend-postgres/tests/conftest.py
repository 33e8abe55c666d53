"""Servers for the PostgreSQL adapter's tests, on top of the spine_testing plugin's fixtures.

`pg_url` is PostgreSQL 18 + pgvector (the plugin's `postgres_url`), `legacy_pg_url` the
machine's PostgreSQL 15 without pgvector (`legacy_postgres_url`). Each is probed once with
psycopg itself: a server the plugin found but this driver cannot use skips (or fails under
SPINE_REQUIRE_SERVICES=1) with the reason. Every test writes only into schemas it names
from `unique_prefix` or a session-scoped `spt_<hex>`, and drops only those.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator

import psycopg
import pytest
from psycopg import sql

from spine_core.spi import redact_url
from spine_testing.plugin import skip_or_fail


def _probe(url: str, *, need_vector: bool) -> str:
    try:
        with psycopg.connect(url, connect_timeout=5, autocommit=True) as conn:
            if need_vector:
                row = conn.execute(
                    "SELECT 1 FROM pg_available_extensions WHERE name = 'vector'"
                ).fetchone()
                if row is None:
                    return "the server has no pgvector"
    except psycopg.Error as exc:
        return f"{type(exc).__name__}: {exc}"
    return ""


def _usable(url: str, *, need_vector: bool) -> str:
    problem = _probe(url, need_vector=need_vector)
    if problem:
        message = f"PostgreSQL at {redact_url(url)} is not usable: {problem}"
        skip_or_fail(message)
    return url


@pytest.fixture(scope="session")
def pg_url(postgres_url: str) -> str:
    """PostgreSQL ≥ 18 with pgvector available."""
    return _usable(postgres_url, need_vector=True)


@pytest.fixture(scope="session")
def legacy_pg_url(legacy_postgres_url: str) -> str:
    """The machine's PostgreSQL 15 (no pgvector)."""
    return _usable(legacy_postgres_url, need_vector=False)


def drop_schema(url: str, schema: str) -> None:
    """Drop `schema` (one this test run created) and everything in it."""
    assert schema.startswith("spt_"), schema
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def _session_schema(url: str) -> Iterator[str]:
    schema = f"spt_{secrets.token_hex(4)}"
    yield schema
    drop_schema(url, schema)


@pytest.fixture(scope="session")
def pg_shared_schema(pg_url: str) -> Iterator[str]:
    """One schema for the whole run on PostgreSQL 18 (tests isolate by namespace)."""
    yield from _session_schema(pg_url)


@pytest.fixture(scope="session")
def legacy_shared_schema(legacy_pg_url: str) -> Iterator[str]:
    """One schema for the whole run on PostgreSQL 15."""
    yield from _session_schema(legacy_pg_url)


@pytest.fixture
def schema_on(unique_prefix: str) -> Iterator[Callable[[str], str]]:
    """`schema_on(url)` → a fresh schema name (from `unique_prefix`), dropped after the test."""
    made: list[tuple[str, str]] = []

    def make(url: str) -> str:
        schema = unique_prefix if not made else f"{unique_prefix}_{len(made)}"
        made.append((url, schema))
        return schema

    yield make
    for url, schema in made:
        drop_schema(url, schema)
