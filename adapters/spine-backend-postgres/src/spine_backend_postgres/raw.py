"""`RawPostgres`: the benchmark floor, the checkpoint store's statements through plain psycopg.

The same JSONB upsert, primary-key select and revision compare-and-set `PostgresCheckpoint`
runs, on one pooled autocommit connection, minus Spine: no validation, no codec, no retries.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from spine_core.spi import option_names

from ._config import split_url_options
from ._options import PostgresCheckpointOptions

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

__all__ = ["RawPostgres"]


class RawPostgres:
    """Raw-driver floor for `spine bench` (entry point group `spine.bench`, name `postgres`)."""

    def __init__(self, target: str) -> None:
        """`target` is the URL the store takes; Spine options in its query are ignored."""
        self._dsn, options = split_url_options(target, option_names(PostgresCheckpointOptions))
        self._schema = options.get("schema", "public")
        self._table = f"spine_raw_{secrets.token_hex(4)}"
        self._pool: AsyncConnectionPool[Any] | None = None

    def _sql(self, text: str) -> bytes:
        from psycopg import sql

        return sql.SQL(text).format(t=sql.Identifier(self._schema, self._table)).as_bytes(None)

    async def open(self) -> None:
        """Open a one-connection pool and create the benchmark table."""
        from psycopg_pool import AsyncConnectionPool

        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            self._dsn, kwargs={"autocommit": True}, min_size=1, max_size=1, open=False
        )
        await pool.open(wait=True)
        self._pool = pool
        self._put = self._sql(
            "INSERT INTO {t} (key, state, revision) VALUES (%s, %s::json, 1)"
            " ON CONFLICT (key) DO UPDATE SET state = excluded.state,"
            " revision = {t}.revision + 1"
        )
        self._get = self._sql("SELECT state::text FROM {t} WHERE key = %s")
        self._cas = self._sql(
            "UPDATE {t} SET state = %s::json, revision = revision + 1"
            " WHERE key = %s AND revision = %s"
        )
        self._create = self._sql(
            "INSERT INTO {t} (key, state, revision) VALUES (%s, %s::json, 1)"
            " ON CONFLICT (key) DO NOTHING"
        )
        async with pool.connection() as conn:
            await conn.execute(
                self._sql(
                    'CREATE TABLE {t} (key text COLLATE "C" PRIMARY KEY, state json NOT NULL,'
                    " revision bigint NOT NULL)"
                )
            )

    async def close(self) -> None:
        """Close the pool."""
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    def _pool_or_fail(self) -> AsyncConnectionPool[Any]:
        if self._pool is None:
            raise RuntimeError("RawPostgres is not open")
        return self._pool

    async def put(self, key: str, payload: str) -> None:
        """Upsert `payload` under `key`, bumping the revision."""
        async with self._pool_or_fail().connection() as conn:
            await conn.execute(self._put, (key, payload))

    async def get(self, key: str) -> str | None:
        """The payload under `key`, or None."""
        async with self._pool_or_fail().connection() as conn:
            row = await (await conn.execute(self._get, (key,))).fetchone()
            return None if row is None else str(row[0])

    async def cas_put(self, key: str, payload: str, expected: int) -> bool:
        """Write only if the revision is `expected` (0: only if missing); True if written."""
        async with self._pool_or_fail().connection() as conn:
            if expected == 0:
                cur = await conn.execute(self._create, (key, payload))
            else:
                cur = await conn.execute(self._cas, (payload, key, expected))
            return bool(cur.rowcount == 1)

    async def cleanup(self) -> None:
        """Drop the benchmark table."""
        async with self._pool_or_fail().connection() as conn:
            await conn.execute(self._sql("DROP TABLE IF EXISTS {t}"))
