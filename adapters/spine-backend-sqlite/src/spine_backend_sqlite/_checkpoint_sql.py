"""The SQLite side of `SQLiteCheckpoint`: its schema, spinekit adoption and statements.

Everything here runs on the store's worker thread.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from datetime import UTC, datetime
from typing import Any

from spine_core.errors import ConfigError
from spine_core.records import utc_now
from spine_core.spi import ExportRow, ScanRow

from ._sqlite import (
    Migration,
    Target,
    connect,
    ensure_schema,
    rollback_quietly,
    table_columns,
)

__all__ = ["Engine"]

log = logging.getLogger("spine")

# Append-only: entry N upgrades the "checkpoint" component from schema version N to N + 1.
# Small columns come before `state`: SQLite stores a row's columns in order, and reading a
# column that follows a large overflowing value means walking its overflow pages.
SPINE_COLUMNS = (
    "namespace",
    "session_id",
    "tenant_id",
    "revision",
    "updated_at",
    "expires_at",
    "state",
)
SPINEKIT_TABLE = "checkpoints"
SPINEKIT_COLUMNS = ("session_id", "version", "revision", "data", "updated")
"""spinekit's `SQLiteCheckpoint` table: `data` is its `model_dump_json()`, `updated` epoch s."""

ADOPTED_NAMESPACE = "default"
"""spinekit had no namespaces; the code ported from it opens the default one."""


def _refuse_foreign_table(conn: sqlite3.Connection) -> None:
    # Schema version 0 but the name is taken: CREATE TABLE would fail with a bare driver
    # error; say what is there instead.
    found = table_columns(conn, "spine_checkpoints")
    if found:
        raise ConfigError(
            f"the file already has a table 'spine_checkpoints' with columns "
            f"({', '.join(found)}) that spine-backend-sqlite did not create (its checkpoint "
            f"table has ({', '.join(SPINE_COLUMNS)})); rename or drop that table, or use "
            "another file"
        )


# Session ids Spine accepts (spine_core.validation.validate_session_id); spinekit took any.
_ADOPTABLE = "length(session_id) BETWEEN 1 AND 256 AND instr(session_id, char(0)) = 0"


def _adopt_spinekit(conn: sqlite3.Connection) -> None:
    """Move the rows of spinekit's `checkpoints` table into `spine_checkpoints`.

    Runs once, as a schema migration (inside its `BEGIN IMMEDIATE` transaction), so racing
    processes move each row exactly once. The state text, revision and update time are
    copied as they are, so revisions continue; a `checkpoints` table of any other layout is
    not spinekit's and is left alone.
    """
    if not set(SPINEKIT_COLUMNS) <= set(table_columns(conn, SPINEKIT_TABLE)):
        return
    conn.execute(
        f"""INSERT INTO spine_checkpoints
            (namespace, session_id, tenant_id, revision, updated_at, expires_at, state)
        SELECT ?, session_id,
            CASE WHEN json_valid(data) AND json_type(data, '$.tenant_id') = 'text'
                 THEN json_extract(data, '$.tenant_id') END,
            revision, updated, NULL, data
        FROM checkpoints WHERE {_ADOPTABLE}
        ON CONFLICT (namespace, session_id) DO NOTHING""",
        (ADOPTED_NAMESPACE,),
    )
    # Only the moved rows leave. A session Spine already holds under the same id keeps
    # Spine's copy, and an id Spine refuses (empty, NUL, over 256 characters) could never be
    # read there: those rows stay in spinekit's table, so nothing is lost.
    conn.execute(
        """DELETE FROM checkpoints WHERE EXISTS (
            SELECT 1 FROM spine_checkpoints AS s
            WHERE s.namespace = ? AND s.session_id = checkpoints.session_id
              AND s.state = checkpoints.data AND s.revision = checkpoints.revision)""",
        (ADOPTED_NAMESPACE,),
    )
    left = int(conn.execute("SELECT count(*) FROM checkpoints").fetchone()[0])
    if left:
        log.warning(
            "%d spinekit session(s) were not adopted (an id Spine refuses, or one Spine "
            "already holds); they stay in the table 'checkpoints'",
            left,
        )
    else:
        conn.execute("DROP TABLE checkpoints")


