"""The benchmark floor: the checkpoint store's statements through bare `sqlite3`.

`RawSQLite` runs the same upsert, keyed select and compare-and-set `UPDATE` that
`SQLiteCheckpoint` runs, on the same kind of dedicated worker thread and hop, with the same
pragmas (WAL, synchronous=NORMAL) - everything except Spine itself (state serialization,
validation, revision and ttl bookkeeping). That is the honest floor for a SQLite store that
does not block the event loop.
"""

from __future__ import annotations

import secrets
import sqlite3

from spine_core.spi import parse_options

from ._options import SQLiteCheckpointOptions
from ._sqlite import Target, connect, split_url
from ._worker import Worker

__all__ = ["RawSQLite"]


class _Statements:
    """One connection and a private table; the statements mirror `SQLiteCheckpoint`'s."""

    def __init__(self, target: Target) -> None:
        self.conn: sqlite3.Connection = connect(target)
        self.table = f"spine_raw_{secrets.token_hex(4)}"
        t = self.table
        self.conn.execute(
            f"CREATE TABLE {t} (key TEXT PRIMARY KEY, revision INTEGER NOT NULL, "
            "payload TEXT NOT NULL)"
        )
        self.put_sql = (
            f"INSERT INTO {t} (key, revision, payload) VALUES (?, 1, ?) ON CONFLICT (key) "
            f"DO UPDATE SET revision = {t}.revision + 1, payload = excluded.payload"
        )
        self.get_sql = f"SELECT payload FROM {t} WHERE key = ?"
        self.create_sql = (
            f"INSERT INTO {t} (key, revision, payload) VALUES (?, 1, ?) ON CONFLICT DO NOTHING"
        )
        self.cas_sql = (
            f"UPDATE {t} SET revision = revision + 1, payload = ? WHERE key = ? AND revision = ?"
        )

    def put(self, key: str, payload: str) -> None:
        self.conn.execute(self.put_sql, (key, payload))

    def get(self, key: str) -> str | None:
        row = self.conn.execute(self.get_sql, (key,)).fetchone()
        return None if row is None else str(row[0])

    def cas_put(self, key: str, payload: str, expected: int) -> bool:
        if expected == 0:
            return self.conn.execute(self.create_sql, (key, payload)).rowcount == 1
        return self.conn.execute(self.cas_sql, (payload, key, expected)).rowcount == 1

    def cleanup(self) -> None:
        self.conn.execute(f"DROP TABLE IF EXISTS {self.table}")

    def close(self) -> None:
        self.conn.close()


class RawSQLite:
    """Plain sqlite3 on one worker thread: the floor `spine bench` compares the store to."""

    def __init__(self, target: str) -> None:
        # The checkpoint store's URL options are accepted (so the bench can pass the store's
        # URL) and, apart from busy_timeout, ignored.
        path, query = split_url(target)
        options = parse_options(SQLiteCheckpointOptions, query)
        self._target = Target(path, options.busy_timeout)
        self._worker: Worker | None = None
        self._db: _Statements | None = None

    def _ready(self) -> tuple[Worker, _Statements]:
        if self._worker is None or self._db is None:
            raise RuntimeError("RawSQLite is not open; call open() first")
        return self._worker, self._db

    async def open(self) -> None:
        """Connect on the worker thread and create a private table."""
        worker = Worker("spine-sqlite-raw")
        worker.start()
        target = self._target
        self._db = await worker.run(lambda: _Statements(target))
        worker.on_exit = self._db.close
        self._worker = worker

    async def close(self) -> None:
        """Close the connection and end the thread."""
        if self._worker is not None and self._db is not None:
            await self._worker.run(self._db.close)
            self._worker.stop()
        self._worker = self._db = None

    async def put(self, key: str, payload: str) -> None:
        """The store's upsert: insert, or replace the payload and bump the revision."""
        worker, db = self._ready()
        await worker.run(db.put, key, payload)

    async def get(self, key: str) -> str | None:
        """The payload under `key`, or None."""
        worker, db = self._ready()
        return await worker.run(db.get, key)

    async def cas_put(self, key: str, payload: str, expected: int) -> bool:
        """Write only if the revision is `expected` (0: only if missing)."""
        worker, db = self._ready()
        return await worker.run(db.cas_put, key, payload, expected)

    async def cleanup(self) -> None:
        """Drop the private table."""
        worker, db = self._ready()
        await worker.run(db.cleanup)
