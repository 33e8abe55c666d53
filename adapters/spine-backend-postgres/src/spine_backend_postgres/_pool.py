"""Connection handling shared by the PostgreSQL stores.

A `Connector` owns (or borrows) a `psycopg_pool.AsyncConnectionPool`, opens it lazily,
retries connection failures a bounded number of times and maps driver errors onto Spine's
hierarchy, without ever letting the DSN's password into a message.

Every call is bounded in time: `command_timeout` covers waiting for a connection, the
statement and any retries (first use: connecting and schema setup get the larger of
`connect_timeout` and `command_timeout`; `health()` the smaller). At the deadline the
connection's socket is shut down, which wakes the driver at once; cancelling the task instead
would make psycopg try a server-side cancel against the very server that does not answer.
No server-side `statement_timeout` is set: it would also cut a legitimately long batch (a
pipelined `executemany` is one statement to the timer), and it cannot leak to other clients
of a pooler; the server notices a severed client when it next writes to it.
A pooled connection whose socket turned readable while idle (the server closed it, e.g. on a
restart) is discarded before a statement is sent on it, so writes need no blind retry.
"""

from __future__ import annotations

import asyncio
import os
import select
import socket
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, nullcontext, suppress
from typing import TYPE_CHECKING, Any, TypeVar

from spine_core.errors import BackendUnavailable, ConfigError, InvalidInput, SpineError
from spine_core.spi import redact_text, retry_transient

from ._config import Target
from ._options import ConnectOptions

if TYPE_CHECKING:
    from psycopg import AsyncConnection
    from psycopg_pool import AsyncConnectionPool

__all__ = ["Connector", "is_connection_error", "map_error", "single"]

T = TypeVar("T")

# SQLSTATEs that mean "the connection, not the statement, failed": class 08 (connection
# exception) and the server shutting down or starting up (57P01-57P03).
_CONNECTION_STATES = ("57P01", "57P02", "57P03")

# How long the pool keeps retrying a failed connect in the background before it gives up and
# lets the next call start afresh. psycopg_pool's default (5 min of exponential backoff) is what
# made the first call after an outage wait for the next backoff step, up to tens of seconds.
_RECONNECT_WINDOW = 1.0


class _Expired(Exception):
    """The call's deadline passed (internal: turned into `BackendUnavailable`)."""


def _stale(conn: AsyncConnection[Any]) -> bool:
    """True when an idle pooled connection cannot be used.

    It is closed, broken, or its socket is readable although no statement is running (the
    server closed it or sent its last words). A `select` with a zero timeout: no round trip,
    so a healthy connection costs nothing.
    """
    if conn.closed or conn.broken:
        return True
    try:
        fd = conn.pgconn.socket
        readable, _, _ = select.select([fd], [], [], 0)
    except Exception:  # OSError, ValueError, or psycopg's own error on a dead pgconn
        return True
    return bool(readable)


def _sever(conn: AsyncConnection[Any]) -> None:
    """Shut the connection's socket down so a driver waiting on it fails now."""
    try:
        dup = socket.socket(fileno=os.dup(conn.pgconn.socket))
    except Exception:  # already closed: nothing waits on it
        return
    with dup, suppress(OSError):
        dup.shutdown(socket.SHUT_RDWR)


def is_connection_error(exc: BaseException) -> bool:
    """True for a lost or refused connection (worth retrying), not a failed statement."""
    from psycopg import OperationalError

    if not isinstance(exc, OperationalError):
        return False
    state = exc.sqlstate
    return state is None or state.startswith("08") or state in _CONNECTION_STATES


# libpq reports these connect failures without a SQLSTATE; none is helped by a retry, so
# they are configuration errors, raised at once (a refused or lost connection is retried).
_CONFIG_FAILURES = (
    "password authentication failed",
    "no password supplied",
    "does not exist",  # role "x" / database "x"
    "no pg_hba.conf entry",
    "invalid sslmode value",
    "invalid port number",
    "invalid connection option",
    "invalid integer value",
    "invalid value for parameter",
    "server does not support SSL",
)


