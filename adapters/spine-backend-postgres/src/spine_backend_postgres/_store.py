"""The private base both PostgreSQL stores share: connection setup, lifecycle and helpers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Self, cast

from spine_core.errors import ConfigError
from spine_core.spi import StoreBase, option_names, query_options

from ._config import parse_target, split_url_options
from ._options import ConnectOptions
from ._pool import Connector, single

if TYPE_CHECKING:
    from psycopg import AsyncConnection
    from psycopg_pool import AsyncConnectionPool

__all__ = ["PostgresStore"]


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


class PostgresStore(StoreBase):
    """A store reached through a `Connector`: `from_url`, `_ping`, `_close` and query helpers."""

    _options_model: ClassVar[type[ConnectOptions]]
    """The store's options model (a `ConnectOptions`)."""
    _url_ignores: ClassVar[tuple[str, ...]] = ()
    """URL query options this store does not take (dropped by `from_url`)."""

    _db: Connector

    def _connect(
        self, dsn: str | None, pool: AsyncConnectionPool[Any] | None, options: ConnectOptions
    ) -> None:
        """Set up `self._db` from validated options; no I/O."""
        _check_pool(pool)
        self.options = options
        self._db = Connector(
            target=None if dsn is None else parse_target(dsn), pool=pool, options=options
        )

    @classmethod
    def from_url(cls, url: str, **options: Any) -> Self:
        """A store for `postgresql://user:password@host:5432/db?sslmode=require&schema=app`.

        `postgres://` works too. Spine options may ride in the query string (other parameters
        go to libpq); keywords win.
        """
        model = cls._options_model
        dsn, ours = split_url_options(url, (*option_names(model), *cls._url_ignores))
        for key in cls._url_ignores:
            ours.pop(key, None)
        return cast(Self, cast(Any, cls)(dsn, **{**query_options(model, ours), **options}))

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
        if not self._ready:  # the base has opened the store before any hook runs
            await self._ensure_ready()
        prepare = self._db.prepare

        async def run(conn: AsyncConnection[Any]) -> Any:
            async with single(conn):
                cur = await conn.execute(query, params, prepare=prepare)
                return await cur.fetchone() if fetch else None

        return await self._db.run(run)

    async def _fetch(self, query: bytes, params: Any, *, retry: bool = True) -> list[Any]:
        """Every row of a single statement; retried if the connection is lost.

        A write passes `retry=False`: it may have committed before the connection went.
        """
        if not self._ready:  # the base has opened the store before any hook runs
            await self._ensure_ready()
        prepare = self._db.prepare

        async def run(conn: AsyncConnection[Any]) -> list[Any]:
            async with single(conn):
                cur = await conn.execute(query, params, prepare=prepare)
                return await cur.fetchall()

        return await self._db.run(run, retry=retry)

    async def _count(self, query: bytes, params: Any) -> int:
        """The rows a single statement changed; never retried (it may have committed)."""
        if not self._ready:  # the base has opened the store before any hook runs
            await self._ensure_ready()
        prepare = self._db.prepare

        async def run(conn: AsyncConnection[Any]) -> int:
            async with single(conn):
                cur = await conn.execute(query, params, prepare=prepare)
                return max(0, cur.rowcount)

        return await self._db.run(run, retry=False)
