"""A table spinekit's `PostgresCheckpoint` wrote is adopted: sessions, revisions, once.

The spinekit data is written here by plain SQL in spinekit's layout (table
`spine_checkpoints`, or the one `table=` names), never through spinekit itself. Every test
works in a schema of its own (`schema_on`), on PostgreSQL 18 and on PostgreSQL 15.
"""

from __future__ import annotations

import asyncio
import json
import sys
import textwrap
import time
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg_pool import AsyncConnectionPool

from spine_backend_postgres import PostgresCheckpoint
from spine_core import ConfigError, ConflictError, State
from spine_core import _migrations as state_migrations
from spine_testing.spinekit import PAUSED_RUN

SchemaOn = Callable[[str], str]

# session id -> (state document as spinekit serialized it, spinekit's revision)
DOCS: dict[str, tuple[str, int]] = {
    "a": (
        '{"version":1,"session_id":"a","messages":[{"role":"user","content":"hi"}],'
        '"step":2,"status":"running"}',
        3,
    ),
    "b": (
        '{"version":1,"session_id":"b","tenant_id":"acme","messages":[],"step":0,'
        '"usage":{"input_tokens":5,"output_tokens":7,"cost_usd":0.001},"status":"running",'
        '"depth":0,"pending":null,"scratch":{"k":[1,2,{"x":"y"}],"f":1.5e-7}}',
        1,
    ),
    "ü 🙂/ü": (
        '{"version":1,"session_id":"ü 🙂/ü","messages":[{"role":"user","content":"grüß 🙂"}],'
        '"step":9,"status":"running"}',
        7,
    ),
}

PAUSED = PAUSED_RUN  # a run paused for approval, as spinekit serialized it

UPDATED = "2026-01-02T03:04:05.123456+00:00"


@pytest.fixture(params=["pg18", "pg15"])
def url(request: pytest.FixtureRequest) -> str:
    """PostgreSQL 18 (the kit's server) and the machine's PostgreSQL 15."""
    name = "pg_url" if request.param == "pg18" else "legacy_pg_url"
    return str(request.getfixturevalue(name))


def _sync(url: str, query: Any, params: Any = None) -> list[Any]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else []


def write_spinekit(
    url: str, schema: str, docs: dict[str, tuple[str, int]], table: str = "spine_checkpoints"
) -> None:
    """Write `docs` the way spinekit's PostgresCheckpoint stores them."""
    t = sql.Identifier(schema, table)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} ("
                " session_id TEXT PRIMARY KEY,"
                " version    INTEGER NOT NULL,"
                " revision   BIGINT  NOT NULL DEFAULT 1,"
                " data       JSONB   NOT NULL,"
                " updated    TIMESTAMPTZ NOT NULL DEFAULT now())"
            ).format(t)
        )
        with conn.cursor() as cur:
            cur.executemany(
                sql.SQL(
                    "INSERT INTO {} (session_id, version, revision, data, updated)"
                    " VALUES (%s, %s, %s, %s::jsonb, %s)"
                ).format(t),
                [
                    (sid, json.loads(doc).get("version", 1), rev, doc, UPDATED)
                    for sid, (doc, rev) in docs.items()
                ],
            )


def columns(url: str, schema: str, table: str) -> list[str]:
    rows = _sync(
        url,
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
        (schema, table),
    )
    return [r[0] for r in rows]


