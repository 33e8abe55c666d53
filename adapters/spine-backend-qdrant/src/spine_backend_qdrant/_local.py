"""Embedded engines (qdrant-client local mode, qdrant-edge): off the event loop, one per directory.

Local mode is plain Python and NumPy behind `async def`: every call runs to completion on the
calling thread, and filtered operations scan every stored point in Python (about 10 µs per
point). Awaited directly, a search with a session filter over 100k points would freeze the
event loop for over a second. So each local client lives on its own worker thread, with its
own event loop, and store calls are submitted to it: the caller's loop stays responsive and
the client, which is not thread-safe, only ever sees one thread. The qdrant-edge engine
(`_edge.EdgeClient`) answers the same calls and runs the same way.

On-disk local mode takes an exclusive lock on its directory, so two clients on one path fail
even inside one process. Stores on the same directory therefore share one client (counted
references); the last store to close releases it, and a store opened while the previous client
is still closing waits for that close instead of tripping over the lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, TypeVar, cast

from spine_core.errors import ConfigError

if TYPE_CHECKING:
    from qdrant_client import AsyncQdrantClient

    from ._edge import Engine

__all__ = ["LocalClient", "acquire_local", "release_local"]

T = TypeVar("T")


class LocalClient:
    """One embedded client (qdrant-client local mode or qdrant-edge) on its own worker thread."""

    def __init__(
        self,
        location: str,
        key: str,
        after: Future[None] | None = None,
        engine: Engine = "client",
    ) -> None:
        self.location = location
        self.key = key
        self.engine = engine
        self.refs = 0
        self.closed: Future[None] = Future()
        self._client: AsyncQdrantClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spine-qdrant-local")
        self.opened: Future[None] = self._executor.submit(self._start, after)

    def _start(self, after: Future[None] | None) -> None:
        if after is not None:
            # The previous client on this directory is still closing: wait until its lock
            # is free (its outcome does not matter, only that it is over).
            with contextlib.suppress(Exception):
                after.result()
        self._loop = asyncio.new_event_loop()
        if self.engine == "edge":
            from ._edge import EdgeClient

            # EdgeClient answers the AsyncQdrantClient calls the store makes, by the same names.
            self._client = cast("AsyncQdrantClient", EdgeClient(self.location))
            return
        # qdrant-client is imported here, not above: qdrant-edge stores open without it.
        from qdrant_client import AsyncQdrantClient

        if self.location == ":memory:":
            self._client = AsyncQdrantClient(location=":memory:")
        else:
            try:
                self._client = AsyncQdrantClient(path=self.location)
            except RuntimeError as exc:
                if "already accessed" not in str(exc):
                    raise
                raise ConfigError(
                    f"Qdrant local storage {self.location!r} is locked by another process; "
                    "local mode allows one process per directory (use a Qdrant server to "
                    "share data between processes)"
                ) from None

    def _drive(self, op: Callable[[AsyncQdrantClient], Awaitable[T]]) -> T:
        assert self._loop is not None
        assert self._client is not None
        return self._loop.run_until_complete(_as_coroutine(op(self._client)))

    async def run(self, op: Callable[[AsyncQdrantClient], Awaitable[T]]) -> T:
        """Run `op(client)` on the worker thread and await its result."""
        return await asyncio.wrap_future(self._executor.submit(self._drive, op))

    def _stop(self) -> None:
        try:
            if self._client is not None and self._loop is not None:
                self._loop.run_until_complete(self._client.close())
        finally:
            if self._loop is not None:
                self._loop.close()

    def shutdown(self) -> Future[None]:
        """Close the client and stop the worker; the future resolves once the lock is free."""

        def done(fut: Future[None]) -> None:
            exc = fut.exception()
            if exc is None:
                self.closed.set_result(None)
            else:
                self.closed.set_exception(exc)

        self._executor.submit(self._stop).add_done_callback(done)
        self._executor.shutdown(wait=False)
        return self.closed


async def _as_coroutine(awaitable: Awaitable[T]) -> T:
    return await awaitable


_lock = threading.Lock()
_shared: dict[str, LocalClient] = {}
_closing: dict[str, Future[None]] = {}


def _key(location: str) -> str:
    return location if location == ":memory:" else os.path.realpath(location)


async def acquire_local(location: str, engine: Engine = "client") -> LocalClient:
    """A started local client for `location` (a directory, or ':memory:' for a private one)."""
    key = _key(location)
    with _lock:
        entry = None if location == ":memory:" else _shared.get(key)
        if entry is not None and entry.engine != engine:
            raise ConfigError(
                f"Qdrant local storage {location!r} is open with engine={entry.engine!r} in "
                f"this process; it cannot be opened with engine={engine!r} as well"
            )
        if entry is None:
            entry = LocalClient(location, key, after=_closing.get(key), engine=engine)
            if location != ":memory:":
                _shared[key] = entry
        entry.refs += 1
    try:
        await asyncio.wrap_future(entry.opened)
    except BaseException:
        await release_local(entry)
        raise
    return entry


async def release_local(entry: LocalClient) -> None:
    """Drop one reference; the last one closes the client and frees the directory lock."""
    with _lock:
        entry.refs -= 1
        if entry.refs > 0:
            return
        if _shared.get(entry.key) is entry:
            del _shared[entry.key]
        closed = entry.shutdown()
        if entry.location != ":memory:":
            _closing[entry.key] = closed

    def forget(_: Future[None]) -> None:
        with _lock:
            if _closing.get(entry.key) is closed:
                del _closing[entry.key]

    closed.add_done_callback(forget)
    # A client that failed to open has nothing to close: its outcome is not ours to raise.
    with contextlib.suppress(Exception):
        await asyncio.wrap_future(closed)
