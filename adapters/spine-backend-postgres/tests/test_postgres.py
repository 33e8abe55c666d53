"""PostgreSQL-specific behaviour the conformance kit cannot know about."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg_pool import AsyncConnectionPool

from spine_backend_postgres import PgVectorMemory, PostgresCheckpoint
from spine_core import (
    BackendUnavailable,
    ConfigError,
    ConflictError,
    DataError,
    HashEmbedder,
    InMemoryVectorMemory,
    MemoryItem,
    State,
)
from spine_testing import cas_across_processes
from spine_testing.faults import hide_modules

SchemaOn = Callable[[str], str]


def _sync(url: str, query: Any, params: Any = None) -> list[Any]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else []


def _schema_exists(url: str, schema: str) -> bool:
    return bool(_sync(url, "SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)))


# -- servers without pgvector ---------------------------------------------------------------


async def test_memory_refuses_a_server_without_pgvector(
    legacy_pg_url: str, schema_on: SchemaOn
) -> None:
    schema = schema_on(legacy_pg_url)
    memory = PgVectorMemory.from_url(legacy_pg_url, schema=schema)
    with pytest.raises(ConfigError) as err:
        await memory.save("hello")
    message = str(err.value)
    assert "pgvector" in message
    assert "CREATE EXTENSION vector" in message
    assert "not available" in message
    assert "Install pgvector" in message
    assert not _schema_exists(legacy_pg_url, schema), "nothing may be created on refusal"
    health = await memory.health()
    assert not health.ok
    assert health.status == "unsupported"
    assert health.error is not None
    assert "pgvector" in health.error
    await memory.aclose()


async def test_checkpoints_work_without_pgvector(legacy_pg_url: str, schema_on: SchemaOn) -> None:
    async with PostgresCheckpoint.from_url(legacy_pg_url, schema=schema_on(legacy_pg_url)) as s:
        await s.put(State(session_id="a", step=2))
        got = await s.get("a")
        assert got is not None
        assert got.step == 2
        assert (await s.health()).ok


async def test_extension_created_when_allowed_else_config_error(
    pg_url: str, unique_prefix: str
) -> None:
    """A database where pgvector is available but not created: a superuser creates it, a
    plain role gets a ConfigError saying who must run CREATE EXTENSION."""
    db, role = f"{unique_prefix}_db", f"{unique_prefix}_role"
    base = psycopg.conninfo.conninfo_to_dict(pg_url)
    _sync(pg_url, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db)))
    _sync(pg_url, sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    try:
        as_role = psycopg.conninfo.make_conninfo(**{**base, "dbname": db, "user": role})
        _sync(
            psycopg.conninfo.make_conninfo(**{**base, "dbname": db}),
            sql.SQL("GRANT CREATE ON SCHEMA public TO {}").format(sql.Identifier(role)),
        )
        plain = PgVectorMemory(as_role)
        with pytest.raises(ConfigError, match="superuser to run CREATE EXTENSION vector"):
            await plain.save("x")
        await plain.aclose()
        as_super = psycopg.conninfo.make_conninfo(**{**base, "dbname": db})
        async with PgVectorMemory(as_super) as memory:
            await memory.save("x")
            assert memory.pgvector_version
        assert _sync(as_super, "SELECT 1 FROM pg_extension WHERE extname = 'vector'")
    finally:
        _sync(pg_url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db)))
        _sync(pg_url, sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


# -- configuration ------------------------------------------------------------------------------

HOSTILE = [
    'x"; DROP TABLE spine_checkpoints; --',
    "a b",
    "a-b",
    "a.b",
    "1abc",
    "",
    "x" * 64,
    "pg_catalog",
    "PG_temp",
    "café",
    "a\x00b",
    None,
    42,
]


@pytest.mark.parametrize("name", HOSTILE, ids=repr)
@pytest.mark.parametrize("store", [PostgresCheckpoint, PgVectorMemory])
def test_hostile_schema_names_are_refused(store: Any, name: object) -> None:
    # A closed port: were anything executed, it would fail differently (and later).
    with pytest.raises(ConfigError, match="schema must be"):
        store("postgresql://u@127.0.0.1:1/db", schema=name)


@pytest.mark.parametrize("prefix", ['x"', "a b", "x" * 41, "-x", "9x", "é_", "a;b", None], ids=repr)
@pytest.mark.parametrize("store", [PostgresCheckpoint, PgVectorMemory])
def test_hostile_table_prefixes_are_refused(store: Any, prefix: object) -> None:
    with pytest.raises(ConfigError, match="table_prefix must be"):
        store("postgresql://u@127.0.0.1:1/db", table_prefix=prefix)


async def test_hostile_names_execute_nothing(pg_url: str) -> None:
    before = _sync(pg_url, "SELECT count(*) FROM pg_namespace")
    for name in HOSTILE:
        with pytest.raises(ConfigError):
            PostgresCheckpoint.from_url(pg_url, schema=name)
    assert _sync(pg_url, "SELECT count(*) FROM pg_namespace") == before


@pytest.mark.parametrize(
    "bad",
    [
        {"pooler": "statement"},
        {"pool_max_size": 0},
        {"pool_min_size": 5, "pool_max_size": 2},
        {"pool_timeout": -1},
        {"retries": 0},
    ],
)
def test_bad_connection_options_are_config_errors(bad: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        PostgresCheckpoint("postgresql://u@127.0.0.1:1/db", **bad)


@pytest.mark.parametrize(
    "bad",
    [
        {"ef_search": 0},
        {"ef_search": 1001},
        {"hnsw_m": 1},
        {"hnsw_ef_construction": 8},
        {"iterative_scan": "sideways"},
        {"ingest_connections": 0},
        {"ingest_connections": 11},  # more than pool_max_size (10)
        {"ingest_connections": 3, "pool_max_size": 2},
    ],
)
def test_bad_search_options_are_config_errors(bad: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        PgVectorMemory("postgresql://u@127.0.0.1:1/db", **bad)


def test_url_options_and_redaction() -> None:
    url = "postgres://app:hunter2-secret@db.example:6543/agents?sslmode=disable&schema=app&table_prefix=t_&pooler=transaction&namespace=ns1"
    store = PostgresCheckpoint.from_url(url, namespace="ns2")
    assert (store.schema, store.table_prefix, store.namespace) == ("app", "t_", "ns2")
    assert store.capabilities.details["pooler"] == "transaction"
    text = repr(store) + str(store.info())
    assert "hunter2" not in text
    assert "db.example:6543/agents" in text
    with pytest.raises(ConfigError) as err:
        PostgresCheckpoint("host=h password=hunter2-secret bogus")
    assert "hunter2" not in str(err.value)


@pytest.mark.parametrize("cls", [PostgresCheckpoint, PgVectorMemory])
@pytest.mark.parametrize("driver", ["psycopg", "psycopg_pool"])
def test_a_missing_driver_is_one_config_error_with_the_install_hint(
    cls: type, driver: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    hide_modules(monkeypatch, driver)  # as after `pip install --no-deps spine-backend-postgres`
    with pytest.raises(ConfigError, match=rf'{driver}.*pip install "spine-backends\[postgres\]"'):
        cls("postgresql://postgres@127.0.0.1:5432/postgres")


def test_the_dsn_stays_out_of_every_repr() -> None:
    url = "postgresql://app:hunter2-secret@db.example:6543/agents"
    for store in (PostgresCheckpoint.from_url(url), PgVectorMemory.from_url(url)):
        target = store._db.target
        assert target is not None
        assert target.dsn.startswith("postgresql://app:hunter2")
        assert "hunter2" not in repr(target) + repr(store._db.options) + repr(store)


async def test_opened_by_url_and_by_name_through_the_registry(
    pg_url: str, pg_shared_schema: str, unique_prefix: str
) -> None:
    from spine_core import open_checkpoint, open_memory

    options = {"schema": pg_shared_schema, "namespace": unique_prefix}
    pgvector_url = pg_url.replace("postgresql://", "pgvector://", 1)
    for memory in (
        open_memory(pg_url, **options),
        open_memory(pgvector_url, **options),
        open_memory("pgvector", dsn=pg_url, **options),
        open_memory("postgres", dsn=pg_url, **options),
    ):
        assert isinstance(memory, PgVectorMemory)
        async with memory:
            assert (await memory.health()).ok
    checkpoint = open_checkpoint(pg_url.replace("postgresql://", "postgres://", 1), **options)
    assert isinstance(checkpoint, PostgresCheckpoint)
    async with checkpoint:
        assert await checkpoint.get("nothing") is None


def test_search_parameters_are_reported() -> None:
    memory = PgVectorMemory(
        "postgresql://u@127.0.0.1:1/db", ef_search=321, hnsw_m=24, hnsw_ef_construction=99
    )
    details = memory.capabilities.details
    assert details["hnsw.ef_search"] == 321
    assert details["hnsw.m"] == 24
    assert details["hnsw.ef_construction"] == 99
    assert details["hnsw.iterative_scan"] == "relaxed_order"
    assert memory.capabilities.approximate


# -- unavailable servers ------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("store", [PostgresCheckpoint, PgVectorMemory])
async def test_closed_port_is_backend_unavailable_without_the_password(
    store: Any, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "s3cr3t-Passw0rd"
    url = f"postgresql://spine:{secret}@127.0.0.1:{_closed_port()}/db?connect_timeout=2"
    caplog.set_level(logging.DEBUG)
    instance = store.from_url(url)
    operation = instance.get("s") if store is PostgresCheckpoint else instance.search("q")
    with pytest.raises(BackendUnavailable) as err:
        await operation
    message = str(err.value)
    assert "127.0.0.1" in message
    assert "3 attempts" in message
    assert secret not in message
    assert err.value.__cause__ is None or secret not in str(err.value.__cause__)
    assert secret not in repr(instance)
    health = await instance.health()
    assert not health.ok
    assert health.error is not None
    assert secret not in health.error
    assert secret not in caplog.text
    assert "attempt 1/3" in caplog.text  # the retries happened, and were logged redacted
    await instance.aclose()


# -- pools and poolers --------------------------------------------------------------------------


async def test_injected_pool_is_borrowed_not_closed(pg_url: str, schema_on: SchemaOn) -> None:
    schema = schema_on(pg_url)
    # autocommit off (psycopg's default): the store must still commit its work.
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(pg_url, min_size=1, max_size=2, open=False)
    async with pool:
        async with PostgresCheckpoint(pool=pool, schema=schema) as store:
            await store.put(State(session_id="s", step=7))
            await store.put(State(session_id="s", step=8), expected_revision=1)
        async with PgVectorMemory(pool=pool, schema=schema) as memory:
            await memory.save_many(["alpha beta", "gamma delta"])
            hits = await memory.search("alpha beta", k=1)
            assert hits[0].content == "alpha beta"
        assert not pool.closed
        async with pool.connection() as conn:
            cur = await conn.execute(
                sql.SQL("SELECT revision, state->>'step' FROM {}").format(
                    sql.Identifier(schema, "spine_checkpoints")
                )
            )
            assert await cur.fetchall() == [(2, "8")]
    # and a store reopened on its own pool sees the same, committed data
    async with PostgresCheckpoint.from_url(pg_url, schema=schema) as store:
        assert await store.revision("s") == 2


async def _prepared_count(pool: AsyncConnectionPool[Any]) -> int:
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT count(*) FROM pg_prepared_statements", prepare=False)
        row = await cur.fetchone()
        assert row is not None
        return int(row[0])


@pytest.mark.parametrize(("pooler", "expect_prepared"), [("transaction", False), ("session", True)])
async def test_transaction_pooler_mode_prepares_nothing(
    pg_url: str, schema_on: SchemaOn, pooler: str, expect_prepared: bool
) -> None:
    schema = schema_on(pg_url)
    # One connection, so every statement runs where pg_prepared_statements can see it.
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        pg_url, min_size=1, max_size=1, open=False, kwargs={"autocommit": True}
    )
    async with pool:
        async with PostgresCheckpoint(pool=pool, schema=schema, pooler=pooler) as store:  # type: ignore[arg-type]
            for i in range(12):
                await store.put(State(session_id="s", step=i))
                await store.get("s")
        async with PgVectorMemory(pool=pool, schema=schema, pooler=pooler) as memory:  # type: ignore[arg-type]
            for i in range(12):
                await memory.save(f"text {i}")
                await memory.save_many([f"more {i}", f"and more {i}"])
                await memory.search("text", k=2)
        assert (await _prepared_count(pool) > 0) is expect_prepared


# -- schema migrations --------------------------------------------------------------------------

_RACER = textwrap.dedent(
    """
    import asyncio, sys, time
    from spine_backend_postgres import PgVectorMemory, PostgresCheckpoint

    url, schema, start = sys.argv[1], sys.argv[2], float(sys.argv[3])

    async def main():
        time.sleep(max(0.0, start - time.time()))
        async with PostgresCheckpoint.from_url(url, schema=schema) as cp, \\
                PgVectorMemory.from_url(url, schema=schema) as mem:
            await asyncio.gather(cp.revision("s"), mem.load("s"))
        print("ok")

    asyncio.run(main())
    """
)


def _migrations(url: str, schema: str) -> list[tuple[str, int]]:
    return [
        (str(c), int(v))
        for c, v in _sync(
            url,
            sql.SQL("SELECT component, version FROM {} ORDER BY 1, 2").format(
                sql.Identifier(schema, "spine_schema_migrations")
            ),
        )
    ]


def test_migration_race_between_processes(pg_url: str, schema_on: SchemaOn) -> None:
    schema = schema_on(pg_url)
    start = time.time() + 3.0  # every process imports first, then all open at once
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _RACER, pg_url, schema, str(start)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert out.strip() == "ok"
    assert _migrations(pg_url, schema) == [("checkpoint", 1), ("memory", 1), ("memory_256", 1)]


async def test_migration_race_between_pools(pg_url: str, schema_on: SchemaOn) -> None:
    schema = schema_on(pg_url)
    stores = [PostgresCheckpoint.from_url(pg_url, schema=schema) for _ in range(3)]
    stores += [PgVectorMemory.from_url(pg_url, schema=schema, namespace=f"n{i}") for i in range(3)]
    try:
        await asyncio.gather(*(s._ensure_ready() for s in stores))
    finally:
        await asyncio.gather(*(s.aclose() for s in stores))
    assert _migrations(pg_url, schema) == [("checkpoint", 1), ("memory", 1), ("memory_256", 1)]


async def test_newer_schema_is_refused(pg_url: str, schema_on: SchemaOn) -> None:
    schema = schema_on(pg_url)
    async with PostgresCheckpoint.from_url(pg_url, schema=schema) as store:
        await store.revision("s")
    _sync(
        pg_url,
        sql.SQL(
            "INSERT INTO {} (component, version, name) VALUES ('checkpoint', 99, 'future')"
        ).format(sql.Identifier(schema, "spine_schema_migrations")),
    )
    with pytest.raises(ConfigError, match="newer than this"):
        async with PostgresCheckpoint.from_url(pg_url, schema=schema) as store:
            await store.revision("s")


async def test_table_prefix_and_namespaces_share_tables(pg_url: str, schema_on: SchemaOn) -> None:
    schema = schema_on(pg_url)
    async with (
        PostgresCheckpoint.from_url(pg_url, schema=schema, table_prefix="a_", namespace="x") as ax,
        PostgresCheckpoint.from_url(pg_url, schema=schema, table_prefix="a_", namespace="y") as ay,
        PostgresCheckpoint.from_url(pg_url, schema=schema, table_prefix="", namespace="x") as bx,
    ):
        await ax.put(State(session_id="s", step=1))
        await ay.put(State(session_id="s", step=2))
        assert await bx.get("s") is None
        assert [(await s.get("s")).step for s in (ax, ay)] == [1, 2]  # type: ignore[union-attr]
    tables = {
        r[0]
        for r in _sync(pg_url, "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,))
    }
    assert tables == {"a_checkpoints", "a_schema_migrations", "checkpoints", "schema_migrations"}


# -- checkpoints --------------------------------------------------------------------------------


async def test_compare_and_set_across_processes(pg_url: str, schema_on: SchemaOn) -> None:
    await cas_across_processes(pg_url, {"schema": schema_on(pg_url)})


async def test_compare_and_set_retries_when_the_session_comes_back_to_expected(
    pg_url: str, schema_on: SchemaOn
) -> None:
    schema = schema_on(pg_url)
    async with PostgresCheckpoint.from_url(pg_url, schema=schema) as store:
        await store.put(State(session_id="s"))
        await store.put(State(session_id="s"))  # revision 2: a CAS at 1 fails
        read_revision = store._revision
        calls = 0

        async def racing_revision(session_id: str) -> int:
            # Between the failed CAS and this read, another writer deletes and re-creates
            # the session: it is back at revision 1, so the CAS may now succeed.
            nonlocal calls
            calls += 1
            if calls == 1:
                await store.delete(session_id)
                await store.put(State(session_id=session_id))
            return await read_revision(session_id)

        store._revision = racing_revision  # type: ignore[method-assign]
        await store.put(State(session_id="s", scratch={"won": True}), expected_revision=1)
        assert calls == 1
        assert await read_revision("s") == 2
        got = await store.get("s")
        assert got is not None
        assert got.scratch == {"won": True}
        # A real mismatch still raises at once, with the revision it found.
        with pytest.raises(ConflictError) as err:
            await store.put(State(session_id="s"), expected_revision=1)
        assert (err.value.expected, err.value.actual) == (1, 2)


@pytest.mark.parametrize(
    "corrupt",
    [
        '{"version": 1, "session_id": "broken", "messages": "not a list"}',
        '{"version": 99, "session_id": "broken"}',
        "[1, 2, 3]",
        '"just a string"',
    ],
)
async def test_corrupt_row_is_a_data_error_naming_the_session(
    pg_url: str, schema_on: SchemaOn, corrupt: str
) -> None:
    schema = schema_on(pg_url)
    async with PostgresCheckpoint.from_url(pg_url, schema=schema) as store:
        await store.put(State(session_id="broken"))
        _sync(
            pg_url,
            sql.SQL("UPDATE {} SET state = %s::json WHERE session_id = 'broken'").format(
                sql.Identifier(schema, "spine_checkpoints")
            ),
            (corrupt,),
        )
        with pytest.raises(DataError, match="broken") as err:
            await store.get("broken")
        assert err.value.session_id == "broken"


async def test_state_is_exact_queryable_json(pg_url: str, schema_on: SchemaOn) -> None:
    schema = schema_on(pg_url)
    async with PostgresCheckpoint.from_url(pg_url, schema=schema) as store:
        await store.put(State(session_id="q", tenant_id="acme", step=5, scratch={"k": [1, "é"]}))
    rows = _sync(
        pg_url,
        sql.SQL("SELECT pg_typeof(state)::text, state->'scratch'->'k', tenant_id FROM {}").format(
            sql.Identifier(schema, "spine_checkpoints")
        ),
    )
    assert rows == [("json", [1, "é"], "acme")]


async def test_list_sessions_uses_code_point_order(pg_url: str, schema_on: SchemaOn) -> None:
    ids = ["b", "B", "a", "é", "Z", "_x", "a-1", "a1", "😀", "ä"]
    async with PostgresCheckpoint.from_url(pg_url, schema=schema_on(pg_url)) as store:
        for sid in ids:
            await store.put(State(session_id=sid))
        seen: list[str] = []
        cursor = None
        while True:
            page = await store.list_sessions(limit=3, cursor=cursor)
            seen += [s.session_id for s in page.sessions]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    assert seen == sorted(ids)


async def test_ttl_uses_the_expiry_column_and_prune_sweeps_expired(
    pg_url: str, schema_on: SchemaOn
) -> None:
    schema = schema_on(pg_url)
    async with PostgresCheckpoint.from_url(pg_url, schema=schema) as store:
        await store.put(State(session_id="short"), ttl=0.2)
        await store.put(State(session_id="long"), ttl=3600)
        await store.put(State(session_id="forever"))
        await asyncio.sleep(0.4)
        assert await store.get("short") is None
        assert await store.revision("short") == 0
        # the expired row is still there until pruned; prune sweeps it without counting it
        from datetime import UTC, datetime, timedelta

        assert await store.prune(before=datetime.now(UTC) - timedelta(days=1)) == 0
        rows = _sync(
            pg_url,
            sql.SQL("SELECT session_id FROM {} ORDER BY 1").format(
                sql.Identifier(schema, "spine_checkpoints")
            ),
        )
        assert rows == [("forever",), ("long",)]


# -- memory -------------------------------------------------------------------------------------

FILTER_ITEMS = [
    ({"flag": True, "n": 1, "s": "1", "tag": "a"}),
    ({"flag": 1, "n": 1.0, "s": 1, "tag": "b"}),
    ({"flag": False, "n": 2, "s": "x", "tag": ["a", "b"]}),
    ({"n": 1.5, "nested": {"tag": "a"}, "tag": "a"}),
    ({"flag": "true", "n": "1", "tag": "é"}),
    ({}),
]

FILTERS: list[dict[str, Any]] = [
    {"flag": True},
    {"flag": 1},
    {"flag": False},
    {"flag": 0},
    {"flag": "true"},
    {"n": 1},
    {"n": 1.0},
    {"n": 1.5},
    {"n": "1"},
    {"s": "1"},
    {"s": 1},
    {"tag": "a"},
    {"tag": "é"},
    {"tag": "a", "n": 1},
    {"tag": "a", "flag": True, "n": 1.0},
    {"missing": 1},
    {"tag": "b", "flag": True},
]


async def test_filter_semantics_match_the_reference(
    pg_url: str, pg_shared_schema: str, unique_prefix: str
) -> None:
    reference = InMemoryVectorMemory()
    items = [MemoryItem(content=f"memo number {i}", metadata=m) for i, m in enumerate(FILTER_ITEMS)]
    async with PgVectorMemory.from_url(
        pg_url, schema=pg_shared_schema, namespace=unique_prefix
    ) as memory:
        await memory.save_many(items)
        await reference.save_many(items)
        for flt in FILTERS:
            ours = sorted(h.content for h in await memory.search("memo", k=10, filter=flt))
            theirs = sorted(h.content for h in await reference.search("memo", k=10, filter=flt))
            assert ours == theirs, f"filter {flt}"


async def test_filtered_search_is_not_starved_by_the_index(
    pg_url: str, schema_on: SchemaOn
) -> None:
    """A filter that no near neighbour of the query matches still yields k results.

    Half the records match the filter (so the planner walks the HNSW index), but none of
    those near the query does: the index's first candidates are all filtered out, and only
    the iterative scan (pgvector ≥ 0.8) keeps going until it has k rows.
    """
    schema = schema_on(pg_url)
    items = [
        MemoryItem(content=f"alpha apple avocado {i}", metadata={"group": "a"}) for i in range(1000)
    ] + [
        MemoryItem(content=f"zulu zebra zucchini {i}", metadata={"group": "z"}) for i in range(1000)
    ]
    table = sql.Identifier(schema, "spine_memory_256")
    hits: dict[str, list[Any]] = {}
    for scan in ("off", "relaxed_order", "strict_order"):
        async with PgVectorMemory.from_url(
            pg_url,
            schema=schema,
            ef_search=10,
            iterative_scan=scan,  # type: ignore[arg-type]
        ) as memory:
            if scan == "off":
                await memory.save_many(items)
                _sync(pg_url, sql.SQL("ANALYZE {}").format(table))
            hits[scan] = await memory.search("alpha apple avocado", k=5, filter={"group": "z"})
    assert len(hits["off"]) < 5, "premise: without an iterative scan the index starves"
    for scan in ("relaxed_order", "strict_order"):
        assert len(hits[scan]) == 5, scan
        assert all(h.record.metadata == {"group": "z"} for h in hits[scan])
        assert [h.score for h in hits[scan]] == sorted((h.score for h in hits[scan]), reverse=True)


async def test_scores_are_cosine_similarity(
    pg_url: str, pg_shared_schema: str, unique_prefix: str
) -> None:
    embedder = HashEmbedder(64)
    texts = ["red apples and green pears", "green pears", "a blue whale", "apples"]
    async with PgVectorMemory.from_url(
        pg_url, schema=pg_shared_schema, namespace=unique_prefix, embedder=embedder
    ) as memory:
        await memory.save_many(texts)
        hits = await memory.search("red apples", k=4)
    q = embedder.embed_one("red apples")
    for hit in hits:
        v = embedder.embed_one(hit.content)
        assert hit.score == pytest.approx(sum(a * b for a, b in zip(q, v, strict=True)), abs=1e-5)
        assert -1.0 <= hit.score <= 1.0
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


async def test_save_many_in_chunks_on_two_connections(pg_url: str, schema_on: SchemaOn) -> None:
    """1,200 records: chunks of 500 in their own transactions, two at once, in input order."""
    schema = schema_on(pg_url)
    url = f"{pg_url}?ingest_connections=3"
    async with PgVectorMemory.from_url(url, schema=schema, embedder=HashEmbedder(16)) as memory:
        assert memory.ingest_connections == 3
        assert "3 at once" in memory.capabilities.details["ingest"]
        memory._insert_lanes = 2
        sizes: list[int] = []
        real = memory._insert

        async def counted(records: list[Any], **kw: Any) -> None:
            sizes.append(len(records))
            await real(records, **kw)

        memory._insert = counted  # type: ignore[method-assign]
        items = [MemoryItem(content=f"chunked {i}", session_id="s") for i in range(1200)]
        saved = await memory.save_many(items)
        assert sorted(sizes) == [200, 500, 500]
        assert [r.content for r in saved] == [i.content for i in items]
        loaded = await memory.load("s", limit=2000)
        assert sorted(r.id for r in loaded) == sorted(r.id for r in saved)


async def test_a_chunk_the_server_refuses_leaves_nothing_behind(
    pg_url: str, schema_on: SchemaOn
) -> None:
    """The other lanes' committed chunks are deleted again before the server's error is raised."""
    schema = schema_on(pg_url)
    async with PgVectorMemory.from_url(pg_url, schema=schema, embedder=HashEmbedder(16)) as memory:
        await memory.save("kept", session_id="s")
        real = memory._insert
        calls = 0

        async def second_refused(records: list[Any], **kw: Any) -> None:
            nonlocal calls
            calls += 1
            if calls == 2:
                records[-1].metadata_json = "{not json"  # the server refuses the jsonb cast
            await real(records, **kw)

        memory._insert = second_refused  # type: ignore[method-assign]
        items = [MemoryItem(content=f"doomed {i}", session_id="s") for i in range(1200)]
        with pytest.raises(psycopg.errors.InvalidTextRepresentation):
            await memory.save_many(items)
        assert calls >= 2
        assert [r.content for r in await memory.load("s", limit=2000)] == ["kept"]
        del memory._insert
        await memory.save_many(items[:600])
        assert len(await memory.load("s", limit=2000)) == 601


async def test_one_table_per_dimension(pg_url: str, schema_on: SchemaOn) -> None:
    schema = schema_on(pg_url)
    async with (
        PgVectorMemory.from_url(pg_url, schema=schema, namespace="a") as a,
        PgVectorMemory.from_url(
            pg_url, schema=schema, namespace="b", embedder=HashEmbedder(32)
        ) as b,
        PgVectorMemory.from_url(pg_url, schema=schema, namespace="c") as c,
    ):
        await a.save("shared table")
        await b.save("small vectors")
        await c.save("shared table too")
        assert [h.content for h in await a.search("shared table", k=5)] == ["shared table"]
    indexes = {
        r[0]
        for r in _sync(pg_url, "SELECT indexdef FROM pg_indexes WHERE schemaname = %s", (schema,))
    }
    assert any(
        "USING hnsw (embedding" in i and "vector_cosine_ops" in i and "spine_memory_256" in i
        for i in indexes
    )
    assert any("USING gin (metadata jsonb_path_ops)" in i for i in indexes)
    assert any("(namespace, session_id, ts, id)" in i for i in indexes)
    counts = _sync(
        pg_url,
        sql.SQL("SELECT namespace, count(*) FROM {} GROUP BY 1 ORDER BY 1").format(
            sql.Identifier(schema, "spine_memory_256")
        ),
    )
    assert counts == [("a", 1), ("c", 1)]


async def test_metadata_is_jsonb_and_round_trips(
    pg_url: str, pg_shared_schema: str, unique_prefix: str
) -> None:
    meta = {"text": "é😀", "n": 1.5, "i": 10**15, "b": False, "none": None, "list": [1, {"x": "y"}]}
    async with PgVectorMemory.from_url(
        pg_url, schema=pg_shared_schema, namespace=unique_prefix
    ) as memory:
        record = await memory.save("metadata round trip", metadata=meta, session_id="s")
        again = await memory.get(record.id)
    assert again == record
    assert json.dumps(again.metadata, sort_keys=True) == json.dumps(meta, sort_keys=True)  # type: ignore[union-attr]


async def test_metadata_json_round_trips_exactly(
    pg_url: str, pg_shared_schema: str, unique_prefix: str
) -> None:
    meta = {"zz": 1, "a": 2, "big": 1e300, "f": 1e16, "neg0": -0.0}
    async with PgVectorMemory.from_url(
        pg_url, schema=pg_shared_schema, namespace=unique_prefix
    ) as memory:
        record = await memory.save("exact metadata", metadata=meta, session_id="s")
        got = await memory.get(record.id)
        loaded = await memory.load("s")
        hits = await memory.search("exact metadata", k=1)
        filtered = await memory.search("exact metadata", k=1, filter={"zz": 1})
    assert got is not None
    assert [r.id for r in loaded] == [record.id]
    expected = json.dumps(meta)
    for found in (got.metadata, loaded[0].metadata, hits[0].record.metadata):
        assert json.dumps(found) == expected
        assert found == meta
        assert isinstance(found["big"], float)
        assert isinstance(found["f"], float)
        assert str(found["neg0"]) == "-0.0"
    assert [h.record.id for h in filtered] == [record.id]


async def test_wide_vectors_are_searched_exactly(
    pg_url: str, pg_shared_schema: str, unique_prefix: str
) -> None:
    memory = PgVectorMemory.from_url(
        pg_url, schema=pg_shared_schema, namespace=unique_prefix, embedder=HashEmbedder(2048)
    )
    assert not memory.capabilities.approximate  # HNSW indexes at most 2,000 dimensions
    async with memory:
        await memory.save_many(["wide vectors one", "wide vectors two", "something else"])
        hits = await memory.search("wide vectors one", k=2)
    assert [h.content for h in hits] == ["wide vectors one", "wide vectors two"]


async def test_k_larger_than_ef_search_returns_k(pg_url: str, schema_on: SchemaOn) -> None:
    schema = schema_on(pg_url)
    async with PgVectorMemory.from_url(
        pg_url, schema=schema, ef_search=10, iterative_scan="off"
    ) as memory:
        await memory.save_many([f"note {i} about things" for i in range(1500)])
        # with statistics, the planner walks the HNSW index (which alone would stop at 10)
        _sync(pg_url, sql.SQL("ANALYZE {}").format(sql.Identifier(schema, "spine_memory_256")))
        assert len(await memory.search("note about things", k=50)) == 50


def test_importing_the_package_does_not_import_the_driver() -> None:
    code = (
        "import sys, spine_backend_postgres as p; "
        "assert 'psycopg' not in sys.modules, 'psycopg imported'; "
        "p.PostgresCheckpoint; assert 'psycopg' not in sys.modules; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.stdout.strip() == "ok", out.stderr


async def test_raw_floor_round_trips_and_cleans_up(pg_url: str) -> None:
    from spine_backend_postgres import RawPostgres

    raw = RawPostgres(pg_url)
    await raw.open()
    try:
        assert await raw.get("k") is None
        await raw.put("k", '{"a": 1}')
        assert await raw.get("k") == '{"a": 1}'
        assert await raw.cas_put("k", '{"a": 2}', 1)
        assert not await raw.cas_put("k", '{"a": 3}', 1)
        assert await raw.cas_put("new", "{}", 0)
        assert not await raw.cas_put("new", "{}", 0)
        assert await raw.get("k") == '{"a": 2}'
    finally:
        await raw.cleanup()
        await raw.close()
    assert not _sync(pg_url, "SELECT 1 FROM pg_tables WHERE tablename LIKE 'spine_raw_%%'")
