"""`SQLiteCheckpoint`: run state in one SQLite table, every optional capability."""

from __future__ import annotations

import os
from datetime import datetime
from typing import ClassVar

from spine_core.spi import (
    CheckpointCapabilities,
    CheckpointStoreBase,
    ExportRow,
    ScanRow,
    Topology,
    parse_options,
)

from ._checkpoint_sql import Engine
from ._options import SQLiteCheckpointOptions
from ._runner import Runner
from ._sqlite import Target
from ._store import SQLiteStoreMixin

__all__ = ["SQLiteCheckpoint"]


def _capabilities(target: Target) -> CheckpointCapabilities:
    if target.in_memory:
        return CheckpointCapabilities(
            revisions=True,
            ttl=True,
            list_sessions=True,
            prune=True,
            export=True,
            details={
                "storage": "in-memory database private to this store object",
                "sharing": "two stores opened on sqlite:// never share data",
                "thread": "one connection on one dedicated worker thread",
            },
        )
    return CheckpointCapabilities(
        revisions=True,
        ttl=True,
        list_sessions=True,
        prune=True,
        export=True,
        concurrent_writers=True,
        durable=True,
        details={
            "storage": "file",
            "journal_mode": "wal",
            "synchronous": "normal",
            "durability": (
                "a committed put survives a crash of the process; with synchronous=NORMAL "
                "in WAL mode the last commits before a power loss or OS crash may be lost, "
                "but the file is never corrupted"
            ),
            "concurrent_writers": (
                "threads and processes on one machine; writes are serialized by SQLite's "
                "write lock (a writer waits up to busy_timeout), reads never block. "
                "Not for network file systems"
            ),
            "revisions": "compare-and-set is one conditional write statement under the lock",
            "ttl": "expires_at is wall-clock UTC; expired sessions read as missing and are "
            "deleted lazily and by prune",
            "busy_timeout_s": target.busy_timeout,
            "thread": "one connection on one dedicated worker thread per store",
        },
    )


class SQLiteCheckpoint(SQLiteStoreMixin, CheckpointStoreBase):
    """Checkpoints in a SQLite file (or a private in-memory database).

    Every optional capability: revisions with cross-process compare-and-set, ttl,
    list_sessions, prune and export. All SQLite work runs on one worker thread per store, so the
    event loop never waits on disk or on another process's write lock.

    `SQLiteCheckpoint()` uses the file `spine.db` in the working directory, as spinekit's
    did; pass `":memory:"` (or open `sqlite://`) for a private in-memory database. A file
    spinekit wrote is adopted on first open: its sessions move into Spine's table with
    their revisions.
    """

    backend: ClassVar[str] = "sqlite"
    distribution: ClassVar[str] = "spine-backend-sqlite"
    topology: Topology = "embedded"
    # What every instance offers, whatever its file; an instance adds what its own target
    # gives (durability, concurrent writers, details).
    capabilities = CheckpointCapabilities(
        revisions=True, ttl=True, list_sessions=True, prune=True, export=True
    )
    _options_model = SQLiteCheckpointOptions

    def __init__(
        self,
        path: str | os.PathLike[str] = "spine.db",
        *,
        namespace: str = "default",
        default_ttl: float | None = None,
        busy_timeout: float = 5.0,
    ) -> None:
        super().__init__()
        self.options = options = parse_options(
            SQLiteCheckpointOptions,
            kwargs={
                "namespace": namespace,
                "default_ttl": default_ttl,
                "busy_timeout": busy_timeout,
            },
        )
        self._where = Target(path, options.busy_timeout)
        self.namespace = options.namespace
        self.default_ttl = options.default_ttl
        self.capabilities = _capabilities(self._where)
        self._runner: Runner[Engine] = Runner(self._where, "spine-sqlite-checkpoint")

    async def _open(self) -> None:
        await self._start(Engine.open)

    # -- hooks (see CheckpointStoreBase); each is one hop to the worker thread ---------------
    async def _read(self, session_id: str) -> str | bytes | None:
        return await self._runner.call(self._runner.engine.read, session_id)

    async def _write(
        self,
        session_id: str,
        tenant_id: str | None,
        raw: str,
        ttl: float | None,
        *,
        updated_at: datetime | None = None,
    ) -> None:
        engine = self._runner.engine
        await self._runner.call(engine.write, session_id, tenant_id, raw, ttl, updated_at)

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
        engine = self._runner.engine
        return await self._runner.call(
            engine.write_if, session_id, tenant_id, raw, ttl, expected, updated_at
        )

    async def _remove(self, session_id: str) -> None:
        await self._runner.call(self._runner.engine.delete, session_id)

    async def _revision(self, session_id: str) -> int:
        return await self._runner.call(self._runner.engine.revision, session_id)

    async def _scan(self, tenant_id: str | None, after: str | None, n: int) -> list[ScanRow]:
        return await self._runner.call(self._runner.engine.scan, tenant_id, after, n)

    async def _prune(self, before: datetime) -> int:
        return await self._runner.call(self._runner.engine.prune, before)

    async def _export(self, tenant_id: str | None, after: str | None, n: int) -> list[ExportRow]:
        return await self._runner.call(self._runner.engine.export, tenant_id, after, n)