def is_config_failure(exc: BaseException) -> bool:
    """True for a connect failure that only a configuration change fixes (bad password, …)."""
    from psycopg import OperationalError

    return isinstance(exc, OperationalError) and any(
        marker in str(exc) for marker in _CONFIG_FAILURES
    )


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
        from psycopg.conninfo import conninfo_to_dict

        kwargs = self.options.connection_kwargs(conninfo_to_dict(target.dsn))

        async def attempt() -> None:
            from psycopg import AsyncConnection

            # A direct connection fails fast with the driver's reason (connection refused,
            # bad password...), where a pool would only time out. The asyncio timeout around
            # the retries is the outer bound; libpq's connect_timeout bounds each attempt.
            try:
                conn = await AsyncConnection.connect(target.dsn, **kwargs)
                async with conn:
                    await bootstrap(conn)
            except psycopg.Error as exc:
                if is_config_failure(exc):
                    raise ConfigError(f"{self.where}: {_detail(exc)}") from None
                mapped = exc if is_connection_error(exc) else map_error(exc, self.where)
                if mapped is exc:
                    raise
                raise mapped from None

        budget = max(self.options.connect_timeout, self.options.command_timeout)
        try:
            async with asyncio.timeout(budget):
                await retry_transient(
                    attempt,
                    transient=(OperationalError, PoolTimeout),
                    what=self.where,
                    attempts=self.options.retries,
                )
        except TimeoutError:
            raise BackendUnavailable(
                f"{self.where} did not answer within {budget:g}s "
                "(max of connect_timeout and command_timeout)"
            ) from None
        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            target.dsn,
            kwargs=kwargs,
            min_size=self.options.pool_min_size,
            max_size=self.options.pool_max_size,
            timeout=self.options.pool_timeout,
            open=False,
            name="spine-postgres",
            configure=configure,
            reconnect_timeout=_RECONNECT_WINDOW,
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
        limit: float | None = None,
    ) -> T:
        """Run `op` on a pooled connection, within `limit` seconds (default `command_timeout`).

        Failing to get a connection is always retried. A connection lost *during* `op` is
        retried only when `retry` (the operation is idempotent); otherwise the outcome is
        unknown and `BackendUnavailable` says so rather than risk applying a write twice.
        A write that never reached the server is reported as not applied.
        """
        from psycopg import OperationalError
        from psycopg_pool import PoolTimeout

        pool = self._pool
        if pool is None:
            raise BackendUnavailable(f"{self.where}: the store is closed")
        budget = self.options.command_timeout if limit is None else limit
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget
        sent = False  # whether `op` started on a live connection in the last attempt
        expired = False

        def expire(conn: AsyncConnection[Any]) -> None:
            nonlocal expired
            expired = True
            _sever(conn)

        async def attempt() -> T:
            nonlocal sent
            sent = False
            # Stale connections (all of the pool's, after a server restart) are discarded,
            # each costing no round trip; a fresh one follows.
            for _ in range(self.options.pool_max_size + 1):
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise _Expired
                wait = min(self.options.pool_timeout, remaining)
                async with pool.connection(timeout=wait) as conn:
                    if _stale(conn):
                        await conn.close()  # the pool replaces it
                        continue
                    sent = True
                    timer = loop.call_at(deadline, expire, conn)
                    try:
                        return await op(conn)
                    except SpineError:
                        raise
                    except OperationalError as exc:
                        if expired:
                            raise _Expired from None
                        if not is_connection_error(exc):
                            raise map_error(exc, self.where) from None
                        if not retry:
                            raise BackendUnavailable(
                                f"{self.where}: connection lost during a write; it may or may "
                                f"not have been applied ({_detail(exc)})"
                            ) from None
                        raise
                    except Exception as exc:
                        if expired:
                            raise _Expired from None
                        mapped = map_error(exc, self.where)
                        if mapped is exc:
                            raise
                        raise mapped from None
                    finally:
                        timer.cancel()
            raise PoolTimeout("every pooled connection was stale")

        try:
            async with asyncio.timeout_at(deadline + 0.5):  # a backstop: `expire` acts first
                return await retry_transient(
                    attempt,
                    transient=(OperationalError, PoolTimeout),
                    what=self.where,
                    attempts=self.options.retries,
                )
        except (_Expired, TimeoutError):
            if sent and not retry:
                raise BackendUnavailable(
                    f"{self.where} did not answer a write within {budget:g}s; "
                    "it may or may not have been applied"
                ) from None
            raise BackendUnavailable(
                f"{self.where} did not answer within {budget:g}s"
                + ("" if sent else "; nothing was sent")
            ) from None
