"""`PostgresCheckpoint`: durable run state in PostgreSQL ≥ 14 (JSON, atomic compare-and-set)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from spine_core.errors import ConfigError, ConflictError
from spine_core.records import utc_now
from spine_core.spi import (
    CheckpointCapabilities,
    CheckpointStoreBase,
    SessionInfo,
    SessionPage,
    Topology,
    dump_state,
    load_state,
    redact_text,
    validate_before,
    validate_namespace,
    validate_session_id,
    validate_ttl,
)
from spine_core.state import State

from ._config import PoolerMode, validate_identifier
from ._migrations import Migration, Names, ensure_migrated, table_columns
from ._pool import is_connection_error, single
from ._store import PostgresStore

if TYPE_CHECKING:
    from psycopg import AsyncConnection
    from psycopg.sql import Composed
    from psycopg_pool import AsyncConnectionPool

__all__ = ["PostgresCheckpoint"]

_LIVE = "(c.expires_at IS NULL OR c.expires_at > now())"

_CAS_ATTEMPTS = 8
"""Conditional writes tried before a `ConflictError` whose revisions happen to match."""


SPINE_COLUMNS = (
    "namespace",
    "session_id",
    "tenant_id",
    "state",
    "revision",
    "updated_at",
    "expires_at",
)
SPINEKIT_COLUMNS = ("session_id", "version", "revision", "data", "updated")
"""spinekit's `PostgresCheckpoint` table (default `spine_checkpoints`): `data` is jsonb."""

ADOPTED_NAMESPACE = "default"
"""spinekit had no namespaces; the code ported from it opens the default one."""

# Session ids Spine accepts (spine_core.validation.validate_session_id; text holds no NUL).
_ADOPTABLE = "length(session_id) BETWEEN 1 AND 256"

log = logging.getLogger("spine")


def _v1(n: Names, table: str) -> list[Composed]:
    from psycopg import sql

    t = sql.Identifier(n.schema, table)
    return [
        # session ids sort in code-point order (COLLATE "C"), like every other backend.
        sql.SQL(
            "CREATE TABLE {} ("
            ' namespace text COLLATE "C" NOT NULL,'
            ' session_id text COLLATE "C" NOT NULL,'
            ' tenant_id text COLLATE "C",'
            # json, not jsonb: the exact text comes back (jsonb reorders object keys and
            # rewrites numbers, so a State would not round-trip byte for byte); it is still
            # validated on write and queryable with ->, ->> or a cast to jsonb.
            " state json NOT NULL,"
            " revision bigint NOT NULL,"
            " updated_at timestamptz NOT NULL,"
            " expires_at timestamptz,"
            " PRIMARY KEY (namespace, session_id))"
        ).format(t),
        sql.SQL("CREATE INDEX {} ON {} (namespace, tenant_id, session_id)").format(
            sql.Identifier(table + "_tenant"), t
        ),
        sql.SQL("CREATE INDEX {} ON {} (namespace, updated_at)").format(
            sql.Identifier(table + "_updated"), t
        ),
        sql.SQL("CREATE INDEX {} ON {} (expires_at) WHERE expires_at IS NOT NULL").format(
            sql.Identifier(table + "_expires"), t
        ),
    ]


def _migrations(schema: str, table: str, *, prepare: bool | None) -> tuple[Migration, ...]:
    """The checkpoint schema for `schema.table`, append-only: never edit a released step."""

    async def create(conn: AsyncConnection[Any], statements: Sequence[Composed]) -> None:
        found = await table_columns(conn, schema, table, prepare=prepare)
        if set(SPINE_COLUMNS) <= set(found):
            return  # Spine's own table, recorded under another table_prefix's migrations
        if found and not set(SPINEKIT_COLUMNS) <= set(found):
            columns = ", ".join(f"{name} {kind}" for name, kind in found.items())
            raise ConfigError(
                f"table {schema}.{table} exists but is neither Spine's checkpoint table nor "
                f"spinekit's; found columns ({columns}). Use another table= or schema=, or "
                "rename that table"
            )
        if found:
            await _adopt(conn, schema, table, statements)
        else:
            for statement in statements:
                await conn.execute(statement, prepare=False)

    return (Migration(1, "checkpoints table", lambda n: _v1(n, table), apply=create),)


