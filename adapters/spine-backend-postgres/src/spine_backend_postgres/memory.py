"""`PgVectorMemory`: semantic memory in PostgreSQL with pgvector (HNSW, cosine)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from spine_core.errors import ConfigError, UnsupportedServer
from spine_core.spi import (
    Embedder,
    Filter,
    HashEmbedder,
    MemoryCapabilities,
    MemoryRecord,
    MemoryStoreBase,
    PreparedRecord,
    Topology,
    load_metadata,
    parse_options,
    ts_datetime,
)

from . import _vector
from ._migrations import Migration, Names, ensure_migrated, locked
from ._options import (
    DEFAULT_EF_SEARCH,
    DEFAULT_HNSW_EF_CONSTRUCTION,
    DEFAULT_HNSW_M,
    DEFAULT_INGEST_CONNECTIONS,
    IterativeScan,
    PgVectorOptions,
    PoolerMode,
)
from ._pool import single
from ._store import PostgresStore

if TYPE_CHECKING:
    from psycopg import AsyncConnection
    from psycopg.sql import Composable, Composed
    from psycopg_pool import AsyncConnectionPool

__all__ = ["PgVectorMemory"]

HNSW_MAX_DIMENSION = 2000
"""pgvector indexes `vector` columns of at most 2,000 dimensions; above, search is exact."""

# metadata_text is the caller's JSON exactly (jsonb would reorder keys and rewrite numbers:
# 1e300 or 1e16 would come back as ints, -0.0 as 0); the jsonb column serves filters only.
_COLUMNS = "r.id, r.content, r.session_id, r.metadata_text, r.ts"

# Records per transaction of a save_many: each row is an HNSW insert (~1-2 ms of server time
# at 384-d), so a chunk stays well within command_timeout while the other lanes write theirs.
_INGEST_CHUNK = 500


def _meta_v1(n: Names) -> list[Composed]:
    from psycopg import sql

    return [
        sql.SQL(
            "CREATE TABLE {} ("
            ' namespace text COLLATE "C" PRIMARY KEY,'
            " embedder text NOT NULL,"
            " dimension integer NOT NULL,"
            " created_at timestamptz NOT NULL DEFAULT now())"
        ).format(n.table("memory_meta"))
    ]


MIGRATIONS: tuple[Migration, ...] = (Migration(1, "memory namespaces", _meta_v1),)
"""The shared memory schema, append-only."""


def vector_migrations(
    dimension: int, vector_schema: str, m: int, ef_construction: int, table: str
) -> tuple[Migration, ...]:
    """The schema of one vector table (`<prefix>memory_<dimension>` or `table=`), append-only.

    Namespaces whose embedders share a dimension share a table (the namespace is a column);
    HNSW needs a fixed dimension, hence one table per dimension.
    """

    def v1(n: Names) -> list[Composed]:
        from psycopg import sql

        t = sql.Identifier(n.schema, table)
        ext = sql.Identifier(vector_schema)
        statements: list[Composed] = [
            sql.SQL(
                "CREATE TABLE {t} ("
                ' namespace text COLLATE "C" NOT NULL,'
                ' id text COLLATE "C" NOT NULL,'
                ' session_id text COLLATE "C",'
                " content text NOT NULL,"
                " metadata jsonb NOT NULL,"
                " metadata_text text NOT NULL,"
                " ts timestamptz NOT NULL,"
                " embedding {ext}.vector({dim}) NOT NULL,"
                " PRIMARY KEY (namespace, id))"
            ).format(t=t, ext=ext, dim=sql.Literal(dimension)),
            # Serves load (a session's newest records) and session-scoped search.
            sql.SQL("CREATE INDEX {} ON {} (namespace, session_id, ts, id)").format(
                sql.Identifier(f"{table}_load"), t
            ),
            # Serves `metadata @> '{...}'` equality filters.
            sql.SQL("CREATE INDEX {} ON {} USING gin (metadata jsonb_path_ops)").format(
                sql.Identifier(f"{table}_meta"), t
            ),
        ]
        if dimension <= HNSW_MAX_DIMENSION:
            statements.append(
                sql.SQL(
                    "CREATE INDEX {} ON {} USING hnsw (embedding {}.vector_cosine_ops)"
                    " WITH (m = {}, ef_construction = {})"
                ).format(
                    sql.Identifier(f"{table}_hnsw"),
                    t,
                    ext,
                    sql.Literal(m),
                    sql.Literal(ef_construction),
                )
            )
        return statements

    return (Migration(1, f"memory table for {dimension}-d vectors", v1),)


class _Queries:
    """Statements composed once the vector extension's schema is known."""

    def __init__(self, n: Names, table: str, vector_schema: str) -> None:
        from psycopg import sql

        t = sql.Identifier(n.schema, table)
        ext = sql.Identifier(vector_schema)

        def q(text: str) -> bytes:
            return sql.SQL(text).format(t=t, ext=ext, meta=n.table("memory_meta")).as_bytes(None)

        insert = (
            "INSERT INTO {t}"
            " (namespace, id, session_id, content, metadata, metadata_text, ts, embedding)"
            " VALUES (%s, %s, %s, %s, %s::jsonb, %s, %s, %b::{ext}.vector)"
        )
        # Ids are minted client-side, so a retried batch cannot insert twice.
        self.insert = q(insert + " ON CONFLICT (namespace, id) DO NOTHING")
        # A restore replaces a record whose id exists (so restoring twice changes nothing).
        self.upsert = q(
            insert + " ON CONFLICT (namespace, id) DO UPDATE SET"
            " session_id = excluded.session_id, content = excluded.content,"
            " metadata = excluded.metadata, metadata_text = excluded.metadata_text,"
            " ts = excluded.ts, embedding = excluded.embedding"
        )
        # A range scan of the primary key (namespace, id), in code-point order (COLLATE "C").
        self.export = q(
            f"SELECT {_COLUMNS}, r.embedding::real[] FROM {{t}} AS r"
            " WHERE r.namespace = %s AND r.id > %s ORDER BY r.id LIMIT %s"
        )
        distance = "r.embedding OPERATOR({ext}.<=>) %(q)b::{ext}.vector"
        search = (
            f"SELECT {_COLUMNS}, {distance} FROM {{t}} AS r WHERE r.namespace = %(ns)s"
            "{where} ORDER BY " + distance + " LIMIT %(k)s"
        )
        self.search: dict[tuple[bool, bool], bytes] = {}
        for by_session in (False, True):
            for by_filter in (False, True):
                where = " AND r.session_id = %(sid)s" if by_session else ""
                where += " AND r.metadata @> %(filter)s::jsonb" if by_filter else ""
                self.search[by_session, by_filter] = q(search.replace("{where}", where))
        self.load = q(
            f"SELECT {_COLUMNS} FROM {{t}} AS r WHERE r.namespace = %s AND r.session_id = %s"
            " ORDER BY r.ts DESC, r.id DESC LIMIT %s"
        )
        self.get = q(f"SELECT {_COLUMNS} FROM {{t}} AS r WHERE r.namespace = %s AND r.id = %s")
        self.forget = q("DELETE FROM {t} WHERE namespace = %s AND id = %s")
        self.discard = q("DELETE FROM {t} WHERE namespace = %s AND id = ANY(%s)")
        self.prune = q(
            "DELETE FROM {t} WHERE namespace = %(ns)s"
            " AND (%(sid)s::text IS NULL OR session_id = %(sid)s::text)"
            " AND (%(before)s::timestamptz IS NULL OR ts < %(before)s::timestamptz)"
        )


