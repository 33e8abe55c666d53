"""What both SQLite stores share: `from_url`, `path`, identity and the worker-thread lifecycle."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Self, TypeVar

from spine_core.spi import StoreOptions, query_options

from ._runner import Engine, Runner
from ._sqlite import Target, split_url

__all__ = ["SQLiteStoreMixin"]

E = TypeVar("E", bound=Engine)


class SQLiteStoreMixin:
    """`from_url`, `path`, identity and the worker-thread lifecycle of a SQLite store.

    Put it before the spine-core base class, so its `_target`, `_close` and `_ping` win.
    """

    _options_model: ClassVar[type[StoreOptions]]
    """The store's options model: what a `sqlite://` URL query may carry."""
    _where: Target
    _runner: Runner[Any]
    namespace: str

    @classmethod
    def from_url(cls, url: str, **options: Any) -> Self:
        """`sqlite:///relative.db`, `sqlite:////absolute.db` or `sqlite://` (in memory).

        Query options are the store's options (`namespace`, `busy_timeout`, and
        `default_ttl` for checkpoints); keyword options win.
        """
        path, query = split_url(url)
        store: Callable[..., Self] = cls  # each store's __init__ takes the path first
        return store(path, **{**query_options(cls._options_model, query), **options})

    @property
    def path(self) -> str | None:
        """The database file, or `None` for an in-memory database."""
        return self._where.path

    def _target(self) -> str:
        return f"{self._where.url()}?namespace={self.namespace}"

    async def _start(self, opener: Callable[[Target, str], E]) -> E:
        """Start the worker thread and open the engine on it for this target and namespace."""
        where, namespace = self._where, self.namespace
        engine: E = await self._runner.start(lambda: opener(where, namespace))
        return engine

    async def _close(self) -> None:
        await self._runner.stop()

    async def _ping(self) -> None:
        await self._runner.call(self._runner.engine.ping)
