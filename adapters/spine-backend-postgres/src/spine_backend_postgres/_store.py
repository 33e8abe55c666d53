"""The private base both PostgreSQL stores share: connection setup, lifecycle and helpers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Self, cast

from spine_core.spi import StoreBase

from ._config import ConnectOptions, PoolerMode, parse_target, split_url_options
from ._pool import Connector, single

if TYPE_CHECKING:
    from psycopg import AsyncConnection
    from psycopg_pool import AsyncConnectionPool

__all__ = ["PostgresStore"]


class PostgresStore(StoreBase):
    """A store reached through a `Connector`: `from_url`, `_ping`, `_close` and query helpers."""

    _url_ignores: ClassVar[tuple[str, ...]] = ()
    """URL query options this store does not take (dropped by `from_url`)."""

    _db: Connector

    def _connect(
        self,
        dsn: str | None,
        pool: AsyncConnectionPool[Any] | None,
        *,
        pooler: PoolerMode,
        pool_min_size: int,
        pool_max_size: int,
        pool_timeout: float,
        connect_timeout: float,
        retries: int,
        command_timeout: float = ConnectOptions.command_timeout,
    ) -> ConnectOptions:
        """Validate the connection options and set up `self._db`; no I/O."""
        options = ConnectOptions(
            pooler=pooler,
            pool_min_size=pool_min_size,
            pool_max_size=pool_max_size,
            pool_timeout=pool_timeout,
            connect_timeout=connect_timeout,
            command_timeout=command_timeout,
            retries=retries,
        )
        self._db = Connector(
            target=None if dsn is None else parse_target(dsn), pool=pool, options=options
        )
        return options

    @classmethod
    def from_url(cls, url: str, **options: Any) -> Self:
        """A store for `postgresql://user:password@host:5432/db?sslmode=require&schema=app`.

        `postgres://` works too. Spine options may ride in the query string; keywords win.
        """
        dsn, from_query = split_url_options(url)
        for key in cls._url_ignores:
            from_query.pop(key, None)
        return cast(Self, cast(Any, cls)(dsn, **{**from_query, **options}))

    async def _close(self) -> None:
        await self._db.close()

    async def _ping(self) -> None:
        prepare = self._db.prepare

        async def ping(conn: AsyncConnection[Any]) -> None:
            await conn.execute("SELECT 1", prepare=prepare)

        # A health probe answers "is it up?" quickly, even when statements may run long.
        options = self._db.options
        await self._db.run(ping, limit=min(options.command_timeout, options.connect_timeout))

    # -- helpers ------------------------------------------------------------------------------
    async def _one(self, query: bytes, params: Any, *, fetch: bool = True) -> Any:
        """The first row of a single statement (None without `fetch`); retried if lost."""
        await self._ensure_ready()
        prepare = self._db.prepare

        async def run(conn: AsyncConnection[Any]) -> Any:
            async with single(conn):
                cur = await conn.execute(query, params, prepare=prepare)
                return await cur.fetchone() if fetch else None

        return await self._db.run(run)

    async def _fetch(self, query: bytes, params: Any) -> list[Any]:
        """Every row of a single read-only statement; retried if the connection is lost."""
        await self._ensure_ready()
        prepare = self._db.prepare

        async def run(conn: AsyncConnection[Any]) -> list[Any]:
            async with single(conn):
                cur = await conn.execute(query, params, prepare=prepare)
                return await cur.fetchall()

        return await self._db.run(run)

    async def _count(self, query: bytes, params: Any) -> int:
        """The rows a single statement changed; never retried (it may have committed)."""
        await self._ensure_ready()
        prepare = self._db.prepare

        async def run(conn: AsyncConnection[Any]) -> int:
            async with single(conn):
                cur = await conn.execute(query, params, prepare=prepare)
                return max(0, cur.rowcount)

        return await self._db.run(run, retry=False)