def _record(row: Sequence[Any]) -> MemoryRecord:
    rid, content, session_id, metadata, ts = row[:5]
    return MemoryRecord(
        id=rid,
        content=content,
        session_id=session_id,
        metadata=load_metadata(metadata, record_id=rid),
        ts=ts,
    )


class PgVectorMemory(PostgresStore, MemoryStoreBase):
    """Semantic memory in PostgreSQL with pgvector: HNSW cosine search, filters, all options.

    Metadata is kept as the caller's exact JSON text, plus a JSONB copy with a GIN index
    serving equality filters. Needs the `vector`
    extension on the server; it is created on first use when the role may, and a server
    without pgvector is refused with a `ConfigError` that says so. Search runs with the
    store's own HNSW parameters (`ef_search`, `iterative_scan`), set per search
    transaction, so recall does not depend on the server's defaults.
    """

    backend: ClassVar[str] = "postgres"
    distribution: ClassVar[str] = "spine-backend-postgres"
    topology: Topology = "server"
    _layout_per_dimension: ClassVar[bool] = True
    _url_ignores: ClassVar[tuple[str, ...]] = ("default_ttl",)
    _options_model = PgVectorOptions

    def __init__(
        self,
        dsn: str | None = None,
        *,
        pool: AsyncConnectionPool[Any] | None = None,
        embedder: Embedder | None = None,
        dim: int = 256,
        table: str | None = None,
        namespace: str = "default",
        schema: str = "public",
        table_prefix: str = "spine_",
        ef_search: int = DEFAULT_EF_SEARCH,
        iterative_scan: IterativeScan = "relaxed_order",
        max_scan_tuples: int | None = None,
        hnsw_m: int = DEFAULT_HNSW_M,
        hnsw_ef_construction: int = DEFAULT_HNSW_EF_CONSTRUCTION,
        ingest_connections: int = DEFAULT_INGEST_CONNECTIONS,
        pooler: PoolerMode = "session",
        pool_min_size: int = 1,
        pool_max_size: int = 10,
        pool_timeout: float = 10.0,
        connect_timeout: float = 5.0,
        command_timeout: float = 10.0,
        retries: int = 3,
    ) -> None:
        """Configure the store; no I/O happens until first use.

        `dim` sizes the default `HashEmbedder` (a given `embedder` brings its own). Vectors
        live in `table` when given, else in `<table_prefix>memory_<dimension>` (one table
        per dimension, shared by namespaces). `ef_search` (1-1000) is the HNSW candidate
        list per search: higher is better recall, slower. `iterative_scan` (pgvector ≥ 0.8)
        keeps scanning the index until filtered searches find `k` results;
        `max_scan_tuples` bounds that scan. `hnsw_m` and `hnsw_ef_construction` shape the
        index, and apply when the vector table is first created. `ingest_connections`
        (1..`pool_max_size`) is how many chunks of a `save_many` are written at once, each
        on its own connection. The other options are as for `PostgresCheckpoint`.
        """
        options = parse_options(
            PgVectorOptions,
            kwargs={
                "namespace": namespace,
                "schema": schema,
                "table_prefix": table_prefix,
                "table": table,
                "dim": dim,
                "ef_search": ef_search,
                "iterative_scan": iterative_scan,
                "max_scan_tuples": max_scan_tuples,
                "hnsw_m": hnsw_m,
                "hnsw_ef_construction": hnsw_ef_construction,
                "ingest_connections": ingest_connections,
                "pooler": pooler,
                "pool_min_size": pool_min_size,
                "pool_max_size": pool_max_size,
                "pool_timeout": pool_timeout,
                "connect_timeout": connect_timeout,
                "command_timeout": command_timeout,
                "retries": retries,
            },
        )
        super().__init__(
            embedder=embedder if embedder is not None else HashEmbedder(options.dim),
            namespace=options.namespace,
        )
        self.schema, self.table_prefix = options.schema_, options.table_prefix
        self.table = options.table
        self.ef_search = options.ef_search
        self.iterative_scan: IterativeScan = options.iterative_scan
        self.max_scan_tuples = options.max_scan_tuples
        self.hnsw_m = options.hnsw_m
        self.hnsw_ef_construction = options.hnsw_ef_construction
        self.ingest_connections = options.ingest_connections
        self._insert_chunk = _INGEST_CHUNK
        self._insert_lanes = options.ingest_connections
        self._connect(dsn, pool, options)
        self._options = options
        self._names = Names(self.schema, self.table_prefix)
        self._vector_schema = ""
        self._q: _Queries | None = None
        self._settings_sql = b""
        self._session_settings_sql = b""
        self._setting_values: tuple[str, ...] = ()
        self.pgvector_version: str | None = None
        self.capabilities = self._describe(self.dimension)

    def _table_name(self, dimension: int | None) -> str:
        """The vector table's name (without schema); `…memory_<d>` before `d` is known."""
        if self.table is not None:
            return self.table
        return f"{self.table_prefix}memory_{'<d>' if dimension is None else dimension}"

    def _describe(self, dimension: int | None) -> MemoryCapabilities:
        # Until the dimension is known (an embedder that does not declare it), the common
        # case is assumed: an HNSW index (dimensions up to 2000).
        indexed = dimension is None or dimension <= HNSW_MAX_DIMENSION
        return MemoryCapabilities(
            get=True,
            forget=True,
            prune=True,
            save_many=True,
            filter=True,
            persistent=True,
            approximate=indexed,
            export=True,
            concurrent_writers=True,
            durable=True,
            details={
                "index": "hnsw" if indexed else "none (exact scan: dimension > 2000)",
                "distance": "cosine",
                "hnsw.m": self.hnsw_m,
                "hnsw.ef_construction": self.hnsw_ef_construction,
                "ingest": f"save_many in transactions of {_INGEST_CHUNK} rows, "
                f"{self.ingest_connections} at once; a failed one deletes the others' rows",
                "hnsw.ef_search": self.ef_search,
                "hnsw.iterative_scan": self.iterative_scan,
                "hnsw.max_scan_tuples": self.max_scan_tuples,
                "hnsw.tuning": "defaults reach recall@10 0.96 at 100k on spine bench's clustered"
                " corpus; raise ef_search for recall, lower it for speed (no rebuild)",
                "metadata_index": "gin (jsonb_path_ops)",
                "filter": "metadata @> {...} (JSON equality)",
                "table": f"{self.schema}.{self._table_name(dimension)}",
                "vector_transfer": "binary",
                "search_settings": "per connection (own pool)"
                if self._db.owns_pool and self._options.pooler == "session"
                else "SET LOCAL per search",
                "pooler": self._options.pooler,
            },
        )

    def _target(self) -> str:
        table = self._table_name(self._bound or self.dimension)
        return f"{self._db.shown}#{self.schema}.{table}/{self.namespace}"

    # -- lifecycle ------------------------------------------------------------------------------
    async def _open(self) -> None:
        prepare = self._db.prepare

        async def bootstrap(conn: AsyncConnection[Any]) -> None:
            version, vector_schema = await self._ensure_extension(conn)
            await ensure_migrated(conn, self._names, "memory", MIGRATIONS, prepare=prepare)
            self._vector_schema = vector_schema
            self.pgvector_version = version
            self._configure_search(version)

        configure = self._configure_connection if self._per_connection else None
        await self._db.open(bootstrap, configure=configure)

    async def _recorded_dimension(self) -> int | None:
        query = _compose(
            "SELECT dimension FROM {} WHERE namespace = %s", self._names.table("memory_meta")
        )
        prepare = self._db.prepare

        async def run(conn: AsyncConnection[Any]) -> Any:
            async with single(conn):
                cur = await conn.execute(query, (self.namespace,), prepare=prepare)
                return await cur.fetchone()

        # Not `_one`: this runs while the store opens (inside `_ensure_ready`).
        row = await self._db.run(run)
        return None if row is None else int(row[0])

    async def _claim(self, dimension: int) -> None:
        """Claim the namespace for this embedder (first claimer wins), then create the table.

        The vector table for `dimension` is created only after the claim is checked.
        """
        from psycopg import errors

        prepare = self._db.prepare
        meta = self._names.table("memory_meta")
        claim = _compose(
            "INSERT INTO {} (namespace, embedder, dimension) VALUES (%s, %s, %s)"
            " ON CONFLICT (namespace) DO NOTHING",
            meta,
        )
        select = _compose("SELECT embedder, dimension FROM {} WHERE namespace = %s", meta)
        table = self._table_name(dimension)
        component = f"memory_{dimension}" if self.table is None else f"memory:{table}"
        migrations = vector_migrations(
            dimension, self._vector_schema, self.hnsw_m, self.hnsw_ef_construction, table
        )

        async def run(conn: AsyncConnection[Any]) -> None:
            await conn.execute(
                claim, (self.namespace, self.embedder_name, dimension), prepare=prepare
            )
            row = await (await conn.execute(select, (self.namespace,), prepare=prepare)).fetchone()
            assert row is not None
            self._check_embedder(str(row[0]), int(row[1]), dimension)
            try:
                await ensure_migrated(conn, self._names, component, migrations, prepare=prepare)
            except errors.DuplicateTable:
                raise ConfigError(
                    f"table {self.schema}.{table} exists but was not created by PgVectorMemory "
                    "(another layout, e.g. spinekit's); pass another table= or drop it"
                ) from None
            if self.table is not None:
                await self._check_table_dimension(conn, table, dimension)

        await self._db.run(_autocommit(run))
        self._q = _Queries(self._names, table, self._vector_schema)
        self.capabilities = self._describe(dimension)

    async def _check_table_dimension(
        self, conn: AsyncConnection[Any], table: str, dimension: int
    ) -> None:
        """A shared `table=` holds one dimension: refuse a namespace of another."""
        cur = await conn.execute(
            "SELECT atttypmod FROM pg_catalog.pg_attribute"
            " WHERE attrelid = to_regclass(%s) AND attname = 'embedding'",
            (f'"{self.schema}"."{table}"',),
            prepare=self._db.prepare,
        )
        row = await cur.fetchone()
        if row is not None and int(row[0]) != dimension:
            raise ConfigError(
                f"table {self.schema}.{table} holds {row[0]}-d vectors; the embedder "
                f"{self.embedder_name!r} makes {dimension}-d vectors. Use another table= "
                "(or leave it unset for one table per dimension)."
            )

    async def _ensure_extension(self, conn: AsyncConnection[Any]) -> tuple[str, str]:
        """(pgvector version, schema holding it); creates it when allowed, else ConfigError."""
        from psycopg import errors

        prepare = self._db.prepare
        find = (
            "SELECT e.extversion, n.nspname FROM pg_catalog.pg_extension e"
            " JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace"
            " WHERE e.extname = 'vector'"
        )
        row = await (await conn.execute(find, prepare=prepare)).fetchone()
        if row is not None:
            return str(row[0]), str(row[1])
        cur = await conn.execute(
            "SELECT default_version, current_setting('server_version')"
            " FROM pg_catalog.pg_available_extensions WHERE name = 'vector'",
            prepare=prepare,
        )
        available = await cur.fetchone()
        if available is None:
            cur = await conn.execute("SELECT current_setting('server_version')")
            server = await cur.fetchone()
            raise UnsupportedServer(
                f"PgVectorMemory needs the pgvector extension, which {self._db.where} "
                f"(PostgreSQL {server[0] if server else '?'}) does not have: "
                "CREATE EXTENSION vector is not available there. Install pgvector on the "
                "server (e.g. the postgresql-<major>-pgvector package or a pgvector image), "
                "run CREATE EXTENSION vector in this database, or use another memory backend "
                "(sqlite, redis, qdrant). Checkpoints (PostgresCheckpoint) work without it."
            )
        try:
            async with conn.transaction():
                # One creator at a time: concurrent CREATE EXTENSION can fail on a unique index.
                await locked(conn, "spine:extension:vector", prepare=prepare)
                await conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        except errors.InsufficientPrivilege:
            raise UnsupportedServer(
                f"pgvector {available[0]} is installed on {self._db.where} but not enabled in "
                "this database, and this role may not enable it: ask the database owner or a "
                "superuser to run CREATE EXTENSION vector, then retry."
            ) from None
        row = await (await conn.execute(find, prepare=prepare)).fetchone()
        assert row is not None
        return str(row[0]), str(row[1])

    def _configure_search(self, version: str) -> None:
        names = ["hnsw.ef_search"]
        values = [str(self.ef_search)]
        if _version_tuple(version) >= (0, 8):
            names.append("hnsw.iterative_scan")
            values.append(self.iterative_scan)
            if self.max_scan_tuples is not None:
                names.append("hnsw.max_scan_tuples")
                values.append(str(self.max_scan_tuples))
        calls = ", ".join(f"set_config('{name}', %s, true)" for name in names)
        self._settings_sql = f"SELECT {calls}".encode()
        self._setting_values = tuple(values)
        # The same values once per connection of our own pool (session scope), so a search
        # is one statement, one round trip.
        calls = ", ".join(f"set_config('{name}', %s, false)" for name in names)
        self._session_settings_sql = f"SELECT {calls}".encode()

    @property
    def _per_connection(self) -> bool:
        """Search settings live on our own connections (else SET LOCAL per search)."""
        return self._db.owns_pool and self._db.options.pooler == "session"

    async def _configure_connection(self, conn: AsyncConnection[Any]) -> None:
        await conn.execute(self._session_settings_sql, self._setting_values)

    @property
    def _statements(self) -> _Queries:
        """The statements for the namespace's table (composed when the namespace was bound)."""
        assert self._q is not None  # the base binds the namespace before any hook runs
        return self._q

    # -- writes ---------------------------------------------------------------------------------
    async def _insert(self, records: list[PreparedRecord], *, replace: bool = False) -> None:
        """Write one chunk (at most `_INGEST_CHUNK` records) in one pipelined transaction.

        The base runs `ingest_connections` chunks at once and, when one fails, deletes the
        records of the whole `save_many` again (`_discard`).
        """
        q = self._statements
        statement = q.upsert if replace else q.insert
        ns, prepare = self.namespace, self._db.prepare
        rows = [
            (
                ns,
                p.id,
                p.session_id,
                p.content,
                p.metadata_json,
                p.metadata_json,
                ts_datetime(p.ts),
                _vector.Vector(p.vector),
            )
            for p in records
        ]

        async def write(conn: AsyncConnection[Any]) -> None:
            async with conn.transaction(), conn.cursor() as cur:
                _vector.register(cur)
                if len(rows) == 1:
                    await cur.execute(statement, rows[0], prepare=prepare)
                    return
                # executemany takes no prepare=; behind a transaction pooler, switch server-side
                # preparation off on this (possibly borrowed) connection for the call only.
                threshold = conn.prepare_threshold
                if prepare is False:
                    conn.prepare_threshold = None
                try:
                    await cur.executemany(statement, rows)
                finally:
                    conn.prepare_threshold = threshold

        # Ids are minted before the first attempt, so a retry after a lost commit is harmless.
        # The base hands over at most `_INGEST_CHUNK` rows, so one command_timeout bounds a call.
        await self._db.run(write)

    async def _discard(self, ids: list[str]) -> None:
        """Delete the rows of a save_many that failed part-way (one statement)."""
        # Deleting known ids is idempotent: retried if the connection is lost.
        await self._one(self._statements.discard, (self.namespace, ids), fetch=False)

    async def _forget(self, record_id: str) -> bool:
        return bool(await self._count(self._statements.forget, (self.namespace, record_id)))

    async def _prune(self, session_id: str | None, before: float | None) -> int:
        when = None if before is None else ts_datetime(before)
        params = {"ns": self.namespace, "sid": session_id, "before": when}
        return await self._count(self._statements.prune, params)

    # -- reads ----------------------------------------------------------------------------------
    async def _query(
        self, vector: list[float], k: int, session_id: str | None, filter: Filter | None
    ) -> list[tuple[MemoryRecord, float]]:
        statement = self._statements.search[session_id is not None, bool(filter)]
        params = {
            "ns": self.namespace,
            "sid": session_id,
            "filter": json.dumps(filter, ensure_ascii=False) if filter else None,
            "q": _vector.Vector(vector),
            "k": k,
        }
        settings, values = self._settings_sql, self._setting_values
        per_search = not self._per_connection
        if k > self.ef_search:
            # Without an iterative scan HNSW yields at most ef_search rows: never fewer than k.
            values = (str(min(k, 1000)), *values[1:])
            per_search = True
        prepare = self._db.prepare

        async def run(conn: AsyncConnection[Any]) -> list[Any]:
            if not per_search:  # our own connection already carries the settings
                async with conn.cursor() as cur:
                    _vector.register(cur)
                    await cur.execute(statement, params, prepare=prepare)
                    return await cur.fetchall()
            # SET LOCAL semantics (set_config(..., true)): the search parameters live and die
            # with this transaction, so a borrowed or pooler-shared connection keeps its own.
            async with conn.transaction(), conn.cursor() as cur:
                _vector.register(cur)
                await cur.execute(settings, values, prepare=prepare)
                await cur.execute(statement, params, prepare=prepare)
                return await cur.fetchall()

        rows = await self._db.run(run)
        # An iterative scan in relaxed order may return neighbours slightly out of order.
        rows.sort(key=lambda r: (r[5], r[0]))
        return [(_record(r), 1.0 - float(r[5])) for r in rows]

    async def _recent(self, session_id: str, limit: int) -> list[MemoryRecord]:
        rows = await self._fetch(self._statements.load, (self.namespace, session_id, limit))
        return [_record(r) for r in reversed(rows)]

    async def _lookup(self, record_id: str) -> MemoryRecord | None:
        rows = await self._fetch(self._statements.get, (self.namespace, record_id))
        return _record(rows[0]) if rows else None

    async def _export(
        self, after: str | None, n: int
    ) -> Sequence[tuple[MemoryRecord, list[float] | None]]:
        # Record ids are never empty, so "" starts before the first.
        params = (self.namespace, after or "", n)
        rows = await self._fetch(self._statements.export, params)
        return [(_record(r), [float(x) for x in r[5]]) for r in rows]

    async def _footprint(self) -> int | None:
        """Bytes the vector table and its indexes take on disk now, for `spine bench`.

        The table is shared by the namespaces of one dimension: this is the whole table's.
        """
        if not await self._holds_data():  # no claim yet: nothing stored
            return 0
        name = f'"{self.schema}"."{self._table_name(self._bound)}"'
        rows = await self._fetch(b"SELECT pg_total_relation_size(to_regclass(%s))", (name,))
        return None if not rows or rows[0][0] is None else int(rows[0][0])

    async def _drop_namespace(self) -> None:
        """Delete the namespace: every record and its `memory_meta` row (for `spine check`).

        A per-dimension vector table that is left empty, with no namespace recording its
        dimension, is dropped too (the next claim of that dimension creates it again).
        Private: the conformance kit calls it on the namespaces it made, to leave nothing.
        """
        from psycopg import sql

        from ._migrations import _lock_key

        dimension = self._bound if await self._holds_data() else None  # its table exists
        meta = self._names.table("memory_meta")
        table = None if dimension is None else self._table_name(dimension)
        vectors = None if table is None else sql.Identifier(self.schema, table)
        prepare = self._db.prepare

        async def run(conn: AsyncConnection[Any]) -> None:
            async def found(text: str, on: Composable, *params: object) -> bool:
                # One-off statements: never prepared (safe behind a transaction pooler too).
                cur = await conn.execute(sql.SQL(text).format(on), params or None, prepare=False)
                return cur.description is not None and await cur.fetchone() is not None

            async with conn.transaction():
                # Serialized with migrations, and no namespace can claim a dimension meanwhile.
                await locked(conn, _lock_key(self._names), prepare=prepare)
                await found("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE", meta)
                await found("DELETE FROM {} WHERE namespace = %s", meta, self.namespace)
                if vectors is None:
                    return
                await found("DELETE FROM {} WHERE namespace = %s", vectors, self.namespace)
                if self.table is not None:  # a table the user named is theirs
                    return
                if await found("SELECT 1 FROM {} WHERE dimension = %s", meta, dimension):
                    return
                await found("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE", vectors)
                if await found("SELECT 1 FROM {} LIMIT 1", vectors):
                    return
                await found("DROP TABLE {}", vectors)
                versions = self._names.table("schema_migrations")
                await found("DELETE FROM {} WHERE component = %s", versions, f"memory_{dimension}")

        await self._db.run(_autocommit(run), retry=False)
        await self.aclose()


def _compose(text: str, table: Composable) -> bytes:
    from psycopg import sql

    return sql.SQL(text).format(table).as_bytes(None)


def _autocommit(
    op: Callable[[AsyncConnection[Any]], Awaitable[None]],
) -> Callable[[AsyncConnection[Any]], Awaitable[None]]:
    """Run `op` in autocommit mode (migrations manage their own transaction)."""

    async def run(conn: AsyncConnection[Any]) -> None:
        manual = not conn.autocommit
        if manual:
            await conn.set_autocommit(True)
        try:
            await op(conn)
        finally:
            if manual:
                await conn.set_autocommit(False)

    return run


def _version_tuple(version: str) -> tuple[int, ...]:
    parts = []
    for piece in version.split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)
