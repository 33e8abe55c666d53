"""`QdrantMemory`: Spine semantic memory on Qdrant (a server, or qdrant-client's local mode)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from os import PathLike, fspath
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pydantic import SecretStr

from spine_core.errors import ConfigError, InvalidInput
from spine_core.spi import (
    Embedder,
    Filter,
    MemoryCapabilities,
    MemoryRecord,
    MemoryStoreBase,
    PreparedRecord,
    RecordExport,
    Topology,
    check_drivers,
    matches_filter,
    parse_options,
    query_options,
    to_epoch_us,
    validate_items,
)

from ._edge import Engine, EngineOption, resolve_engine
from ._errors import call_server
from ._local import LocalClient, acquire_local, release_local
from ._options import (
    DEFAULT_EF_CONSTRUCT,
    DEFAULT_HNSW_EF,
    DEFAULT_HNSW_M,
    IndexType,
    QdrantOptions,
)
from ._payload import (
    TS_KEY,
    build_filter,
    decode_record,
    encode_payload,
    shadow_path,
)
from ._target import Mode, Target, parse_url, server_target

if TYPE_CHECKING:
    from qdrant_client import AsyncQdrantClient, models

__all__ = [
    "DEFAULT_EF_CONSTRUCT",
    "DEFAULT_HNSW_EF",
    "DEFAULT_HNSW_M",
    "QdrantMemory",
]

T = TypeVar("T")

MIN_SERVER_VERSION = (1, 10)
"""`query_points` (the universal query API) and `scroll` with `order_by` need Qdrant 1.10."""

_MAX_FETCH = 10_000


def _canonical_uuid(record_id: str) -> bool:
    # Qdrant ids are UUIDs (or ints); it would also accept other spellings of a UUID and
    # answer with the canonical one, so only the canonical form can name a stored record.
    try:
        return str(uuid.UUID(record_id)) == record_id
    except ValueError:
        return False


class QdrantMemory(MemoryStoreBase):
    """Semantic memory in one Qdrant collection per namespace (`spine_<namespace>`).

    Three modes: a Qdrant server (`url=`, approximate HNSW search, shared by processes),
    embedded on disk (`path=`, one process) or in memory (`location=":memory:"`, the default).
    Embedded stores run on one of two engines (`engine=`): qdrant-edge, Qdrant's own segment
    and HNSW code in-process (the default on disk), or qdrant-client's local mode (exact
    NumPy search; the default in memory). Vectors use cosine distance, so scores are cosine
    similarities. A client can be injected instead (`client=`); the store then never closes it.
    """

    backend: ClassVar[str] = "qdrant"
    distribution: ClassVar[str] = "spine-backend-qdrant"
    topology: Topology = "server"
    _layout_per_dimension: ClassVar[bool] = True

    def __init__(
        self,
        *,
        location: str | None = None,
        path: str | PathLike[str] | None = None,
        url: str | None = None,
        api_key: str | SecretStr | None = None,
        client: AsyncQdrantClient | None = None,
        embedder: Embedder | None = None,
        namespace: str = "default",
        hnsw_ef: int = DEFAULT_HNSW_EF,
        hnsw_m: int = DEFAULT_HNSW_M,
        ef_construct: int = DEFAULT_EF_CONSTRUCT,
        indexed_metadata: Mapping[str, IndexType] | None = None,
        timeout: float | None = None,
        prefer_grpc: bool = False,
        grpc_port: int = 6334,
        batch_size: int = 256,
        engine: EngineOption = "auto",
    ) -> None:
        options = parse_options(
            QdrantOptions,
            kwargs={
                "namespace": namespace,
                "api_key": api_key,
                "hnsw_ef": hnsw_ef,
                "hnsw_m": hnsw_m,
                "ef_construct": ef_construct,
                # Any mapping is taken; the model checks a plain dict of it.
                "indexed_metadata": {} if indexed_metadata is None else dict(indexed_metadata),
                "timeout": timeout,
                "prefer_grpc": prefer_grpc,
                "grpc_port": grpc_port,
                "batch_size": batch_size,
                "engine": engine,
            },
        )
        if client is None:
            check_drivers("qdrant")  # one ConfigError with the install hint, not ImportError
        key = None if options.api_key is None else options.api_key.get_secret_value()
        super().__init__(embedder=embedder, namespace=options.namespace)
        self.options = options
        given = [
            name
            for name, v in (
                ("location", location),
                ("path", path),
                ("url", url),
                ("client", client),
            )
            if v is not None
        ]
        if len(given) > 1:
            raise ConfigError(
                f"QdrantMemory takes one of location, path, url or client, got {given}"
            )
        if location is not None and location != ":memory:":
            raise ConfigError(
                'QdrantMemory location must be ":memory:"; use path= for a directory or url= '
                "for a server"
            )
        self._injected = client
        if client is not None:
            self._where = _describe_client(client)
        elif url is not None:
            self._where = server_target(url, key)
        elif path is not None:
            if not fspath(path):
                raise ConfigError(
                    'QdrantMemory path must name a directory (or use location=":memory:")'
                )
            self._where = Target(mode="disk", location=fspath(path))
        else:
            self._where = Target(mode="memory", location=":memory:")
        if api_key is not None and (client is not None or self._where.mode != "server"):
            raise ConfigError("api_key only applies to a Qdrant server given by url=...")
        self._engine: Engine | None = None
        if client is None and self._where.location is not None:
            self._engine = resolve_engine(options.engine, self._where.location)
        elif options.engine not in ("auto", "client"):
            raise ConfigError(
                f"engine={options.engine!r} applies to embedded stores (path= or location=) only"
            )
        self.hnsw_ef = options.hnsw_ef
        self.hnsw_m = options.hnsw_m
        self.ef_construct = options.ef_construct
        self.batch_size = options.batch_size
        self._insert_chunk = self.batch_size  # one chunk at a time (`_insert_lanes` 1)
        self.indexed_metadata = options.indexed_metadata
        self._timeout = options.timeout
        self._prefer_grpc = options.prefer_grpc
        self._grpc_port = options.grpc_port
        self.collection = f"spine_{self.namespace}"
        self.capabilities = _capabilities_for(self)
        self.topology = "server" if self._where.mode == "server" else "embedded"
        self._client: AsyncQdrantClient | None = None
        self._local: LocalClient | None = None

    # -- construction ------------------------------------------------------------------------
    @classmethod
    def from_url(cls, url: str, **options: Any) -> QdrantMemory:
        """A store for `qdrant://host:6333`, `qdrants://…`, `qdrant+local:///dir` or `qdrant+local://`.

        Query parameters (`?namespace=…&hnsw_ef=…&api_key=…`) are options; keyword options win.
        """
        where, query = parse_url(url)
        return cls(**{**where, **query_options(QdrantOptions, query), **options})

    @property
    def mode(self) -> Mode:
        """'server', 'disk' (embedded on disk) or 'memory' (embedded in memory)."""
        return self._where.mode

    @property
    def _hnsw(self) -> bool:
        """Whether the engine builds HNSW indexes (and payload indexes): servers and edge."""
        return self.mode == "server" or self._engine == "edge"

    @property
    def engine(self) -> Engine | None:
        """The embedded engine: 'edge' (qdrant-edge) or 'client' (qdrant-client local mode).

        None for a server or an injected client.
        """
        return self._engine

    def _target(self) -> str:
        return f"{self._where.display} [{self.collection}]"

    # -- lifecycle ---------------------------------------------------------------------------
    async def _call(self, op: Callable[[AsyncQdrantClient], Awaitable[T]]) -> T:
        """Run one client operation where it belongs: a worker thread for local mode."""
        if self._local is not None:
            return await self._local.run(op)
        client = self._client
        assert client is not None
        if self.mode == "server":
            return await call_server(lambda: op(client), self._where.display)
        return await op(client)  # an injected local-mode client: the caller owns its thread

    async def _open(self) -> None:
        if self._injected is not None:
            self._client = self._injected
        elif self.mode == "server":
            from qdrant_client import AsyncQdrantClient

            assert self._where.url is not None
            self._client = AsyncQdrantClient(
                url=self._where.url,
                https=self._where.https,
                api_key=self._where.api_key,
                timeout=None if self._timeout is None else max(1, round(self._timeout)),
                prefer_grpc=self._prefer_grpc,
                grpc_port=self._grpc_port,
                # The stock check does a blocking HTTP call on a thread and warns; we ask the
                # server ourselves below and fail with a clear message instead.
                check_compatibility=False,
            )
        else:
            assert self._where.location is not None
            self._local = await acquire_local(self._where.location, self._engine or "client")
        try:
            if self.mode == "server":
                await self._check_server_version()
        except BaseException:
            await self._close()
            raise

    async def _claim(self, dimension: int) -> None:
        await self._prepare_collection(dimension)

    async def _recorded_dimension(self) -> int | None:
        name = self.collection
        if not await self._call(lambda c: c.collection_exists(name)):
            return None
        info = await self._call(lambda c: c.get_collection(name))
        return self._vector_params(info).size

    async def _close(self) -> None:
        local, client = self._local, self._client
        self._local = None
        self._client = None
        if local is not None:
            await release_local(local)
        elif client is not None and self._injected is None:
            await client.close()

    async def _ping(self) -> None:
        name = self.collection
        await self._call(lambda c: c.collection_exists(name))

    async def _check_server_version(self) -> None:
        info = await self._call(lambda c: c.info())
        try:
            version = tuple(int(p) for p in info.version.split(".")[:2])
        except ValueError:
            return  # a development build: assume it is recent
        if version < MIN_SERVER_VERSION:
            need = ".".join(map(str, MIN_SERVER_VERSION))
            raise ConfigError(
                f"Qdrant server {self._where.display} runs {info.version}; QdrantMemory needs "
                f"Qdrant >= {need} (query API and scroll order_by)"
            )

    async def _prepare_collection(self, dim: int) -> None:
        from qdrant_client import models

        name = self.collection
        spine_meta = {"spine": {"embedder": self.embedder_name, "dimension": dim, "layout": 1}}
        if not await self._call(lambda c: c.collection_exists(name)):
            hnsw = (
                models.HnswConfigDiff(m=self.hnsw_m, ef_construct=self.ef_construct)
                if self._hnsw
                else None
            )
            try:
                await self._call(
                    lambda c: c.create_collection(
                        name,
                        vectors_config=models.VectorParams(
                            size=dim, distance=models.Distance.COSINE
                        ),
                        hnsw_config=hnsw,
                        metadata=spine_meta,
                    )
                )
            except Exception:
                # Another store created it meanwhile (HTTP 409, or ValueError in local
                # mode); the checks below judge what is there.
                if not await self._call(lambda c: c.collection_exists(name)):
                    raise
        info = await self._call(lambda c: c.get_collection(name))
        if not self._check_collection(info, dim):
            # Created by a server before 1.16 (which drops collection metadata) or by a
            # store that crashed mid-creation: record the embedder now, best effort.
            try:
                await self._call(lambda c: c.update_collection(name, metadata=spine_meta))
            except ConfigError:
                raise
            except Exception:  # noqa: S110 - the dimension check above still guards writes
                pass
        if self._hnsw:
            await self._ensure_indexes(info.payload_schema or {})

    def _vector_params(self, info: models.CollectionInfo) -> models.VectorParams:
        """The collection's single unnamed vector; `ConfigError` when it is not Spine's."""
        from qdrant_client import models

        vectors = info.config.params.vectors
        if not isinstance(vectors, models.VectorParams):
            raise ConfigError(
                f"Qdrant collection {self.collection!r} has named vectors; it was not created "
                "by Spine. Use another namespace."
            )
        return vectors

    def _check_collection(self, info: models.CollectionInfo, dim: int) -> bool:
        """Refuse a foreign or mismatched collection; False when no embedder is recorded."""
        from qdrant_client import models

        vectors = self._vector_params(info)
        if vectors.distance != models.Distance.COSINE:
            raise ConfigError(
                f"Qdrant collection {self.collection!r} uses {vectors.distance.value} distance; "
                "Spine needs cosine. Use another namespace."
            )
        meta = (info.config.metadata or {}).get("spine")
        recorded = isinstance(meta, dict) and isinstance(meta.get("embedder"), str)
        # Without recorded metadata only the dimension can be checked: the vector size,
        # which Qdrant itself enforces on every write.
        stored_name = str(meta["embedder"]) if isinstance(meta, dict) and recorded else None
        stored_name = stored_name or self.embedder_name
        self._check_embedder(stored_name, vectors.size, dim)
        return recorded

    async def _ensure_indexes(self, existing: Mapping[str, Any]) -> None:
        # Payload indexes make session filters, ordering by time and metadata filters cheap
        # on a server or qdrant-edge, and `order_by` requires a range index. qdrant-client's
        # local mode keeps no payload indexes (it warns and ignores them): not run there.
        from qdrant_client import models

        wanted: dict[str, models.PayloadSchemaParams | models.PayloadSchemaType] = {
            "session_id": models.PayloadSchemaType.KEYWORD,
            TS_KEY: models.IntegerIndexParams(
                type=models.IntegerIndexType.INTEGER, lookup=False, range=True
            ),
        }
        for key, kind in self.indexed_metadata.items():
            wanted[shadow_path(key)] = models.PayloadSchemaType(kind)
        name = self.collection
        for field, schema in wanted.items():
            if field in existing:
                continue
            await self._call(_index_op(name, field, schema))

    # -- writes ------------------------------------------------------------------------------
    async def restore_records(
        self, records: Sequence[RecordExport | MemoryRecord], *, reembed: bool = False
    ) -> list[MemoryRecord]:
        """Write records back keeping their ids (UUIDs only: Qdrant's point ids)."""
        # Refused before the base writes any chunk (it validates everything else).
        foreign = [
            r.id
            for r in validate_items(records)
            if isinstance(r, MemoryRecord) and not _canonical_uuid(r.id)
        ]
        if foreign:
            raise InvalidInput(
                f"QdrantMemory keeps records under UUID point ids; {len(foreign)} record(s) "
                f"to restore have other ids (e.g. {foreign[0]!r:.60})"
            )
        return await super().restore_records(records, reembed=reembed)

    async def _insert(self, records: list[PreparedRecord], *, replace: bool = False) -> None:
        """Upsert one chunk of at most `batch_size` points (`_insert_chunk`).

        Qdrant has no multi-request transaction: when a chunk of a `save_many` fails, the base
        deletes the points of the call again (`_discard`) before the error propagates, so it
        leaves nothing behind (unless that delete fails too: the server is gone, and the error
        says which records may remain). An upsert replaces a point of the same id, which is
        what a restore (`replace`) asks; a failed restore keeps what it wrote (every record
        has a version, the old or the restored one), and restoring again completes it.
        """
        from qdrant_client import models

        name = self.collection
        points = [
            models.PointStruct(
                id=p.id,
                vector=p.vector,
                payload=encode_payload(
                    content=p.content,
                    session_id=p.session_id,
                    ts=p.ts,
                    metadata=p.metadata,
                    metadata_json=p.metadata_json,
                ),
            )
            for p in records
        ]
        await self._call(lambda c: c.upsert(name, points=points, wait=True))

    async def _discard(self, ids: list[str]) -> None:
        """Delete the points of a save_many that failed part-way."""
        from qdrant_client import models

        name = self.collection
        selector = models.PointIdsList(points=list(ids))
        await self._call(lambda c: c.delete(name, points_selector=selector, wait=True))

    async def _forget(self, record_id: str) -> bool:
        from qdrant_client import models

        if not _canonical_uuid(record_id):
            return False
        name = self.collection
        found = await self._call(lambda c: c.retrieve(name, ids=[record_id], with_payload=False))
        if not found:
            return False
        await self._call(
            lambda c: c.delete(
                name, points_selector=models.PointIdsList(points=[record_id]), wait=True
            )
        )
        return True

    async def _prune(self, session_id: str | None, before: float | None) -> int:
        """Delete a session's records and/or older ones; returns the count.

        A filtered delete reports no count, so the matching points are counted first: a
        record saved into the same session between the two calls is deleted but not counted.
        """
        from qdrant_client import models

        before_us = None if before is None else to_epoch_us(before)
        flt, _ = build_filter(session_id=session_id, before_us=before_us)
        assert flt is not None
        name = self.collection
        counted = await self._call(lambda c: c.count(name, count_filter=flt, exact=True))
        if counted.count:
            await self._call(
                lambda c: c.delete(
                    name, points_selector=models.FilterSelector(filter=flt), wait=True
                )
            )
        return counted.count

    # -- reads -------------------------------------------------------------------------------
    async def _lookup(self, record_id: str) -> MemoryRecord | None:
        if not _canonical_uuid(record_id):
            return None
        name = self.collection
        found = await self._call(lambda c: c.retrieve(name, ids=[record_id], with_payload=True))
        return decode_record(found[0].id, found[0].payload) if found else None

    async def _query(
        self, vector: list[float], k: int, session_id: str | None, filter: Filter | None
    ) -> list[tuple[MemoryRecord, float]]:
        from qdrant_client import models

        flt, recheck = build_filter(session_id=session_id, metadata=filter)
        params = models.SearchParams(hnsw_ef=max(self.hnsw_ef, k)) if self._hnsw else None
        name = self.collection
        limit = k
        while True:
            response = await self._call(_query_op(name, vector, flt, params, limit))
            hits = [(decode_record(p.id, p.payload), p.score) for p in response.points]
            if not recheck:
                return hits
            kept = [h for h in hits if matches_filter(h[0].metadata, filter)]
            if len(kept) >= k or len(response.points) < limit or limit >= _MAX_FETCH:
                return kept[:k]
            # A widened filter (numbers beyond 2**53) let near-misses in: fetch more.
            limit = min(limit * 4, _MAX_FETCH)

    async def _export(
        self, after: str | None, n: int
    ) -> Sequence[tuple[MemoryRecord, list[float] | None]]:
        # Scrolling without order_by walks points in id order; the id is the record's UUID,
        # whose canonical text sorts as the UUID does, so this is record-id order. `offset`
        # is inclusive: start at the first UUID whose text sorts after `after`.
        start = None if after is None else _uuid_after(after)
        if after is not None and start is None:
            return []
        name = self.collection
        points, _ = await self._call(
            lambda c: c.scroll(name, offset=start, limit=n, with_payload=True, with_vectors=True)
        )
        out: list[tuple[MemoryRecord, list[float] | None]] = []
        for point in points:
            vector = point.vector
            values = [float(x) for x in vector if isinstance(x, int | float)] if vector else []
            if not isinstance(vector, list) or not values or len(values) != len(vector):
                raise ConfigError(
                    f"Qdrant collection {name!r} has named or multi-vectors; it was not created "
                    "by Spine"
                )
            out.append((decode_record(point.id, point.payload), values))
        return out

    async def _recent(self, session_id: str, limit: int) -> list[MemoryRecord]:
        from qdrant_client import models

        flt, _ = build_filter(session_id=session_id)
        name = self.collection
        newest_first = models.OrderBy(key=TS_KEY, direction=models.Direction.DESC)
        points, _ = await self._call(
            lambda c: c.scroll(
                name, scroll_filter=flt, order_by=newest_first, limit=limit + 1, with_payload=True
            )
        )
        records = [decode_record(p.id, p.payload) for p in points]
        if len(records) > limit and records[limit].ts == records[limit - 1].ts:
            # Records saved in the same microsecond (by different processes) straddle the
            # page edge: fetch every record at that instant so ids break the tie exactly.
            edge = records[limit - 1].ts
            tie_filter, _ = build_filter(session_id=session_id, ts_us=to_epoch_us(edge))
            tied, _ = await self._call(
                lambda c: c.scroll(name, scroll_filter=tie_filter, limit=_MAX_FETCH)
            )
            records = [r for r in records if r.ts > edge] + [
                decode_record(p.id, p.payload) for p in tied
            ]
        records.sort(key=lambda r: (r.ts, r.id))
        return records[-limit:]

    async def _footprint(self) -> int | None:
        """Bytes the on-disk directory holds now, for `spine bench`; None in memory, on a server."""
        location = self._where.location
        if self._where.mode != "disk" or location is None:
            return None
        return await asyncio.to_thread(_directory_size, Path(location))

    async def _drop_namespace(self) -> None:
        """Delete the namespace's collection, records and recorded embedder (for `spine check`).

        Private: the conformance kit calls it on the namespaces it made, to leave nothing.
        """
        await self._ensure_ready()
        name = self.collection
        if await self._call(lambda c: c.collection_exists(name)):
            await self._call(lambda c: c.delete_collection(name))
        await self.aclose()


def _index_op(
    collection: str,
    field: str,
    schema: models.PayloadSchemaParams | models.PayloadSchemaType,
) -> Callable[[AsyncQdrantClient], Awaitable[models.UpdateResult]]:
    return lambda c: c.create_payload_index(
        collection, field_name=field, field_schema=schema, wait=True
    )


def _query_op(
    collection: str,
    vector: list[float],
    flt: models.Filter | None,
    params: models.SearchParams | None,
    limit: int,
) -> Callable[[AsyncQdrantClient], Awaitable[models.QueryResponse]]:
    return lambda c: c.query_points(
        collection,
        query=vector,
        query_filter=flt,
        search_params=params,
        limit=limit,
        with_payload=True,
        with_vectors=False,
    )


_HEX = "0123456789abcdef"
_DASHES = frozenset({8, 13, 18, 23})


def _uuid_after(after: str) -> str | None:
    """The smallest canonical UUID text that sorts after `after`, or None if none does.

    Keeps the longest prefix of `after` that a UUID can start with, raises the next
    character, and completes with the smallest characters ('0', or '-' where it belongs).
    """

    def allowed(i: int) -> str:
        return "-" if i in _DASHES else _HEX

    def smallest_from(i: int) -> str:
        return "".join("-" if j in _DASHES else "0" for j in range(i, 36))

    valid = 0  # length of the longest prefix of `after` a UUID can start with
    while valid < min(len(after), 36) and after[valid] in allowed(valid):
        valid += 1
    for p in range(valid, -1, -1):
        if p == len(after):
            if p < 36:
                return after + smallest_from(p)  # a longer string sorts after its prefix
            continue
        if p == 36:
            continue
        higher = [c for c in allowed(p) if c > after[p]]
        if higher:
            return after[:p] + higher[0] + smallest_from(p + 1)
    return None


def _describe_client(client: AsyncQdrantClient) -> Target:
    """The mode of an injected client (local clients are detected by their implementation)."""
    from qdrant_client.local.async_qdrant_local import AsyncQdrantLocal

    inner = getattr(client, "_client", None)
    if isinstance(inner, AsyncQdrantLocal):
        if inner.persistent:
            return Target(mode="disk", location=str(inner.location))
        return Target(mode="memory", location=":memory:")
    rest_uri = getattr(inner, "rest_uri", None)
    return Target(mode="server", url=str(rest_uri) if rest_uri else "http://injected:6333")


def _capabilities_for(store: QdrantMemory) -> MemoryCapabilities:
    """What each mode honours, honestly: only servers are shared, qdrant-client is exact."""
    server = store.mode == "server"
    edge = store.engine == "edge"
    search = "exact (numpy brute force)"
    if server:
        search = "hnsw"
    elif edge:
        search = "hnsw (qdrant-edge; points not yet indexed are scanned exactly)"
    details: dict[str, Any] = {
        "mode": store.mode,
        "collection": store.collection,
        "distance": "cosine",
        "search": search,
        "load_order": "scroll order_by ts_us",
        "save_many": "upserts of batch_size points; if one fails, the points already written "
        "are deleted again (all or none)",
        "export": "scroll in point-id order: the point id is the record's UUID, and UUIDs "
        "order as their canonical text does, so pages come in record-id order; restore "
        "needs UUID record ids",
    }
    if store.engine is not None:
        details["engine"] = "qdrant-edge" if edge else "qdrant-client local mode"
    if server or edge:
        details |= {
            "hnsw_ef": store.hnsw_ef,
            "hnsw_m": store.hnsw_m,
            "ef_construct": store.ef_construct,
            "indexed_metadata": dict(store.indexed_metadata),
        }
    else:
        details["payload_indexes"] = "none (local mode keeps no payload indexes)"
    return MemoryCapabilities(
        get=True,
        forget=True,
        prune=True,
        save_many=True,
        filter=True,
        export=True,
        persistent=store.mode != "memory",
        approximate=server or edge,
        concurrent_writers=server,
        durable=store.mode != "memory",
        encryption=server and store._where.https,
        details=details,
    )


def _directory_size(root: Path) -> int:
    return sum(f.stat().st_size for f in root.rglob("*") if f.is_file())