def tables(url: str, schema: str) -> set[str]:
    rows = _sync(url, "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,))
    return {r[0] for r in rows}


def migrations(url: str, schema: str) -> list[tuple[str, int]]:
    rows = _sync(
        url,
        sql.SQL("SELECT component, version FROM {} ORDER BY 1, 2").format(
            sql.Identifier(schema, "spine_schema_migrations")
        ),
    )
    return [(str(c), int(v)) for c, v in rows]


async def assert_adopted(store: PostgresCheckpoint, docs: dict[str, tuple[str, int]]) -> None:
    for sid, (doc, rev) in docs.items():
        assert await store.get(sid) == State.model_validate(json.loads(doc)), sid
        assert await store.revision(sid) == rev, sid


SPINE_COLUMNS = [
    "namespace",
    "session_id",
    "tenant_id",
    "state",
    "revision",
    "updated_at",
    "expires_at",
]


@pytest.mark.parametrize("table", [None, "agent_state"])
async def test_sessions_and_revisions_carry_over(
    url: str, schema_on: SchemaOn, table: str | None
) -> None:
    schema = schema_on(url)
    write_spinekit(url, schema, DOCS, table or "spine_checkpoints")
    options: dict[str, Any] = {} if table is None else {"table": table}
    async with PostgresCheckpoint.from_url(url, schema=schema, **options) as store:
        await assert_adopted(store, DOCS)
        page = await store.list_sessions()
        assert {s.session_id: s.revision for s in page.sessions} == {
            sid: rev for sid, (_, rev) in DOCS.items()
        }
        assert {s.updated_at.isoformat() for s in page.sessions} == {UPDATED}
        tenant = await store.list_sessions(tenant_id="acme")
        assert [s.session_id for s in tenant.sessions] == ["b"]
        state = await store.get("a")
        assert state is not None
        state.step += 1
        await store.put(state, expected_revision=3)
        assert await store.revision("a") == 4
        with pytest.raises(ConflictError):
            await store.put(state, expected_revision=3)
        assert await store.get("a") == state
        await store.put(State(session_id="b"))
        assert await store.revision("b") == 2
    name = table or "spine_checkpoints"
    assert columns(url, schema, name) == SPINE_COLUMNS
    assert tables(url, schema) == {name, "spine_schema_migrations"}
    indexes = _sync(url, "SELECT indexname FROM pg_indexes WHERE schemaname = %s", (schema,))
    suffixes = ("pkey", "tenant", "updated", "expires")
    assert {r[0] for r in indexes} == {f"{name}_{s}" for s in suffixes} | {
        "spine_schema_migrations_pkey"
    }
    component = "checkpoint" if table is None else f"checkpoint:{table}"
    assert migrations(url, schema) == [(component, 1)]


async def test_reopening_adopts_nothing_more(url: str, schema_on: SchemaOn) -> None:
    schema = schema_on(url)
    write_spinekit(url, schema, DOCS)
    async with PostgresCheckpoint.from_url(url, schema=schema) as store:
        await store.put(State(session_id="a", step=40), expected_revision=3)
    async with PostgresCheckpoint.from_url(url, schema=schema) as store:
        assert await store.get("a") == State(session_id="a", step=40)
        assert await store.revision("a") == 4
        await assert_adopted(store, {k: v for k, v in DOCS.items() if k != "a"})
    assert migrations(url, schema) == [("checkpoint", 1)]
    assert tables(url, schema) == {"spine_checkpoints", "spine_schema_migrations"}


async def test_a_dotted_table_names_its_schema(url: str, schema_on: SchemaOn) -> None:
    schema = schema_on(url)
    write_spinekit(url, schema, {"a": DOCS["a"]}, "runs")
    # spinekit's unquoted `table=` was folded to lower case by PostgreSQL: so is ours.
    async with PostgresCheckpoint.from_url(url, table=f"{schema}.Runs") as store:
        assert store.schema == schema
        assert store.table == "runs"
        await assert_adopted(store, {"a": DOCS["a"]})
    with pytest.raises(ConfigError, match="names schema"):
        PostgresCheckpoint.from_url(url, schema="other", table=f"{schema}.runs")


async def test_an_injected_psycopg_pool_adopts_too(url: str, schema_on: SchemaOn) -> None:
    schema = schema_on(url)
    write_spinekit(url, schema, DOCS)
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(url, min_size=1, max_size=2, open=False)
    async with pool, PostgresCheckpoint(pool=pool, schema=schema) as store:
        await assert_adopted(store, DOCS)
        await store.put(State(session_id="a"), expected_revision=3)
        assert await store.revision("a") == 4


def test_a_pool_that_is_not_psycopgs_is_refused_at_once() -> None:
    class AsyncpgLikePool:  # stands for spinekit's asyncpg pool: never touched
        pass

    with pytest.raises(ConfigError, match=r"psycopg_pool\.AsyncConnectionPool"):
        PostgresCheckpoint(pool=AsyncpgLikePool())  # type: ignore[arg-type]


async def test_ids_spine_refuses_stay_behind_in_spinekits_table(
    url: str, schema_on: SchemaOn
) -> None:
    schema = schema_on(url)
    refused = {"": DOCS["a"], "x" * 257: DOCS["a"]}
    write_spinekit(url, schema, {**refused, "b": DOCS["b"]})
    async with PostgresCheckpoint.from_url(url, schema=schema) as store:
        await assert_adopted(store, {"b": DOCS["b"]})
        assert [s.session_id for s in (await store.list_sessions()).sessions] == ["b"]
    left = _sync(
        url,
        sql.SQL("SELECT session_id FROM {}").format(
            sql.Identifier(schema, "spine_checkpoints_spinekit")
        ),
    )
    assert sorted(r[0] for r in left) == sorted(refused)


async def test_an_older_state_version_goes_through_migrate(
    url: str, schema_on: SchemaOn, monkeypatch: pytest.MonkeyPatch
) -> None:
    def upgrade(doc: dict[str, Any]) -> dict[str, Any]:
        steps = doc.pop("steps")
        return {**doc, "version": 1, "step": steps}

    monkeypatch.setitem(state_migrations._MIGRATIONS, 0, upgrade)
    schema = schema_on(url)
    write_spinekit(url, schema, {"old": ('{"version":0,"session_id":"old","steps":5}', 2)})
    async with PostgresCheckpoint.from_url(url, schema=schema) as store:
        assert await store.get("old") == State(session_id="old", step=5)
        assert await store.revision("old") == 2


async def test_a_run_paused_for_approval_resumes(url: str, schema_on: SchemaOn) -> None:
    schema = schema_on(url)
    write_spinekit(url, schema, {"paused": (PAUSED, 5)})
    async with PostgresCheckpoint.from_url(url, schema=schema) as store:
        await assert_adopted(store, {"paused": (PAUSED, 5)})
        state = await store.get("paused")
        assert state is not None
        await store.put(state, expected_revision=5)


async def test_a_foreign_table_under_the_name_is_a_config_error(
    url: str, schema_on: SchemaOn
) -> None:
    schema = schema_on(url)
    t = sql.Identifier(schema, "spine_checkpoints")
    _sync(url, sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    _sync(url, sql.SQL("CREATE TABLE {} (id bigint PRIMARY KEY, payload bytea)").format(t))
    _sync(url, sql.SQL("INSERT INTO {} VALUES (1, 'x')").format(t))
    store = PostgresCheckpoint.from_url(url, schema=schema)
    with pytest.raises(ConfigError) as info:
        await store.get("a")
    message = str(info.value)
    assert f"{schema}.spine_checkpoints" in message
    assert "id bigint, payload bytea" in message
    await store.aclose()
    assert columns(url, schema, "spine_checkpoints") == ["id", "payload"]
    assert _sync(url, sql.SQL("SELECT id FROM {}").format(t)) == [(1,)]


_OPENER = textwrap.dedent(
    """
    import asyncio, json, sys, time
    from spine_backend_postgres import PostgresCheckpoint
    from spine_core import ConflictError

    url, schema, start, expected = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]

    async def main():
        time.sleep(max(0.0, start - time.time()))
        async with PostgresCheckpoint.from_url(url, schema=schema) as store:
            # Count on session "a" at once: an adoption that ran twice would reset it.
            while True:
                revision = await store.revision("a")  # first: then the state is at least as new
                state = await store.get("a")
                state.step += 1
                try:
                    await store.put(state, expected_revision=revision)
                    break
                except ConflictError:
                    pass
            for sid, revision in json.loads(expected).items():
                assert await store.get(sid) is not None, sid
                if sid != "a":
                    assert await store.revision(sid) == revision, sid
        print("ok")

    asyncio.run(main())
    """
)


async def test_processes_opening_a_spinekit_table_together_adopt_it_once(
    pg_url: str, schema_on: SchemaOn
) -> None:
    schema = schema_on(pg_url)
    docs = {**DOCS, **{f"s{i}": (DOCS["a"][0].replace('"a"', f'"s{i}"'), i) for i in range(1, 200)}}
    write_spinekit(pg_url, schema, docs)
    expected = json.dumps({sid: rev for sid, (_, rev) in docs.items()})
    start = time.time() + 3.0  # every process imports first, then all open at once
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _OPENER,
            pg_url,
            schema,
            str(start),
            expected,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(4)
    ]
    try:
        async with asyncio.timeout(120):
            outputs = await asyncio.gather(*(p.communicate() for p in procs))
    finally:
        for p in procs:
            if p.returncode is None:
                p.kill()
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err.decode()[-2000:]
        assert out.decode().strip() == "ok"
    assert migrations(pg_url, schema) == [("checkpoint", 1)]
    assert tables(pg_url, schema) == {"spine_checkpoints", "spine_schema_migrations"}
    count = _sync(
        pg_url,
        sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, "spine_checkpoints")),
    )
    assert count == [(len(docs),)]
    async with PostgresCheckpoint.from_url(pg_url, schema=schema) as store:
        counted = await store.get("a")
        assert counted is not None
        assert (counted.step, await store.revision("a")) == (2 + 4, 3 + 4)
        await assert_adopted(store, {k: v for k, v in docs.items() if k != "a"})
