"""Stores for the ported spinekit storage tests, built exactly as spinekit users build them.

Every checkpoint test runs on the in-memory store, SQLite, Redis 8, the machine's Redis 7,
PostgreSQL 18 and the machine's PostgreSQL 15; every memory test on each memory backend.
Each test writes into a database, key prefix or namespace of its own and removes it after.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import redis
from psycopg import sql

CHECKPOINT_BACKENDS = ["memory", "sqlite", "redis8", "redis7", "postgres18", "postgres15"]
MEMORY_BACKENDS = ["vector", "sqlite", "redis8", "pgvector", "qdrant"]


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def _database_on(url: str) -> Iterator[str]:
    """A fresh database on the server at `url`, dropped after the test."""
    name = f"spt_{secrets.token_hex(4)}"
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield _with_database(url, name)
    finally:
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _delete_keys(url: str, marker: str) -> None:
    assert marker.startswith("spt_"), marker
    with redis.Redis.from_url(url, socket_timeout=10) as client:
        found = list(client.scan_iter(match=f"*{marker}*", count=1000))
        for start in range(0, len(found), 500):
            client.delete(*found[start : start + 500])


def _drop(databases: Iterator[str]) -> None:
    next(databases, None)  # runs the generator's cleanup


@pytest.fixture(params=CHECKPOINT_BACKENDS)
def checkpoint_backend(request: pytest.FixtureRequest) -> str:
    """The name of the checkpoint backend under test."""
    return str(request.param)


@pytest.fixture
def make_checkpoint(
    checkpoint_backend: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    unique_prefix: str,
) -> Iterator[Callable[[], Any]]:
    """`make()` → a new spinekit-style store over the same data (so reopening is possible)."""
    from spine_backends import PostgresCheckpoint, RedisCheckpoint, SQLiteCheckpoint
    from spine_core.checkpoint import InMemoryCheckpointStore

    cleanup: list[Callable[[], None]] = []
    if checkpoint_backend == "memory":
        shared = InMemoryCheckpointStore()

        def make() -> Any:
            return shared

    elif checkpoint_backend == "sqlite":

        def make() -> Any:
            return SQLiteCheckpoint(tmp_path / "conf.db")

    elif checkpoint_backend.startswith("redis"):
        url = request.getfixturevalue(
            "redis_url" if checkpoint_backend == "redis8" else "legacy_redis_url"
        )

        def make() -> Any:
            return RedisCheckpoint(url, prefix=f"{unique_prefix}:checkpoint:")

        cleanup.append(lambda: _delete_keys(url, unique_prefix))
    else:
        server = request.getfixturevalue(
            "postgres_url" if checkpoint_backend == "postgres18" else "legacy_postgres_url"
        )
        databases = _database_on(server)
        dsn = next(databases)
        cleanup.append(lambda: _drop(databases))

        def make() -> Any:
            return PostgresCheckpoint(dsn, table="spine_checkpoints_test")

    yield make
    for step in cleanup:
        step()


@pytest.fixture
async def checkpoint(make_checkpoint: Callable[[], Any]) -> AsyncIterator[Any]:
    """One spinekit-style store, closed after the test."""
    store = make_checkpoint()
    try:
        yield store
    finally:
        close = getattr(store, "aclose", None)
        if close is not None:
            await close()


@pytest.fixture(params=MEMORY_BACKENDS)
def memory_backend(request: pytest.FixtureRequest) -> str:
    """The name of the memory backend under test."""
    return str(request.param)


@pytest.fixture
def make_memory(
    memory_backend: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    unique_prefix: str,
) -> Iterator[Callable[..., Any]]:
    """`make(embedder=None)` → a memory store of the backend under test, empty at first."""
    from spine_backends import InMemoryVectorMemory
    from spine_core import open_memory

    cleanup: list[Callable[[], None]] = []
    if memory_backend == "vector":

        def make(**options: Any) -> Any:
            return InMemoryVectorMemory(**options)

    elif memory_backend == "sqlite":

        def make(**options: Any) -> Any:
            return open_memory(f"sqlite:///{tmp_path / 'memory.db'}", **options)

    elif memory_backend == "redis8":
        url = request.getfixturevalue("redis_url")

        def make(**options: Any) -> Any:
            return open_memory(url, namespace=unique_prefix, **options)

        cleanup.append(lambda: _delete_keys(url, unique_prefix))
    elif memory_backend == "pgvector":
        databases = _database_on(request.getfixturevalue("postgres_url"))
        dsn = next(databases)
        cleanup.append(lambda: _drop(databases))

        def make(**options: Any) -> Any:
            from spine_backends import PgVectorMemory

            return PgVectorMemory(dsn, **options)

    else:

        def make(**options: Any) -> Any:
            return open_memory("qdrant+local://", namespace=unique_prefix, **options)

    yield make
    for step in cleanup:
        step()


@pytest.fixture
async def memory(make_memory: Callable[..., Any]) -> AsyncIterator[Any]:
    """A memory store with the default embedder, closed after the test."""
    store = make_memory()
    try:
        yield store
    finally:
        await store.aclose()
