"""`SQLiteMemory`: records in SQLite, exact cosine search over an in-process numpy matrix."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from spine_core.errors import DataError
from spine_core.spi import (
    Embedder,
    Filter,
    MemoryCapabilities,
    MemoryRecord,
    MemoryStoreBase,
    PreparedRecord,
    Topology,
    matches_filter,
    parse_options,
)

from ._options import SQLiteMemoryOptions
from ._runner import Runner
from ._sqlite import Migration, Target, connect, ensure_schema, rollback_quietly
from ._store import SQLiteStoreMixin

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from ._cache import VectorCache

__all__ = ["SQLiteMemory"]

# Append-only: entry N upgrades the "memory" component from schema version N to N + 1.
# `seq` (the rowid, AUTOINCREMENT so never reused) orders rows for the search cache and
# breaks score ties by age. `writes` counts every committed change of a namespace and
# `deletes` the changes that removed rows, so before each search a store learns with one
# indexed read whether another connection wrote, and whether reading the rows with a
# higher `seq` is enough to catch up.
MIGRATIONS: tuple[Migration, ...] = (
    (
        """CREATE TABLE spine_memory (
            seq        INTEGER PRIMARY KEY AUTOINCREMENT,
            namespace  TEXT    NOT NULL,
            id         TEXT    NOT NULL,
            session_id TEXT,
            ts         REAL    NOT NULL,  -- UTC epoch seconds (utc_now)
            metadata   TEXT    NOT NULL,  -- a JSON object
            vector     BLOB    NOT NULL,  -- unit vector, little-endian float32
            content    TEXT    NOT NULL
        )""",
        "CREATE UNIQUE INDEX spine_memory_id ON spine_memory (namespace, id)",
        "CREATE INDEX spine_memory_session ON spine_memory (namespace, session_id, ts, id)",
        "CREATE INDEX spine_memory_ts ON spine_memory (namespace, ts)",
        """CREATE TABLE spine_memory_meta (
            namespace TEXT    PRIMARY KEY,
            embedder  TEXT    NOT NULL,
            dimension INTEGER NOT NULL,
            writes    INTEGER NOT NULL DEFAULT 0,
            deletes   INTEGER NOT NULL DEFAULT 0
        )""",
    ),
)

_COLUMNS = "id, session_id, content, metadata, ts"
_INSERT = (
    "INSERT INTO spine_memory (seq, namespace, id, session_id, ts, metadata, vector, content) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_BUMP = (
    "UPDATE spine_memory_meta SET writes = writes + 1, deletes = deletes + ? WHERE namespace = ?"
)
_VERSION = "SELECT writes, deletes FROM spine_memory_meta WHERE namespace = ?"
_NEXT_SEQ = "SELECT seq FROM sqlite_sequence WHERE name = 'spine_memory'"
_GET = f"SELECT {_COLUMNS} FROM spine_memory WHERE namespace = ? AND id = ?"
_LOAD = (
    f"SELECT {_COLUMNS} FROM spine_memory WHERE namespace = ? AND session_id = ? "
    "ORDER BY ts DESC, id DESC LIMIT ?"
)
_EXPORT = (
    f"SELECT {_COLUMNS}, vector FROM spine_memory WHERE namespace = ? AND id > ? "
    "ORDER BY id LIMIT ?"
)
"""A keyset range over the unique index (namespace, id): one seek per page at any size."""
_FETCH_CHUNK = 500

Row = tuple[str, str | None, str, str, float]
"""id, session_id, content, metadata JSON, ts."""


def _filter_sql(flt: Filter) -> tuple[str, list[Any]] | None:
    """SQL for metadata equality with JSON semantics, or None when SQL cannot say it.

    json_type tells true/false from numbers (so True never equals 1) and json_extract
    compares integers and reals numerically (so 1 equals 1.0), as `matches_filter` does.
    SQLite's JSON paths cannot escape a key, so keys that JSON would escape fall back to
    evaluating `matches_filter` in Python.
    """
    clauses: list[str] = []
    params: list[Any] = []
    for key, value in flt.items():
        if json.dumps(key, ensure_ascii=False)[1:-1] != key:
            return None
        path = f'$."{key}"'
        if isinstance(value, bool):
            clauses.append("json_type(metadata, ?) = ?")
            params += [path, "true" if value else "false"]
        elif isinstance(value, int | float):
            if isinstance(value, int) and not -(2**63) <= value < 2**63:
                return None
            clauses.append(
                "json_type(metadata, ?) IN ('integer', 'real') AND json_extract(metadata, ?) = ?"
            )
            params += [path, path, value]
        else:
            clauses.append("json_type(metadata, ?) = 'text' AND json_extract(metadata, ?) = ?")
            params += [path, path, value]
    return " AND ".join(clauses), params


class _Engine:
    """Connection, statements and the search cache; runs only on the worker thread."""

    def __init__(self, conn: sqlite3.Connection, namespace: str) -> None:
        self.conn = conn
        self.namespace = namespace
        self.dimension = 0
        """The vector length, set by `claim` (search runs only after it)."""
        self.cache: VectorCache | None = None

    @classmethod
    def open(cls, target: Target, namespace: str) -> _Engine:
        import numpy  # noqa: F401 - import the search dependency here, off the event loop

        conn = connect(target)
        try:
            ensure_schema(conn, "memory", MIGRATIONS, target)
        except BaseException:
            conn.close()
            raise
        return cls(conn, namespace)

    def claim(self, embedder: str, dimension: int) -> tuple[str, int]:
        """Record `embedder` for the namespace if it is new; (name, dimension) recorded."""
        if self.cache is not None and self.cache.dimension != dimension:
            self.cache = None
        self.dimension = dimension
        return _namespace_meta(self.conn, self.namespace, embedder, dimension)

    def close(self) -> None:
        self.cache = None
        self.conn.close()

    def ping(self) -> None:
        self.conn.execute("SELECT 1").fetchone()

    # -- writes: one transaction each, which also bumps the namespace's counters -----------
    def _commit_write(self, deleted: bool) -> tuple[tuple[int, int], tuple[int, int]]:
        """Bump the counters and commit; return the (writes, deletes) before and after."""
        self.conn.execute(_BUMP, (int(deleted), self.namespace))
        writes, deletes = self.conn.execute(_VERSION, (self.namespace,)).fetchone()
        self.conn.execute("COMMIT")
        return (writes - 1, deletes - int(deleted)), (writes, deletes)

    def _own_write(self, before: tuple[int, int], after: tuple[int, int]) -> VectorCache | None:
        """The cache, if it may take this store's write incrementally, else None.

        Only when nobody else wrote since its last sync; otherwise the next search syncs
        (and picks this write up with the others).
        """
        cache = self.cache
        if cache is None or cache.version != before:
            return None
        cache.version = after
        return cache

    def insert(
        self,
        rows: list[tuple[str, str | None, float, str, str]],
        vectors: Any,
        replace: bool = False,
    ) -> None:
        import numpy as np

        from ._cache import BLOB_DTYPE

        matrix = np.asarray(vectors, dtype=np.float32)
        blobs = matrix.astype(BLOB_DTYPE, copy=False)
        conn, ns = self.conn, self.namespace
        replaced: list[int] = []
        conn.execute("BEGIN IMMEDIATE")
        try:
            if replace:
                # A restore: the namesakes go in the same transaction, all or nothing.
                replaced = self._seqs_of([r[0] for r in rows])
                for i in range(0, len(replaced), _FETCH_CHUNK):
                    chunk = replaced[i : i + _FETCH_CHUNK]
                    marks = ",".join("?" * len(chunk))
                    conn.execute(f"DELETE FROM spine_memory WHERE seq IN ({marks})", chunk)
            # Under the write lock, so these are exactly the seqs AUTOINCREMENT would pick.
            last = conn.execute(_NEXT_SEQ).fetchone()
            first = 1 if last is None else int(last[0]) + 1
            seqs = range(first, first + len(rows))
            conn.executemany(
                _INSERT,
                [
                    (seq, ns, rid, sid, ts, meta, blobs[i].tobytes(), content)
                    for i, (seq, (rid, sid, ts, meta, content)) in enumerate(
                        zip(seqs, rows, strict=True)
                    )
                ],
            )
            before, after = self._commit_write(deleted=bool(replaced))
        except BaseException:
            rollback_quietly(conn)
            raise
        cache = self._own_write(before, after)
        if cache is not None:
            if replaced:
                cache.remove(replaced)
            cache.append(list(seqs), [r[1] for r in rows], matrix)

    def _seqs_of(self, ids: list[str]) -> list[int]:
        seqs: list[int] = []
        for i in range(0, len(ids), _FETCH_CHUNK):
            chunk = ids[i : i + _FETCH_CHUNK]
            marks = ",".join("?" * len(chunk))
            seqs += [
                r[0]
                for r in self.conn.execute(
                    f"SELECT seq FROM spine_memory WHERE namespace = ? AND id IN ({marks})",
                    [self.namespace, *chunk],
                )
            ]
        return seqs

    def _delete_where(self, where: str, params: Sequence[Any]) -> int:
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            seqs = [
                r[0] for r in conn.execute(f"SELECT seq FROM spine_memory WHERE {where}", params)
            ]
            if not seqs:
                conn.execute("ROLLBACK")
                return 0
            conn.execute(f"DELETE FROM spine_memory WHERE {where}", params)
            before, after = self._commit_write(deleted=True)
        except BaseException:
            rollback_quietly(conn)
            raise
        cache = self._own_write(before, after)
        if cache is not None:
            cache.remove(seqs)
        return len(seqs)

    def forget(self, record_id: str) -> bool:
        return self._delete_where("namespace = ? AND id = ?", (self.namespace, record_id)) > 0

    def prune(self, session_id: str | None, before: float | None) -> int:
        where: list[str] = ["namespace = ?"]
        params: list[Any] = [self.namespace]
        if session_id is not None:
            where.append("session_id = ?")
            params.append(session_id)
        if before is not None:
            where.append("ts < ?")
            params.append(before)
        return self._delete_where(" AND ".join(where), params)

    # -- reads -------------------------------------------------------------------------------
    def get(self, record_id: str) -> Row | None:
        row: Row | None = self.conn.execute(_GET, (self.namespace, record_id)).fetchone()
        return row

    def used_bytes(self) -> int:
        """Pages in use (free pages left out) times the page size."""
        pages = self.conn.execute("PRAGMA page_count").fetchone()[0]
        free = self.conn.execute("PRAGMA freelist_count").fetchone()[0]
        size = self.conn.execute("PRAGMA page_size").fetchone()[0]
        return int((pages - free) * size)

    def load(self, session_id: str, limit: int) -> list[Row]:
        rows: list[Row] = self.conn.execute(_LOAD, (self.namespace, session_id, limit)).fetchall()
        rows.reverse()
        return rows

    def export(self, after: str | None, n: int) -> list[tuple[Row, list[float]]]:
        import numpy as np

        from ._cache import BLOB_DTYPE

        start = "" if after is None else after  # record ids are never empty
        return [
            (
                (rid, sid, content, meta, ts),
                np.frombuffer(blob, dtype=BLOB_DTYPE).astype(np.float64).tolist(),
            )
            for rid, sid, content, meta, ts, blob in self.conn.execute(
                _EXPORT, (self.namespace, start, n)
            )
        ]

    def search(
        self,
        query: list[float],
        k: int,
        session_id: str | None,
        flt: Filter | None,
    ) -> list[tuple[Row, float]]:
        import numpy as np

        from ._cache import VectorCache

        q: npt.NDArray[np.float32] = np.asarray(query, dtype=np.float32)
        conn, ns = self.conn, self.namespace
        # One read transaction: the counter check, a reload, the filter and the fetch of the
        # winners all see the same snapshot of the database.
        conn.execute("BEGIN")
        try:
            row = conn.execute(_VERSION, (ns,)).fetchone()
            cache = self.cache
            if cache is None:
                cache = self.cache = VectorCache(self.dimension)
            cache.sync(conn, ns, (-1, -1) if row is None else (int(row[0]), int(row[1])))
            allowed = None if flt is None else cache.positions(self._matching(flt, session_id))
            best = cache.top_k(q, k, session_id, allowed)
            rows = self._fetch([seq for seq, _ in best])
        finally:
            rollback_quietly(conn)
        return [(rows[seq], score) for seq, score in best if seq in rows]

    def _matching(self, flt: Filter, session_id: str | None) -> list[int]:
        scope = "namespace = ?"
        params: list[Any] = [self.namespace]
        if session_id is not None:
            scope += " AND session_id = ?"
            params.append(session_id)
        sql = _filter_sql(flt)
        if sql is not None:
            clause, extra = sql
            cur = self.conn.execute(
                f"SELECT seq FROM spine_memory WHERE {scope} AND {clause}", [*params, *extra]
            )
            return [r[0] for r in cur]
        cur = self.conn.execute(f"SELECT seq, metadata FROM spine_memory WHERE {scope}", params)
        return [seq for seq, meta in cur if matches_filter(json.loads(meta), flt)]

    def _fetch(self, seqs: list[int]) -> dict[int, Row]:
        out: dict[int, Row] = {}
        for i in range(0, len(seqs), _FETCH_CHUNK):
            chunk = seqs[i : i + _FETCH_CHUNK]
            marks = ",".join("?" * len(chunk))
            for seq, *rest in self.conn.execute(
                f"SELECT seq, {_COLUMNS} FROM spine_memory WHERE seq IN ({marks})", chunk
            ):
                out[seq] = (rest[0], rest[1], rest[2], rest[3], rest[4])
        return out


def _namespace_meta(
    conn: sqlite3.Connection, namespace: str, embedder: str, dimension: int
) -> tuple[str, int]:
    """The embedder recorded for `namespace`, recording ours if it is new."""
    select = "SELECT embedder, dimension FROM spine_memory_meta WHERE namespace = ?"
    row = conn.execute(select, (namespace,)).fetchone()
    if row is None:
        # OR IGNORE: if another process created the namespace first, its embedder wins and
        # the store checks against it like any other reopen.
        conn.execute(
            "INSERT OR IGNORE INTO spine_memory_meta (namespace, embedder, dimension) "
            "VALUES (?, ?, ?)",
            (namespace, embedder, dimension),
        )
        row = conn.execute(select, (namespace,)).fetchone()
    return str(row[0]), int(row[1])


def _record(row: Row) -> MemoryRecord:
    rid, session_id, content, metadata, ts = row
    try:
        meta = json.loads(metadata)
    except (TypeError, ValueError) as exc:
        raise DataError(f"memory record {rid!r} has corrupt metadata: {exc}") from None
    if not isinstance(meta, dict):
        raise DataError(f"memory record {rid!r} has metadata that is not a JSON object")
    return MemoryRecord(id=rid, content=content, session_id=session_id, metadata=meta, ts=ts)


def _capabilities(target: Target) -> MemoryCapabilities:
    common = {
        "search": "exact cosine similarity (no approximation: recall is 1.0)",
        "index": "a float32 matrix per namespace held in process memory (4 x dimension "
        "bytes per record), loaded on the first search; another connection's inserts are "
        "read incrementally, its deletions cause a reload",
        "filter": "metadata equality with JSON semantics, evaluated by SQLite json_extract",
        "thread": "one connection on one dedicated worker thread per store",
    }
    if target.in_memory:
        return MemoryCapabilities(
            get=True,
            forget=True,
            prune=True,
            save_many=True,
            filter=True,
            export=True,
            details={
                **common,
                "storage": "in-memory database private to this store object",
                "sharing": "two stores opened on sqlite:// never share data",
            },
        )
    return MemoryCapabilities(
        get=True,
        forget=True,
        prune=True,
        save_many=True,
        filter=True,
        export=True,
        persistent=True,
        concurrent_writers=True,
        durable=True,
        details={
            **common,
            "storage": "file",
            "journal_mode": "wal",
            "synchronous": "normal",
            "durability": (
                "a committed save survives a crash of the process; with synchronous=NORMAL "
                "in WAL mode the last commits before a power loss or OS crash may be lost, "
                "but the file is never corrupted"
            ),
            "concurrent_writers": (
                "threads and processes on one machine; writes are serialized by SQLite's "
                "write lock (a writer waits up to busy_timeout)"
            ),
            "busy_timeout_s": target.busy_timeout,
        },
    )


class SQLiteMemory(SQLiteStoreMixin, MemoryStoreBase):
    """Memory records in a SQLite file (or a private in-memory database), exact search.

    Search multiplies the query by a float32 matrix of the namespace's vectors that the
    store keeps in memory, so it is exact and fast (≈100k x 256 in a few milliseconds) at
    the cost of 4 x dimension bytes of RAM per record.
    """

    backend: ClassVar[str] = "sqlite"
    distribution: ClassVar[str] = "spine-backend-sqlite"
    topology: Topology = "embedded"
    # What every instance offers, whatever its file; an instance adds what its own target
    # gives (persistence, durability, concurrent writers, details).
    capabilities = MemoryCapabilities(
        get=True, forget=True, prune=True, save_many=True, filter=True, export=True
    )
    _options_model = SQLiteMemoryOptions

    def __init__(
        self,
        path: str | os.PathLike[str] = ":memory:",
        *,
        embedder: Embedder | None = None,
        namespace: str = "default",
        busy_timeout: float = 5.0,
    ) -> None:
        options = parse_options(
            SQLiteMemoryOptions, kwargs={"namespace": namespace, "busy_timeout": busy_timeout}
        )
        super().__init__(embedder=embedder, namespace=options.namespace)
        self.options = options
        self._where = Target(path, options.busy_timeout)
        self.capabilities = _capabilities(self._where)
        self._runner: Runner[_Engine] = Runner(self._where, "spine-sqlite-memory")

    async def _open(self) -> None:
        await self._start(_Engine.open)

    async def _claim(self, dimension: int) -> None:
        stored = await self._runner.call(self._runner.engine.claim, self.embedder_name, dimension)
        self._check_embedder(*stored, dimension)

    async def _insert(self, records: list[PreparedRecord], *, replace: bool = False) -> None:
        # One transaction: all or nothing.
        rows = [(p.id, p.session_id, p.ts, p.metadata_json, p.content) for p in records]
        vectors = [p.vector for p in records]
        await self._runner.call(self._runner.engine.insert, rows, vectors, replace)

    async def _export(
        self, after: str | None, n: int
    ) -> Sequence[tuple[MemoryRecord, list[float] | None]]:
        rows = await self._runner.call(self._runner.engine.export, after, n)
        return [(_record(row), vector) for row, vector in rows]

    async def _query(
        self, vector: list[float], k: int, session_id: str | None, filter: Filter | None
    ) -> list[tuple[MemoryRecord, float]]:
        hits = await self._runner.call(self._runner.engine.search, vector, k, session_id, filter)
        return [(_record(row), score) for row, score in hits]

    async def _recent(self, session_id: str, limit: int) -> list[MemoryRecord]:
        rows = await self._runner.call(self._runner.engine.load, session_id, limit)
        return [_record(row) for row in rows]

    async def _lookup(self, record_id: str) -> MemoryRecord | None:
        row = await self._runner.call(self._runner.engine.get, record_id)
        return None if row is None else _record(row)

    async def _forget(self, record_id: str) -> bool:
        return await self._runner.call(self._runner.engine.forget, record_id)

    async def _prune(self, session_id: str | None, before: float | None) -> int:
        return await self._runner.call(self._runner.engine.prune, session_id, before)

    async def _footprint(self) -> int | None:
        """Bytes of the database's pages in use now (free pages left out), for `spine bench`."""
        await self._ensure_ready()
        return await self._runner.call(self._runner.engine.used_bytes)

    async def _drop_namespace(self) -> None:
        """Delete the namespace: every record and its recorded embedder (for `spine check`).

        Private: the conformance kit calls it on the namespaces it made, to leave nothing.
        """
        await self._ensure_ready()
        engine = self._runner.engine

        def drop() -> None:
            conn = engine.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                for table in ("spine_memory", "spine_memory_meta"):
                    conn.execute(f"DELETE FROM {table} WHERE namespace = ?", (engine.namespace,))
                conn.execute("COMMIT")
            except BaseException:
                rollback_quietly(conn)
                raise
            engine.cache = None

        await self._runner.call(drop)
        await self.aclose()
