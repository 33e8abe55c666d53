"""Connections, schema migrations, error mapping and URL parsing shared by both stores.

Every function that takes a `sqlite3.Connection` runs on the store's worker thread.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Callable, Sequence

from spine_core.errors import (
    BackendUnavailable,
    ConfigError,
    DataError,
    InvalidInput,
    SpineError,
)
from spine_core.spi import embedded_path, url_options

__all__ = [
    "MEMORY",
    "Target",
    "connect",
    "ensure_schema",
    "split_url",
    "table_columns",
    "translate_error",
]

MEMORY = ":memory:"
MIN_SQLITE = (3, 24, 0)  # UPSERT (INSERT ... ON CONFLICT DO UPDATE)


class Target:
    """Where a store's database lives and how long a writer waits for the write lock."""

    __slots__ = ("busy_timeout", "path")

    def __init__(self, path: str | os.PathLike[str], busy_timeout: float) -> None:
        if not isinstance(path, str | os.PathLike):
            raise ConfigError(f"sqlite path must be a str or os.PathLike, got {path!r:.80}")
        text = os.fspath(path)
        if not text:
            raise ConfigError("sqlite path must not be empty (use ':memory:' for an in-memory db)")
        if "\x00" in text:
            raise ConfigError("sqlite path must not contain NUL")
        self.path: str | None = None if text == MEMORY else os.path.expanduser(text)
        self.busy_timeout = busy_timeout  # checked by the store's options model

    @property
    def in_memory(self) -> bool:
        """True for a private in-memory database (one per store object)."""
        return self.path is None

    def url(self) -> str:
        """The target as a `sqlite://` URL (`sqlite:///rel`, `sqlite:////abs`, `sqlite://`)."""
        return "sqlite://" if self.path is None else f"sqlite:///{self.path}"

    def describe(self) -> str:
        """How errors name the database."""
        return "in-memory SQLite database" if self.path is None else f"SQLite file {self.path!r}"


def split_url(url: str) -> tuple[str, dict[str, str]]:
    """The path (or ':memory:') and the raw query options of a `sqlite://` URL."""
    if not isinstance(url, str) or url.partition("://")[0].lower() != "sqlite":
        raise ConfigError(f"not a sqlite:// URL: {url!r:.200}")
    path = embedded_path(url)
    return (MEMORY if path is None else path), url_options(url)


# -- connections ------------------------------------------------------------------------------


def connect(target: Target) -> sqlite3.Connection:
    """Open the database (creating parent directories), in WAL mode for files."""
    if sqlite3.sqlite_version_info < MIN_SQLITE:
        raise ConfigError(
            f"SQLite {sqlite3.sqlite_version} is too old; spine-backend-sqlite needs "
            f"{'.'.join(map(str, MIN_SQLITE))} or newer"
        )
    if target.path is not None:
        parent = os.path.dirname(os.path.abspath(target.path))
        try:
            os.makedirs(parent, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"cannot create the directory of {target.describe()}: {exc}"
            ) from None
    try:
        # isolation_level=None: no implicit BEGIN; each operation states its transaction.
        conn = sqlite3.connect(
            MEMORY if target.path is None else target.path,
            timeout=target.busy_timeout,
            isolation_level=None,
            cached_statements=256,
        )
    except sqlite3.Error as exc:
        raise translate_error(exc, target) from None
    try:
        if target.path is not None:
            _enable_wal(conn, target)
            # In WAL mode NORMAL syncs at checkpoints, not at every commit: a commit survives a
            # crash of the process, but the last commits may roll back on power loss or an OS
            # crash. The database is never corrupted either way.
            conn.execute("PRAGMA synchronous=NORMAL")
    except sqlite3.Error as exc:
        conn.close()
        raise translate_error(exc, target) from None
    except BaseException:
        conn.close()
        raise
    return conn


def _enable_wal(conn: sqlite3.Connection, target: Target) -> None:
    # journal_mode is persistent in the file: read it first so a routine open takes no lock.
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    if str(mode).lower() == "wal":
        return
    # Switching needs an exclusive lock; several processes opening a fresh file at once can
    # see SQLITE_BUSY here even with a busy timeout, so retry until the timeout is spent.
    deadline = time.monotonic() + max(target.busy_timeout, 0.05)
    delay = 0.002
    while True:
        try:
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            break
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
    if str(mode).lower() != "wal":
        raise ConfigError(f"{target.describe()} cannot use WAL journaling (got {mode!r})")


