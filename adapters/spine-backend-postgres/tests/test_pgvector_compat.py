"""spinekit's `PgVectorMemory(dsn, dim=, table=)` and embedders that declare no dimension."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from psycopg import sql

from spine_backend_postgres import PgVectorMemory
from spine_core import ConfigError, HashEmbedder

SchemaOn = Callable[[str], str]


class TagEmbedder:
    """The guide's embedder: one text in, one vector out, no dimension declared."""

    async def embed(self, text: str) -> list[float]:
        return [1.0, 0.0] if "apple" in text else [0.0, 1.0]


def _tables(url: str, schema: str) -> set[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)
        ).fetchall()
    return {r[0] for r in rows}


def _run(url: str, statement: Any) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statement)


async def test_positional_dsn_and_dim(pg_url: str, schema_on: SchemaOn) -> None:
    schema = schema_on(pg_url)
    memory = PgVectorMemory(pg_url, dim=128, schema=schema)
    assert isinstance(memory.embedder, HashEmbedder)
    assert memory.dim == 128
    async with memory:
        await memory.save("one hundred and twenty eight")
        hits = await memory.search("one hundred and twenty eight", k=1)
    assert hits[0].score == pytest.approx(1.0, abs=1e-6)
    assert "spine_memory_128" in _tables(pg_url, schema)


async def test_table_names_the_table(pg_url: str, schema_on: SchemaOn) -> None:
    schema = schema_on(pg_url)
    a = PgVectorMemory(pg_url, table="agent_notes", schema=schema, namespace="a")
    b = PgVectorMemory(pg_url, table="agent_notes", schema=schema, namespace="b")
    assert a.capabilities.details["table"] == f"{schema}.agent_notes"
    async with a, b:
        await a.save("kept in agent_notes", session_id="s")
        await b.save("another namespace, same table", session_id="s")
        assert [r.content for r in await a.load("s")] == ["kept in agent_notes"]
    assert "agent_notes" in _tables(pg_url, schema)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        query = sql.SQL("SELECT namespace FROM {} ORDER BY 1").format(
            sql.Identifier(schema, "agent_notes")
        )
        assert [r[0] for r in conn.execute(query)] == ["a", "b"]
    # One table holds one dimension: a namespace of another is refused, not mixed.
    other = PgVectorMemory(
        pg_url, table="agent_notes", schema=schema, namespace="c", embedder=HashEmbedder(64)
    )
    with pytest.raises(ConfigError, match="holds 256-d vectors"):
        async with other:
            pass


async def test_a_foreign_table_of_that_name_is_refused(pg_url: str, schema_on: SchemaOn) -> None:
    schema = schema_on(pg_url)
    _run(pg_url, sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    # spinekit's layout for its PgVectorMemory table.
    _run(
        pg_url,
        sql.SQL(
            "CREATE TABLE {} (id TEXT PRIMARY KEY, session_id TEXT, content TEXT NOT NULL,"
            " metadata JSONB NOT NULL DEFAULT '{{}}', embedding TEXT NOT NULL,"
            " ts TIMESTAMPTZ NOT NULL DEFAULT now())"
        ).format(sql.Identifier(schema, "spine_memory")),
    )
    memory = PgVectorMemory(pg_url, table="spine_memory", schema=schema)
    with pytest.raises(ConfigError, match="not created by PgVectorMemory"):
        await memory.save("refused")
    await memory.aclose()


@pytest.mark.parametrize("table", ["", "1abc", "pg_notes", "a" * 51, "x; drop", 7])
def test_bad_table_names_are_refused(table: object) -> None:
    with pytest.raises(ConfigError, match="table must be"):
        PgVectorMemory("postgresql://u@127.0.0.1:1/db", table=table)  # type: ignore[arg-type]


async def test_undeclared_dimension_is_learned(pg_url: str, schema_on: SchemaOn) -> None:
    schema = schema_on(pg_url)
    reader = PgVectorMemory(pg_url, schema=schema, embedder=TagEmbedder())
    writers = [PgVectorMemory(pg_url, schema=schema, embedder=TagEmbedder()) for _ in range(2)]
    async with reader, writers[0], writers[1]:
        # Nothing saved yet: reads answer empty without creating the vector table.
        assert await reader.load("s") == []
        assert await reader.get("00000000-0000-0000-0000-000000000000") is None
        assert await reader.prune(session_id="s") == 0
        assert "spine_memory_2" not in _tables(pg_url, schema)
        # Two stores claim the namespace at once on their first save.
        await asyncio.gather(
            *(w.save(f"apple note {i}", session_id="s") for i, w in enumerate(writers))
        )
        assert "spine_memory_2" in _tables(pg_url, schema)
        # The reader learns the namespace's table from its record, before any vector.
        assert len(await reader.load("s")) == 2
        hits = await reader.search("apple", k=1)
    assert hits[0].score == pytest.approx(1.0)
    assert reader.dim == 2
    # Reopened with an embedder of another dimension: refused, declared or not.
    for embedder in (HashEmbedder(), _ThreeD()):
        wrong = PgVectorMemory(pg_url, schema=schema, embedder=embedder)
        with pytest.raises(ConfigError):
            await wrong.save("more")
        await wrong.aclose()


class _ThreeD:
    async def embed(self, text: str) -> list[float]:
        return [1.0, 2.0, 3.0]
