"""A store's engine (connection + state living on the worker thread) and the hop to it."""

from __future__ import annotations

import sqlite3
import weakref
from collections.abc import Callable
from typing import Generic, ParamSpec, Protocol, TypeVar

from spine_core.errors import BackendUnavailable

from ._sqlite import Target, translate_error
from ._worker import Worker

__all__ = ["Engine", "Runner"]

P = ParamSpec("P")
T = TypeVar("T")


class Engine(Protocol):
    """What a runner needs of an engine: a way to close its connection."""

    def close(self) -> None:
        """Close the connection (on the worker thread)."""
        ...


E = TypeVar("E", bound=Engine)


class Runner(Generic[E]):
    """Owns one worker thread and the engine built on it; maps sqlite3 errors to Spine's."""

    def __init__(self, target: Target, thread_name: str) -> None:
        self.target = target
        self._thread_name = thread_name
        self._worker: Worker | None = None
        self._engine: E | None = None

    async def start(self, opener: Callable[[], E]) -> E:
        """Start the thread and build the engine on it (connect, migrate)."""
        worker = Worker(self._thread_name)
        worker.start()
        try:
            engine = await worker.run(opener)
        except (sqlite3.Error, UnicodeEncodeError) as exc:
            worker.stop()
            raise translate_error(exc, self.target) from exc
        except BaseException:
            worker.stop()
            raise
        worker.on_exit = engine.close
        self._worker, self._engine = worker, engine
        # A store dropped without aclose() must not leave its thread and connection behind:
        # the thread holds no reference to the runner, so this fires when the store goes.
        weakref.finalize(self, worker.stop)
        return engine

    async def call(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run one operation on the worker thread: one hop, however many statements."""
        worker = self._worker
        if worker is None:
            raise BackendUnavailable(f"{self.target.describe()}: the store is closed")
        try:
            return await worker.run(fn, *args, **kwargs)
        except (sqlite3.Error, UnicodeEncodeError) as exc:
            raise translate_error(exc, self.target) from exc

    @property
    def engine(self) -> E:
        """The open engine; `BackendUnavailable` if the store was closed meanwhile."""
        engine = self._engine
        if engine is None:
            raise BackendUnavailable(f"{self.target.describe()}: the store is closed")
        return engine

    async def stop(self) -> None:
        """Close the connection on its thread, then let the thread end."""
        worker, engine = self._worker, self._engine
        self._worker = self._engine = None
        if worker is None or engine is None:
            return
        try:
            await worker.run(engine.close)
        finally:
            worker.stop()
