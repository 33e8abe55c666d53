"""A corrupt or hand-edited row reads as `DataError` naming the session, on every backend.

Issue 14, defects 10 and 16: a stored State naming another session (a read-modify-write would
write into that session), a stored State nested 5,000 levels deep (RecursionError before), and
PgVectorMemory metadata that is not JSON (JSONDecodeError before). Rows are edited with each
server's own client, as an operator or a bug would.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from spine_core import DataError, State, dump_state

DEEP = '{"version":1,"session_id":"%s","scratch":{"k":' + "[" * 5000 + "]" * 5000 + "}}"

Corrupt = Callable[[str, str], None]
"""corrupt(session_id, raw state text): overwrite the stored state of one session."""


@pytest.fixture
def sqlite_store(tmp_path: Path) -> tuple[Any, Corrupt]:
    from spine_backend_sqlite import SQLiteCheckpoint

    path = tmp_path / "c.db"

    def corrupt(session_id: str, raw: str) -> None:
        with sqlite3.connect(path) as conn:
            conn.execute(
                "UPDATE spine_checkpoints SET state = ? WHERE session_id = ?", (raw, session_id)
            )

    return SQLiteCheckpoint(str(path)), corrupt


@pytest.fixture
def redis_store(redis_url: str) -> Iterator[tuple[Any, Corrupt]]:
    import redis

    from spine_backend_redis import RedisCheckpoint

    store = RedisCheckpoint(redis_url, namespace=f"corrupt{secrets.token_hex(4)}")
    client = redis.Redis.from_url(redis_url)

    def corrupt(session_id: str, raw: str) -> None:
        client.hset(store._keys.session(session_id), "state", raw)

    yield store, corrupt
    for key in client.scan_iter(match=f"*{store.namespace}*"):
        client.delete(key)
    client.close()


@pytest.fixture
def postgres_store(postgres_url: str) -> Iterator[tuple[Any, Corrupt]]:
    import psycopg
    from psycopg import sql

    from spine_backend_postgres import PostgresCheckpoint

    schema = f"spt_{secrets.token_hex(4)}"
    store = PostgresCheckpoint(postgres_url, schema=schema)

    def corrupt(session_id: str, raw: str) -> None:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("UPDATE {}.spine_checkpoints SET state = %s WHERE session_id = %s").format(
                    sql.Identifier(schema)
                ),
                (raw, session_id),
            )

    yield store, corrupt
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture(params=["sqlite", "redis", "postgres"])
async def checkpoint(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Any, Corrupt]]:
    store, corrupt = request.getfixturevalue(f"{request.param}_store")
    try:
        yield store, corrupt
    finally:
        await store.aclose()


async def test_a_state_naming_another_session_is_a_data_error(
    checkpoint: tuple[Any, Corrupt],
) -> None:
    store, corrupt = checkpoint
    await store.put(State(session_id="mine", step=1))
    await store.put(State(session_id="other", step=2))
    corrupt("mine", dump_state(State(session_id="other", step=3)))
    with pytest.raises(DataError, match=r"'mine'.*'other'") as raised:
        await store.get("mine")
    assert raised.value.session_id == "mine"
    got = await store.get("other")
    assert got is not None
    assert got.step == 2


async def test_a_state_nested_5000_levels_is_a_data_error(checkpoint: tuple[Any, Corrupt]) -> None:
    store, corrupt = checkpoint
    await store.put(State(session_id="deep"))
    corrupt("deep", DEEP % "deep")
    with pytest.raises(DataError, match="'deep'") as raised:
        await store.get("deep")
    assert raised.value.session_id == "deep"


async def test_pgvector_corrupt_metadata_is_a_data_error(postgres_url: str) -> None:
    import psycopg
    from psycopg import sql

    from spine_backend_postgres import PgVectorMemory

    schema = f"spt_{secrets.token_hex(4)}"
    memory = PgVectorMemory(postgres_url, schema=schema)
    try:
        record = await memory.save("corrupt metadata", session_id="s", metadata={"k": 1})
        table = memory.info().target.rpartition("#")[2].split("/")[0].split(".")[1]
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("UPDATE {}.{} SET metadata_text = %s WHERE id = %s").format(
                    sql.Identifier(schema), sql.Identifier(table)
                ),
                ("{not json", record.id),
            )
        for call in (memory.load("s"), memory.get(record.id), memory.search("corrupt metadata")):
            with pytest.raises(DataError, match=record.id):
                await call
    finally:
        await memory.aclose()
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