MIGRATIONS: tuple[Migration, ...] = (
    (
        _refuse_foreign_table,
        """CREATE TABLE spine_checkpoints (
            namespace  TEXT    NOT NULL,
            session_id TEXT    NOT NULL,
            tenant_id  TEXT,
            revision   INTEGER NOT NULL,
            updated_at REAL    NOT NULL,  -- UTC epoch seconds of the last put (utc_now)
            expires_at REAL,              -- UTC epoch seconds (wall clock), NULL = never
            state      TEXT    NOT NULL,  -- spine_core.codec.dump_state
            PRIMARY KEY (namespace, session_id)
        )""",
        "CREATE INDEX spine_checkpoints_tenant "
        "ON spine_checkpoints (namespace, tenant_id, session_id)",
        "CREATE INDEX spine_checkpoints_updated ON spine_checkpoints (namespace, updated_at)",
        "CREATE INDEX spine_checkpoints_expires ON spine_checkpoints (namespace, expires_at) "
        "WHERE expires_at IS NOT NULL",
    ),
    (_adopt_spinekit,),
)

# ?7 is "now": a row whose expires_at has passed counts as missing, so a put restarts it at
# revision 1. A single write statement is its own transaction and takes SQLite's write lock
# before it reads the row, so none of these has a read-then-write window.
_VALUES = """INSERT INTO spine_checkpoints
    (namespace, session_id, tenant_id, revision, updated_at, expires_at, state)
    VALUES (?1, ?2, ?3, 1, ?4, ?5, ?6)
    ON CONFLICT (namespace, session_id) DO UPDATE SET
        tenant_id = excluded.tenant_id,
        updated_at = excluded.updated_at,
        expires_at = excluded.expires_at,
        state = excluded.state,"""
_PUT = (
    _VALUES + " revision = CASE WHEN spine_checkpoints.expires_at <= ?7 THEN 1"
    " ELSE spine_checkpoints.revision + 1 END"
)
_CREATE = _VALUES + " revision = 1 WHERE spine_checkpoints.expires_at <= ?7"
_CAS = """UPDATE spine_checkpoints
    SET tenant_id = ?3, updated_at = ?4, expires_at = ?5, state = ?6, revision = revision + 1
    WHERE namespace = ?1 AND session_id = ?2 AND revision = ?8
      AND (expires_at IS NULL OR expires_at > ?7)"""
_GET = "SELECT state, expires_at FROM spine_checkpoints WHERE namespace = ? AND session_id = ?"
_REVISION = (
    "SELECT revision, expires_at FROM spine_checkpoints WHERE namespace = ? AND session_id = ?"
)
_DELETE = "DELETE FROM spine_checkpoints WHERE namespace = ? AND session_id = ?"
_EXPIRE_ONE = (
    "DELETE FROM spine_checkpoints WHERE namespace = ? AND session_id = ? AND expires_at <= ?"
)
_EXPIRE_ALL = "DELETE FROM spine_checkpoints WHERE namespace = ? AND expires_at <= ?"
_PRUNE = "DELETE FROM spine_checkpoints WHERE namespace = ? AND updated_at < ?"
_LIST = """SELECT session_id, tenant_id, updated_at, revision FROM spine_checkpoints
    WHERE namespace = ?1 AND session_id > ?2 AND (expires_at IS NULL OR expires_at > ?3)
    {tenant} ORDER BY session_id LIMIT ?4"""
_LIST_ALL = _LIST.format(tenant="")
_LIST_TENANT = _LIST.format(tenant="AND tenant_id = ?5")
# The primary key (namespace, session_id) makes this a keyset range scan at any size.
_EXPORT = """SELECT session_id, tenant_id, updated_at, revision, state, expires_at
    FROM spine_checkpoints
    WHERE namespace = ?1 AND session_id > ?2 AND (expires_at IS NULL OR expires_at > ?3)
    {tenant} ORDER BY session_id LIMIT ?4"""
_EXPORT_ALL = _EXPORT.format(tenant="")
_EXPORT_TENANT = _EXPORT.format(tenant="AND tenant_id = ?5")


