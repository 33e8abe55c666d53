"""Connection handling shared by the PostgreSQL stores.

A `Connector` owns (or borrows) a `psycopg_pool.AsyncConnectionPool`, opens it lazily,
retries connection failures a bounded number of times and maps driver errors onto Spine's
hierarchy, without ever letting the DSN's password into a message.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from typing import TYPE_CHECKING, Any, TypeVar

from spine_core.errors import BackendUnavailable, ConfigError, InvalidInput, SpineError
from spine_core.redact import redact_text
from spine_core.retry import retry_transient

from ._config import ConnectOptions, Target

if TYPE_CHECKING:
    from psycopg import AsyncConnection
    from psycopg_pool import AsyncConnectionPool

__all__ = ["Connector", "is_connection_error", "map_error", "single"]

T = TypeVar("T")

# SQLSTATEs that mean "the connection, not the statement, failed": class 08 (connection
# exception) and the server shutting down or starting up (57P01-57P03).
_CONNECTION_STATES = ("57P01", "57P02", "57P03")


def is_connection_error(exc: BaseException) -> bool:
    """True for a lost or refused connection (worth retrying), not a failed statement."""
    from psycopg import OperationalError

    if not isinstance(exc, OperationalError):
        return False
    state = exc.sqlstate
    return state is None or state.startswith("08") or state in _CONNECTION_STATES


def _detail(exc: BaseException) -> str:
    return redact_text(f"{type(exc).__name__}: {exc}".strip())


def map_error(exc: BaseException, where: str) -> BaseException:
    """The Spine error for a driver error that is not a lost connection (else `exc`)."""
    from psycopg import errors

    if isinstance(exc, errors.ProgramLimitExceeded):
        return InvalidInput(f"{where} refused the value: {_detail(exc)}")
    if isinstance(exc, errors.InsufficientPrivilege):
        return ConfigError(f"{where}: permission denied: {_detail(exc)}")
    if isinstance(exc, errors.OperationalError) and not is_connection_error(exc):
        # Statement timeouts, disk full, out of memory...: the server, not the input.
        return BackendUnavailable(f"{where}: {_detail(exc)}")
    return exc


def single(conn: AsyncConnection[Any]) -> AbstractAsyncContextManager[Any]:
    """Context for a single-statement operation: nothing in autocommit, else a transaction.

    Connections from our own pool are in autocommit mode, so a single statement costs one
    round trip; an injected pool's connection may not be, and then the statement must commit.
    """
    return nullcontext() if conn.autocommit else conn.transaction()


class Connector:
    """A lazily opened pool (owned or injected) with bounded retries of connection failures."""

    def __init__(
        self,
        *,
        target: Target | None,
        pool: AsyncConnectionPool[Any] | None,
        options: ConnectOptions,
    ) -> None:
        if (target is None) == (pool is None):
            raise ConfigError("pass exactly one of a DSN/URL or pool=")
        self.target = target
        self.options = options
        self._injected = pool
        self._pool: AsyncConnectionPool[Any] | None = pool

    @property
    def where(self) -> str:
        """`PostgreSQL at host:port/db` (no secret), or a description of the injected pool."""
        if self.target is not None:
            return self.target.where
        return f"PostgreSQL via injected pool {getattr(self._injected, 'name', '?')!r}"

    @property
    def shown(self) -> str:
        """A printable, password-free target."""
        return self.target.shown if self.target is not None else self.where

    @property
    def prepare(self) -> bool | None:
        """The `prepare=` argument for every execute."""
        return self.options.prepare

    @property
    def owns_pool(self) -> bool:
        """True when the store opens (and so may configure) its own connections."""
        return self._injected is None

    async def open(
        self,
        bootstrap: Callable[[AsyncConnection[Any]], Awaitable[None]],
        *,
        configure: Callable[[AsyncConnection[Any]], Awaitable[None]] | None = None,
    ) -> None:
        """Connect (with retries), run `bootstrap` once on one connection, open the pool.

        `configure` runs on every new connection of the store's own pool (never on an
        injected pool's).
        """
        import psycopg
        from psycopg import OperationalError
        from psycopg_pool import AsyncConnectionPool, PoolTimeout

        if self._injected is not None:
            if self._injected.closed:
                await self._injected.open(wait=False)

            async def borrowed(conn: AsyncConnection[Any]) -> None:
                # Migrations manage their own transaction: run them in autocommit mode and
                # hand the borrowed connection back as we found it.
                manual = not conn.autocommit
                if manual:
                    await conn.set_autocommit(True)
                try:
                    await bootstrap(conn)
                finally:
                    if manual:
                        await conn.set_autocommit(False)

            await self.run(borrowed, retry=True)
            return
        assert self.target is not None
        target = self.target

        async def attempt() -> None:
            from psycopg import AsyncConnection

            # A direct connection fails fast with the driver's reason (connection refused,
            # bad password...), where a pool would only time out.
            try:
                conn = await AsyncConnection.connect(target.dsn, **self.options.connection_kwargs())
                async with conn:
                    await bootstrap(conn)
            except psycopg.Error as exc:
                mapped = exc if is_connection_error(exc) else map_error(exc, self.where)
                if mapped is exc:
                    raise
                raise mapped from None

        await retry_transient(
            attempt,
            transient=(OperationalError, PoolTimeout),
            what=self.where,
            attempts=self.options.retries,
        )
        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            target.dsn,
            kwargs=self.options.connection_kwargs(),
            min_size=self.options.pool_min_size,
            max_size=self.options.pool_max_size,
            timeout=self.options.pool_timeout,
            open=False,
            name="spine-postgres",
            configure=configure,
        )
        await pool.open(wait=False)
        self._pool = pool

    async def close(self) -> None:
        """Close the pool if this store opened it; an injected pool is left alone."""
        pool, self._pool = self._pool, self._injected
        if pool is not None and pool is not self._injected:
            await pool.close()

    async def run(
        self,
        op: Callable[[AsyncConnection[Any]], Awaitable[T]],
        *,
        retry: bool = True,
    ) -> T:
        """Run `op` on a pooled connection.

        Failing to get a connection is always retried. A connection lost *during* `op` is
        retried only when `retry` (the operation is idempotent); otherwise the outcome is
        unknown and `BackendUnavailable` says so rather than risk applying a write twice.
        """
        from psycopg import OperationalError
        from psycopg_pool import PoolTimeout

        pool = self._pool
        if pool is None:
            raise BackendUnavailable(f"{self.where}: the store is closed")

        async def attempt() -> T:
            async with pool.connection(timeout=self.options.pool_timeout) as conn:
                try:
                    return await op(conn)
                except SpineError:
                    raise
                except OperationalError as exc:
                    if not is_connection_error(exc):
                        raise map_error(exc, self.where) from None
                    if not retry:
                        raise BackendUnavailable(
                            f"{self.where}: connection lost during a write; it may or may not "
                            f"have been applied ({_detail(exc)})"
                        ) from None
                    raise
                except Exception as exc:
                    mapped = map_error(exc, self.where)
                    if mapped is exc:
                        raise
                    raise mapped from None

        return await retry_transient(
            attempt,
            transient=(OperationalError, PoolTimeout),
            what=self.where,
            attempts=self.options.retries,
        )
