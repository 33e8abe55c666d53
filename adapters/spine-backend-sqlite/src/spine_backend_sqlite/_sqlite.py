"""Connections, schema migrations, error mapping and configuration shared by both stores.

Every function that takes a `sqlite3.Connection` runs on the store's worker thread.
"""

from __future__ import annotations

import contextlib
import math
import os
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar

from spine_core.errors import (
    BackendUnavailable,
    ConfigError,
    DataError,
    InvalidInput,
    SpineError,
)
from spine_core.spi import embedded_path, url_options

if TYPE_CHECKING:
    from ._runner import Engine, Runner

__all__ = [
    "MEMORY",
    "SQLiteStoreMixin",
    "Target",
    "connect",
    "ensure_schema",
    "parse_url",
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
        if (
            isinstance(busy_timeout, bool)
            or not isinstance(busy_timeout, int | float)
            or not math.isfinite(busy_timeout)
            or busy_timeout < 0
        ):
            raise ConfigError(
                f"busy_timeout must be a finite, non-negative number of seconds, "
                f"got {busy_timeout!r}"
            )
        self.busy_timeout = float(busy_timeout)

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


def parse_url(url: str, allowed: Mapping[str, Callable[[str], Any]]) -> tuple[str, dict[str, Any]]:
    """The path (or ':memory:') and the typed query options of a `sqlite://` URL."""
    if not isinstance(url, str) or url.partition("://")[0].lower() != "sqlite":
        raise ConfigError(f"not a sqlite:// URL: {url!r:.200}")
    path = embedded_path(url)
    options: dict[str, Any] = {}
    for key, raw in url_options(url).items():
        convert = allowed.get(key)
        if convert is None:
            known = ", ".join(sorted(allowed))
            raise ConfigError(f"unknown option {key!r} in sqlite URL; known: {known}")
        try:
            options[key] = convert(raw)
        except ValueError:
            raise ConfigError(f"bad value {raw!r:.80} for option {key!r} in sqlite URL") from None
    return (MEMORY if path is None else path), options


def optional_float(raw: str) -> float | None:
    """A URL option that is a number of seconds, or empty/'none' for None."""
    return None if raw.strip().lower() in ("", "none", "null") else float(raw)


E = TypeVar("E", bound="Engine")


class SQLiteStoreMixin:
    """What both stores share: `from_url`, `path`, identity and the worker-thread lifecycle.

    Put it before the spine-core base class, so its `_target`, `_close` and `_ping` win.
    """

    _url_options: ClassVar[Mapping[str, Callable[[str], Any]]]
    """The query options a `sqlite://` URL may carry, each with its converter."""
    _where: Target
    _runner: Runner[Any]
    namespace: str

    @classmethod
    def from_url(cls, url: str, **options: Any) -> Self:
        """`sqlite:///relative.db`, `sqlite:////absolute.db` or `sqlite://` (in memory).

        Query options: `namespace`, `busy_timeout` (and `default_ttl` for checkpoints);
        keyword options win.
        """
        path, query = parse_url(url, cls._url_options)
        store: Callable[..., Self] = cls  # each store's __init__ takes the path first
        return store(path, **{**query, **options})

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