async def _adopt(
    conn: AsyncConnection[Any], schema: str, table: str, statements: Sequence[Composed]
) -> None:
    """Replace spinekit's table by Spine's under the same name, moving every row.

    Runs inside the migration's transaction (under the advisory lock), so it happens once,
    entirely or not at all. The revision and update time are copied, so revisions continue.
    """
    import psycopg
    from psycopg import sql

    old = table + "_spinekit"
    spinekit = sql.Identifier(schema, old)
    try:
        await conn.execute(
            sql.SQL("ALTER TABLE {} RENAME TO {}").format(
                sql.Identifier(schema, table), sql.Identifier(old)
            ),
            prepare=False,
        )
        # Free the primary key's index name (`<table>_pkey`) for Spine's table.
        cur = await conn.execute(
            "SELECT c.relname FROM pg_catalog.pg_index AS i"
            " JOIN pg_catalog.pg_class AS c ON c.oid = i.indexrelid"
            " WHERE i.indrelid = to_regclass(%s) AND i.indisprimary",
            (f'"{schema}"."{old}"',),
            prepare=False,
        )
        for (index,) in await cur.fetchall():
            await conn.execute(
                sql.SQL("ALTER INDEX {} RENAME TO {}").format(
                    sql.Identifier(schema, str(index)), sql.Identifier(old + "_pk")
                ),
                prepare=False,
            )
        for statement in statements:
            await conn.execute(statement, prepare=False)
        await conn.execute(
            sql.SQL(
                "INSERT INTO {} (namespace, session_id, tenant_id, state, revision,"
                " updated_at, expires_at)"
                " SELECT %s, session_id,"
                " CASE WHEN jsonb_typeof(data::jsonb -> 'tenant_id') = 'string'"
                " THEN data::jsonb ->> 'tenant_id' END,"
                " data::text::json, revision, updated::timestamptz, NULL FROM {}"
                f" WHERE {_ADOPTABLE}"
            ).format(sql.Identifier(schema, table), spinekit),
            (ADOPTED_NAMESPACE,),
            prepare=False,
        )
        # An id Spine refuses (empty, over 256 characters) could never be read in Spine's
        # table: such rows stay behind in spinekit's, renamed, so nothing is lost.
        await conn.execute(
            sql.SQL("DELETE FROM {} WHERE " + _ADOPTABLE).format(spinekit), prepare=False
        )
        left = await conn.execute(
            sql.SQL("SELECT count(*) FROM {}").format(spinekit), prepare=False
        )
        row = await left.fetchone()
        if row is not None and row[0]:
            log.warning(
                "%d spinekit session(s) have ids Spine refuses and were not adopted; they "
                "stay in %s.%s",
                row[0],
                schema,
                old,
            )
        else:
            await conn.execute(sql.SQL("DROP TABLE {}").format(spinekit), prepare=False)
    except psycopg.Error as exc:
        if is_connection_error(exc):
            raise
        raise ConfigError(
            f"could not adopt spinekit's checkpoint table {schema}.{table}; nothing was "
            f"changed: {redact_text(f'{type(exc).__name__}: {exc}')}"
        ) from None