# -- schema -----------------------------------------------------------------------------------

Step = str | Callable[[sqlite3.Connection], None]
"""One statement, or a function run on the connection inside the migration's transaction."""

Migration = Sequence[Step]
"""The steps that take one component from version N to N + 1."""

_SCHEMA_TABLE = (
    "CREATE TABLE IF NOT EXISTS spine_schema (component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
)


def _schema_version(conn: sqlite3.Connection, component: str) -> int:
    try:
        row = conn.execute(
            "SELECT version FROM spine_schema WHERE component = ?", (component,)
        ).fetchone()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return 0
        raise
    return 0 if row is None else int(row[0])


def _refuse_newer(component: str, found: int, known: int, target: Target) -> ConfigError:
    return ConfigError(
        f"{target.describe()} has {component} schema version {found}, newer than version "
        f"{known} that this spine-backend-sqlite understands; upgrade spine-backend-sqlite "
        "(a newer release wrote this file) or point the store at another file"
    )


def ensure_schema(
    conn: sqlite3.Connection,
    component: str,
    migrations: Sequence[Migration],
    target: Target,
) -> None:
    """Apply the forward migrations `component` lacks, once, under the write lock.

    `migrations` is append-only: entry N takes the schema from version N to N + 1 (its
    steps are statements or functions that run in the same transaction). The
    common case (already current) is one read. Otherwise `BEGIN IMMEDIATE` takes the write
    lock before re-reading the version, so processes opening a fresh file together apply
    each migration exactly once. A file whose version is newer than the code is refused.
    """
    known = len(migrations)
    version = _schema_version(conn, component)
    if version == known:
        return
    if version > known:
        raise _refuse_newer(component, version, known, target)
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(_SCHEMA_TABLE)
        version = _schema_version(conn, component)
        if version > known:
            raise _refuse_newer(component, version, known, target)
        for migration in migrations[version:]:
            for step in migration:
                if isinstance(step, str):
                    conn.execute(step)
                else:
                    step(conn)
        conn.execute(
            "INSERT INTO spine_schema (component, version) VALUES (?, ?) "
            "ON CONFLICT (component) DO UPDATE SET version = excluded.version",
            (component, known),
        )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def table_columns(conn: sqlite3.Connection, table: str) -> list[str]:
    """The column names of `table` in the main database (empty when there is no such table)."""
    return [str(row[1]) for row in conn.execute("SELECT * FROM pragma_table_info(?)", (table,))]


def rollback_quietly(conn: sqlite3.Connection) -> None:
    """End a failed transaction; never masks the error that caused it."""
    if conn.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")


# -- errors -----------------------------------------------------------------------------------


def _is_busy(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def translate_error(exc: BaseException, target: Target) -> SpineError:
    """The Spine error for a sqlite3 failure.

    "database is locked" after `busy_timeout` means another connection held the write lock
    for longer than this store agreed to wait. That is contention, not data loss, and the
    caller's remedy is the same as for an unreachable server (retry later, or raise
    `busy_timeout`), so it is `BackendUnavailable` - with a message that says it was a lock.
    SQLite's busy handler already retried for `busy_timeout` seconds; no further retries.
    """
    text = str(exc)
    where = target.describe()
    if isinstance(exc, UnicodeEncodeError):
        return InvalidInput(f"text cannot be stored in SQLite (not valid Unicode): {exc.reason}")
    if isinstance(exc, sqlite3.OperationalError):
        if _is_busy(exc):
            return BackendUnavailable(
                f"{where} is locked by another connection; gave up after "
                f"busy_timeout={target.busy_timeout:g}s ({text}). Retry, or raise busy_timeout."
            )
        if "unable to open" in text or "readonly" in text:
            return ConfigError(f"cannot use {where}: {text}")
        return BackendUnavailable(f"{where}: {text}")
    if isinstance(exc, sqlite3.DatabaseError) and (
        "not a database" in text or "malformed" in text or "corrupt" in text
    ):
        return DataError(f"{where} is corrupt or not a SQLite database: {text}")
    if isinstance(exc, sqlite3.IntegrityError):
        return DataError(f"{where}: {text}")
    return BackendUnavailable(f"{where}: {type(exc).__name__}: {text}")
