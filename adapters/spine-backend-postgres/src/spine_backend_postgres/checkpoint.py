"""`PostgresCheckpoint`: durable run state in PostgreSQL ≥ 14 (JSON, atomic compare-and-set)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from spine_core.spi import (
    CheckpointCapabilities,
    CheckpointStoreBase,
    ExportRow,
    ScanRow,
    Topology,
    parse_options,
    utc_now,
)

from ._checkpoint_sql import Queries, checkpoint_migrations, export_rows, scan_rows
from ._config import place_table
from ._migrations import Names, ensure_migrated
from ._options import PoolerMode, PostgresCheckpointOptions
from ._store import PostgresStore

if TYPE_CHECKING:
    from psycopg import AsyncConnection
    from psycopg_pool import AsyncConnectionPool

__all__ = ["PostgresCheckpoint"]


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
    _options_model = PostgresCheckpointOptions

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
        them. `pooler="transaction"` disables server-side prepared statements (PgBouncer in
        transaction mode and the like).
        """
        super().__init__()
        options = parse_options(
            PostgresCheckpointOptions,
            kwargs={
                "namespace": namespace,
                "schema": schema,
                "table_prefix": table_prefix,
                "table": table,
                "default_ttl": default_ttl,
                "pooler": pooler,
                "pool_min_size": pool_min_size,
                "pool_max_size": pool_max_size,
                "pool_timeout": pool_timeout,
                "connect_timeout": connect_timeout,
                "command_timeout": command_timeout,
                "retries": retries,
            },
        )
        self.namespace, self.table_prefix = options.namespace, options.table_prefix
        self.schema, self.table = place_table(options.schema_, self.table_prefix, options.table)
        self.default_ttl = options.default_ttl
        self._connect(dsn, pool, options)
        self._names = Names(self.schema, self.table_prefix)
        self._q = Queries(self._names, self.table)
        # The default table keeps the component name it always had; another table gets its
        # own, so two checkpoint tables in one schema each get created.
        default = self.table == self.table_prefix + "checkpoints"
        self._component = "checkpoint" if default else f"checkpoint:{self.table}"
        self.capabilities = CheckpointCapabilities(
            revisions=True,
            ttl=True,
            list_sessions=True,
            prune=True,
            export=True,
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

    async def _open(self) -> None:
        names, prepare = self._names, self._db.prepare
        component = self._component
        steps = checkpoint_migrations(self.schema, self.table, prepare=prepare)

        async def bootstrap(conn: AsyncConnection[Any]) -> None:
            await ensure_migrated(conn, names, component, steps, prepare=prepare)

        await self._db.open(bootstrap)

    # -- hooks (see CheckpointStoreBase) ------------------------------------------------------
    async def _read(self, session_id: str) -> str | None:
        row = await self._one(self._q.get, (self.namespace, session_id))
        return None if row is None else str(row[0])

    async def _write(
        self,
        session_id: str,
        tenant_id: str | None,
        raw: str,
        ttl: float | None,
        *,
        updated_at: datetime | None = None,
    ) -> None:
        params = self._params(session_id, tenant_id, raw, ttl, updated_at)
        await self._fetch(self._q.put, params, retry=False)

    async def _write_if(
        self,
        session_id: str,
        tenant_id: str | None,
        raw: str,
        ttl: float | None,
        expected: int,
        *,
        updated_at: datetime | None = None,
    ) -> int | None:
        # 0: create, or replace only an expired (so, missing) session; N: one atomic UPDATE
        # (READ COMMITTED re-checks its WHERE on the newest row version).
        query = self._q.put_new if expected == 0 else self._q.put_cas
        params = self._params(session_id, tenant_id, raw, ttl, updated_at)
        rows = await self._fetch(query, {**params, "expected": expected}, retry=False)
        return int(rows[0][0]) if rows else None

    def _params(
        self, sid: str, tenant: str | None, raw: str, ttl: float | None, at: datetime | None
    ) -> dict[str, Any]:
        now = utc_now() if at is None else at
        return {
            "ns": self.namespace,
            "sid": sid,
            "tenant": tenant,
            "state": raw,
            "now": now,
            "ttl": ttl,
        }

    async def _remove(self, session_id: str) -> None:
        await self._one(self._q.delete, (self.namespace, session_id), fetch=False)

    async def _revision(self, session_id: str) -> int:
        row = await self._one(self._q.revision, (self.namespace, session_id))
        return 0 if row is None else int(row[0])

    async def _scan(self, tenant_id: str | None, after: str | None, n: int) -> list[ScanRow]:
        params = {"ns": self.namespace, "tenant": tenant_id, "after": after or "", "limit": n}
        query = self._q.list if tenant_id is None else self._q.list_tenant
        return scan_rows(await self._fetch(query, params))

    async def _export(self, tenant_id: str | None, after: str | None, n: int) -> list[ExportRow]:
        params = {"ns": self.namespace, "tenant": tenant_id, "after": after or "", "limit": n}
        query = self._q.export if tenant_id is None else self._q.export_tenant
        return export_rows(await self._fetch(query, params))

    async def _prune(self, before: datetime) -> int:
        params = {"ns": self.namespace, "before": before}
        rows = await self._fetch(self._q.prune, params, retry=False)
        # Expired rows go too (they already read as missing); count only the stale ones.
        return sum(1 for (stale,) in rows if stale)