class _Queries:
    """Every statement the store runs, composed once from validated identifiers."""

    def __init__(self, n: Names, table: str) -> None:
        from psycopg import sql

        t = sql.Identifier(n.schema, table)

        def q(text: str) -> bytes:
            return sql.SQL(text).format(t=t).as_bytes(None)

        # Expiry (the ttl) is computed on the server's clock, shared by every client.
        expires = (
            "CASE WHEN %(ttl)s::float8 IS NULL THEN NULL "
            "ELSE now() + %(ttl)s::float8 * interval '1 second' END"
        )
        insert = (
            "INSERT INTO {t} AS c (namespace, session_id, tenant_id, state, revision,"
            " updated_at, expires_at)"
            f" VALUES (%(ns)s, %(sid)s, %(tenant)s, %(state)s::json, 1, %(now)s, {expires})"
            " ON CONFLICT (namespace, session_id) DO UPDATE SET"
            " tenant_id = excluded.tenant_id, state = excluded.state,"
            f" revision = CASE WHEN {_LIVE} THEN c.revision + 1 ELSE 1 END,"
            " updated_at = excluded.updated_at, expires_at = excluded.expires_at"
        )
        self.put = q(insert + " RETURNING c.revision")
        # expected_revision=0: create, or replace only an expired (so, missing) session.
        self.put_new = q(insert + f" WHERE NOT {_LIVE} RETURNING c.revision")
        # expected_revision=N>0: one atomic UPDATE; READ COMMITTED re-checks the WHERE on the
        # newest row version, so two racing writers cannot both see revision N.
        self.put_cas = q(
            "UPDATE {t} AS c SET tenant_id = %(tenant)s, state = %(state)s::json,"
            f" revision = c.revision + 1, updated_at = %(now)s, expires_at = {expires}"
            " WHERE c.namespace = %(ns)s AND c.session_id = %(sid)s"
            f" AND c.revision = %(expected)s AND {_LIVE} RETURNING c.revision"
        )
        self.get = q(
            "SELECT c.state::text FROM {t} AS c"
            f" WHERE c.namespace = %s AND c.session_id = %s AND {_LIVE}"
        )
        self.revision = q(
            "SELECT c.revision FROM {t} AS c"
            f" WHERE c.namespace = %s AND c.session_id = %s AND {_LIVE}"
        )
        self.delete = q("DELETE FROM {t} WHERE namespace = %s AND session_id = %s")
        select = "SELECT c.session_id, c.tenant_id, c.updated_at, c.revision FROM {t} AS c"
        self.list = q(
            f"{select} WHERE c.namespace = %(ns)s AND c.session_id > %(after)s AND {_LIVE}"
            " ORDER BY c.session_id LIMIT %(limit)s"
        )
        self.list_tenant = q(
            f"{select} WHERE c.namespace = %(ns)s AND c.tenant_id = %(tenant)s"
            f" AND c.session_id > %(after)s AND {_LIVE} ORDER BY c.session_id LIMIT %(limit)s"
        )
        # Expired rows go too (they already read as missing); only the stale ones are counted.
        self.prune = q(
            "DELETE FROM {t} AS c WHERE c.namespace = %(ns)s"
            " AND (c.updated_at < %(before)s OR NOT" + _LIVE + ")"
            " RETURNING c.updated_at < %(before)s"
        )


def _check_pool(pool: object) -> None:
    # spinekit took an asyncpg pool; say so now rather than fail on first use.
    if pool is None:
        return
    from psycopg_pool import AsyncConnectionPool

    if not isinstance(pool, AsyncConnectionPool):
        raise ConfigError(
            f"pool must be a psycopg_pool.AsyncConnectionPool, got {type(pool).__module__}."
            f"{type(pool).__qualname__} (spine-backend-postgres uses psycopg 3, not asyncpg)"
        )