class Engine:
    """The connection and every statement; runs only on the store's worker thread."""

    def __init__(self, conn: sqlite3.Connection, namespace: str, target: Target) -> None:
        self.conn = conn
        self.namespace = namespace
        self.busy_ms = int(target.busy_timeout * 1000)

    @classmethod
    def open(cls, target: Target, namespace: str) -> Engine:
        conn = connect(target)
        try:
            ensure_schema(conn, "checkpoint", MIGRATIONS, target)
        except BaseException:
            conn.close()
            raise
        return cls(conn, namespace, target)

    def close(self) -> None:
        self.conn.close()

    def ping(self) -> None:
        self.conn.execute("SELECT 1").fetchone()

    def write(
        self,
        session_id: str,
        tenant_id: str | None,
        raw: str,
        ttl: float | None,
        updated_at: datetime | None = None,
    ) -> None:
        now = time.time()
        params = self._params(session_id, tenant_id, raw, ttl, now, updated_at)
        self.conn.execute(_PUT, (*params, now))

    def write_if(
        self,
        session_id: str,
        tenant_id: str | None,
        raw: str,
        ttl: float | None,
        expected: int,
        updated_at: datetime | None = None,
    ) -> int | None:
        now = time.time()
        params = self._params(session_id, tenant_id, raw, ttl, now, updated_at)
        if expected == 0:
            cursor = self.conn.execute(_CREATE, (*params, now))
        else:
            cursor = self.conn.execute(_CAS, (*params, now, expected))
        return expected + 1 if cursor.rowcount == 1 else None

    def _params(
        self,
        session_id: str,
        tenant_id: str | None,
        raw: str,
        ttl: float | None,
        now: float,
        updated_at: datetime | None = None,
    ) -> tuple[Any, ...]:
        expires_at = None if ttl is None else now + ttl
        updated = (utc_now() if updated_at is None else updated_at).timestamp()
        return (self.namespace, session_id, tenant_id, updated, expires_at, raw)

    def read(self, session_id: str) -> str | bytes | None:
        row = self.conn.execute(_GET, (self.namespace, session_id)).fetchone()
        if row is None:
            return None
        raw, expires_at = row
        if expires_at is not None and expires_at <= (now := time.time()):
            self._expire(session_id, now)
            return None
        return raw  # type: ignore[no-any-return]

    def _expire(self, session_id: str, now: float) -> None:
        # Lazy cleanup on read is best effort: never make a read wait for the write lock.
        self.conn.execute("PRAGMA busy_timeout = 0")
        try:
            self.conn.execute(_EXPIRE_ONE, (self.namespace, session_id, now))
        except sqlite3.OperationalError:
            pass  # locked: the row still reads as missing; prune or a later read removes it
        finally:
            self.conn.execute(f"PRAGMA busy_timeout = {self.busy_ms:d}")

    def delete(self, session_id: str) -> None:
        self.conn.execute(_DELETE, (self.namespace, session_id))

    def revision(self, session_id: str) -> int:
        row = self.conn.execute(_REVISION, (self.namespace, session_id)).fetchone()
        if row is None or (row[1] is not None and row[1] <= time.time()):
            return 0
        return int(row[0])

    def scan(self, tenant_id: str | None, after: str | None, n: int) -> list[ScanRow]:
        start = "" if after is None else after  # session ids are never empty
        if tenant_id is None:
            rows = self.conn.execute(_LIST_ALL, (self.namespace, start, time.time(), n))
        else:
            rows = self.conn.execute(
                _LIST_TENANT, (self.namespace, start, time.time(), n, tenant_id)
            )
        return [
            (sid, tenant, datetime.fromtimestamp(updated_at, UTC), revision)
            for sid, tenant, updated_at, revision in rows
        ]

    def export(self, tenant_id: str | None, after: str | None, n: int) -> list[ExportRow]:
        start = "" if after is None else after
        if tenant_id is None:
            rows = self.conn.execute(_EXPORT_ALL, (self.namespace, start, time.time(), n))
        else:
            rows = self.conn.execute(
                _EXPORT_TENANT, (self.namespace, start, time.time(), n, tenant_id)
            )
        return [
            (
                sid,
                tenant,
                datetime.fromtimestamp(updated_at, UTC),
                revision,
                state,
                None if expires_at is None else datetime.fromtimestamp(expires_at, UTC),
            )
            for sid, tenant, updated_at, revision, state, expires_at in rows
        ]

    def prune(self, before: datetime) -> int:
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            count = conn.execute(_PRUNE, (self.namespace, before.timestamp())).rowcount
            # Expired sessions already read as missing: remove them too, without counting.
            conn.execute(_EXPIRE_ALL, (self.namespace, time.time()))
            conn.execute("COMMIT")
        except BaseException:
            rollback_quietly(conn)
            raise
        return int(count)