class PostgresCheckpoint(PostgresStore, CheckpointStoreBase):
    """Checkpoints in PostgreSQL: JSON state, atomic compare-and-set, TTL, listing, pruning.

    Many processes may write at once. Open it with a URL
    (`PostgresCheckpoint.from_url("postgresql://user@host/db")`), a DSN
    (`PostgresCheckpoint(dsn="host=... dbname=...")`) or your own pool
    (`PostgresCheckpoint(pool=my_async_pool)`, which the store never closes). It connects on
    first use and creates its schema then, once, even when several processes start together.
    """

    backend: ClassVar[str] = "postgres"
    distribution: ClassVar[str] = "spine-backend-postgres"
    topology: Topology = "server"

    def __init__(
        self,
        dsn: str | None = None,
        *,
        pool: AsyncConnectionPool[Any] | None = None,
        table: str | None = None,
        namespace: str = "default",
        schema: str = "public",
        table_prefix: str = "spine_",
        default_ttl: float | None = None,
        pooler: PoolerMode = "session",
        pool_min_size: int = 1,
        pool_max_size: int = 10,
        pool_timeout: float = 10.0,
        connect_timeout: float = 5.0,
        command_timeout: float = 10.0,
        retries: int = 3,
    ) -> None:
        """Configure the store; no I/O happens until first use.

        `dsn` is a libpq URL or key=value string (it may hold a password: it is never shown);
        `pool` a `psycopg_pool.AsyncConnectionPool` to borrow instead. `table` names the
        checkpoint table (`"name"` or `"schema.name"`, folded to lower case as spinekit's
        unquoted name was; default `<table_prefix>checkpoints`, i.e. `spine_checkpoints`).
        `namespace` isolates stores sharing the tables; `schema` and `table_prefix` place
        them. `pooler="transaction"` disables
        server-side prepared statements (PgBouncer in transaction mode and the like).
        """
        super().__init__()
        _check_pool(pool)
        self.namespace = validate_namespace(namespace)
        self.schema = validate_identifier(schema, what="schema")
        self.table_prefix = validate_identifier(table_prefix, what="table_prefix")
        self.table = self._place_table(table)
        self.default_ttl = validate_ttl(default_ttl)
        options = self._connect(
            dsn,
            pool,
            pooler=pooler,
            pool_min_size=pool_min_size,
            pool_max_size=pool_max_size,
            pool_timeout=pool_timeout,
            connect_timeout=connect_timeout,
            command_timeout=command_timeout,
            retries=retries,
        )
        self._names = Names(self.schema, self.table_prefix)
        self._q = _Queries(self._names, self.table)
        # The default table keeps the component name it always had; another table gets its
        # own, so two checkpoint tables in one schema each get created.
        default = self.table == self.table_prefix + "checkpoints"
        self._component = "checkpoint" if default else f"checkpoint:{self.table}"
        self.capabilities = CheckpointCapabilities(
            revisions=True,
            ttl=True,
            list_sessions=True,
            prune=True,
            concurrent_writers=True,
            durable=True,
            details={
                "storage": "json (exact text)",
                "table": f"{self.schema}.{self.table}",
                "ttl_clock": "server",
                "pooler": options.pooler,
                "server_prepared_statements": options.pooler != "transaction",
            },
        )

    def _target(self) -> str:
        return f"{self._db.shown}#{self.schema}.{self.table}/{self.namespace}"

    def _place_table(self, table: str | None) -> str:
        """The checkpoint table's name; a `schema.name` also sets the schema."""
        if table is None:
            return validate_identifier(self.table_prefix + "checkpoints", what="table")
        if not isinstance(table, str):
            raise ConfigError(f"table must be a str, got {type(table).__name__}")
        # spinekit put `table` into its SQL unquoted, so PostgreSQL folded it to lower case:
        # fold it the same way, or `table="AgentRuns"` would miss the data it wrote.
        schema, dot, name = table.lower().rpartition(".")
        if dot:
            schema = validate_identifier(schema, what="schema")
            if self.schema not in ("public", schema):
                raise ConfigError(
                    f"table={table!r} names schema {schema!r} but schema={self.schema!r}"
                )
            self.schema = schema
        return validate_identifier(name, what="table")

    async def _open(self) -> None:
        names, prepare = self._names, self._db.prepare
        component = self._component
        migrations = _migrations(self.schema, self.table, prepare=prepare)

        async def bootstrap(conn: AsyncConnection[Any]) -> None:
            await ensure_migrated(conn, names, component, migrations, prepare=prepare)

        await self._db.open(bootstrap)

    async def put(
        self, state: State, *, expected_revision: int | None = None, ttl: float | None = None
    ) -> None:
        """Store `state`; with `expected_revision`, atomically only if the revision matches."""
        ttl = self._check_put_options(expected_revision, ttl)
        raw = dump_state(state)
        await self._ensure_ready()
        params = {
            "ns": self.namespace,
            "sid": state.session_id,
            "tenant": state.tenant_id,
            "state": raw,
            "now": utc_now(),
            "ttl": ttl,
            "expected": expected_revision,
        }
        if expected_revision is None:
            query = self._q.put
        elif expected_revision == 0:
            query = self._q.put_new
        else:
            query = self._q.put_cas
        prepare = self._db.prepare

        async def write(conn: AsyncConnection[Any]) -> bool:
            async with single(conn):
                cur = await conn.execute(query, params, prepare=prepare)
                return await cur.fetchone() is not None

        if expected_revision is None:
            await self._db.run(write, retry=False)
            return
        for _ in range(_CAS_ATTEMPTS):
            if await self._db.run(write, retry=False):
                return
            # The write did not happen; read the revision to explain why.
            actual = await self.revision(state.session_id)
            if actual != expected_revision:
                raise ConflictError(state.session_id, expected_revision, actual)
            # Another writer brought the session back to `expected_revision` (delete and
            # re-put, or expiry and re-put) between the two statements: try again.
        raise ConflictError(
            state.session_id, expected_revision, await self.revision(state.session_id)
        )

    async def get(self, session_id: str) -> State | None:
        """A fresh copy of the stored state, or `None` (also when expired)."""
        session_id = validate_session_id(session_id)
        row = await self._one(self._q.get, (self.namespace, session_id))
        return None if row is None else load_state(row[0], session_id=session_id)

    async def delete(self, session_id: str) -> None:
        """Remove the session (a no-op when missing)."""
        session_id = validate_session_id(session_id)
        await self._one(self._q.delete, (self.namespace, session_id), fetch=False)

    async def revision(self, session_id: str) -> int:
        """0 when missing, else the number of puts since the session was created."""
        session_id = validate_session_id(session_id)
        row = await self._one(self._q.revision, (self.namespace, session_id))
        return 0 if row is None else int(row[0])

    async def list_sessions(
        self, *, tenant_id: str | None = None, limit: int = 100, cursor: str | None = None
    ) -> SessionPage:
        """Sessions in session-id (code point) order after `cursor`, optionally of one tenant."""
        tenant_id, limit, cursor = self.check_list_args(tenant_id, limit, cursor)
        params = {
            "ns": self.namespace,
            "tenant": tenant_id,
            "after": cursor if cursor is not None else "",
            "limit": limit + 1,
        }
        query = self._q.list if tenant_id is None else self._q.list_tenant
        rows = await self._fetch(query, params)
        sessions = [
            SessionInfo(
                session_id=sid,
                tenant_id=tenant,
                updated_at=updated.astimezone(UTC),
                revision=int(revision),
            )
            for sid, tenant, updated, revision in rows[:limit]
        ]
        return SessionPage(
            sessions=sessions,
            next_cursor=sessions[-1].session_id if len(rows) > limit else None,
        )

    async def prune(self, *, before: datetime) -> int:
        """Delete sessions last put before `before` (and any expired); count the stale ones."""
        before = validate_before(before)
        await self._ensure_ready()
        query, prepare = self._q.prune, self._db.prepare
        params = {"ns": self.namespace, "before": before}

        async def run(conn: AsyncConnection[Any]) -> int:
            async with single(conn):
                cur = await conn.execute(query, params, prepare=prepare)
                return sum(1 for (stale,) in await cur.fetchall() if stale)

        return await self._db.run(run, retry=False)
