"""Embedded Qdrant on qdrant-edge: Qdrant's own segment, payload-index and HNSW code in-process.

`EdgeClient` answers the few `AsyncQdrantClient` calls `QdrantMemory` makes (same names,
arguments and result models), so the store's hooks run unchanged on either embedded engine.
It keeps one edge shard per collection:

    <dir>/edge/<collection>/spine.json   vector size, distance and the collection metadata
    <dir>/edge/<collection>/shard/       the shard (WAL, segments, payload indexes)

Booleans. qdrant-edge 0.9's `MatchValue(True)` reaches the engine as the integer 1 (it
matches a payload 1, never a payload `true`), so boolean filter shadows (`f.<key>`,
`fx.<hash>` in `_payload`) are stored as the keywords "true"/"false" under `fb.<key>` /
`fxb.<hash>` instead, and boolean conditions are rewritten to match those. Range conditions
then never meet a boolean, as JSON equality wants.

Like qdrant-client's local client it is not thread-safe and runs on the store's worker thread
(`_local.LocalClient`). Each shard locks its WAL, so one process holds a collection at a time.

Indexing. qdrant-edge has no background optimizer: new points land in a plain (exactly
scanned) segment until `EdgeShard.optimize()` builds the HNSW index. qdrant-edge 0.9 holds the
GIL for the whole optimize call (seconds to minutes), which would freeze every thread of the
process, event loop included. So when a write leaves `index_after` or more points unindexed,
the shard is closed, a child process loads it and optimizes it, and the shard is reopened: the
calling process stays responsive and only this store's next operations wait.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from spine_core.errors import ConfigError

if TYPE_CHECKING:
    import qdrant_edge as edge
    from qdrant_client import models

__all__ = [
    "DEFAULT_INDEX_AFTER",
    "EDGE_DIR",
    "EdgeClient",
    "Engine",
    "edge_available",
    "resolve_engine",
]

Engine = Literal["edge", "client"]
EngineOption = Literal["auto", "edge", "client"]
ENGINES: frozenset[str] = frozenset({"auto", "edge", "client"})
EDGE_DIR = "edge"
"""Subdirectory of a local path that holds the edge shards."""
_CLIENT_MARKERS = (".lock", "meta.json", "collection")
"""What qdrant-client's local mode writes into its directory."""
_META = "spine.json"
_SHARD = "shard"
DEFAULT_INDEX_AFTER = 20_000
"""Unindexed points that trigger an HNSW build: below it, an exact scan is a few ms."""
DEFAULT_SEGMENTS = 4
"""Segments an optimization aims at. Qdrant's default is one per CPU: on 2 cores every
optimization merged the new points into one of 2 segments and rebuilt that segment's whole
graph. With 4, 100k clustered 384-d vectors loaded in 1,000-record batches went in at 1,602
rec/s instead of 651 (searches 3.2 ms instead of 1.9 ms p50, recall@10 0.984 vs 0.978);
8 segments gave 1,429 rec/s and 5.2 ms (2 cores; `spine bench qdrant+local:///<dir>` shows
the store's current figures)."""
_OPTIMIZE_TIMEOUT = 3600.0
_log = logging.getLogger(__name__)

_OPTIMIZER = """
import sys
from qdrant_edge import EdgeShard
shard = EdgeShard.load(sys.argv[1])
try:
    shard.optimize()
finally:
    shard.close()
"""


def edge_available() -> bool:
    """Whether qdrant-edge is importable (it ships wheels for the common platforms only)."""
    import importlib.util

    return importlib.util.find_spec("qdrant_edge") is not None


def resolve_engine(engine: str, location: str) -> Engine:
    """The embedded engine for a local `location` (a directory or ':memory:').

    `auto` keeps a directory that qdrant-client's local mode already wrote on qdrant-client,
    uses qdrant-edge for every other directory, and qdrant-client in memory. Asking for the
    engine that did not write an existing directory is a `ConfigError`, never a silent second
    copy of the data beside the first.
    """
    if engine not in ENGINES:
        raise ConfigError(f"engine must be 'auto', 'edge' or 'client', got {engine!r}")
    if location == ":memory:":
        if engine == "edge" and not edge_available():
            raise ConfigError("engine='edge' needs qdrant-edge-py (pip install qdrant-edge-py)")
        return "edge" if engine == "edge" else "client"
    root = Path(location)
    client_data = any((root / name).exists() for name in _CLIENT_MARKERS)
    edge_data = (root / EDGE_DIR).exists()
    if engine == "auto":
        if client_data or not edge_available():
            return "client"
        return "edge"
    if engine == "edge":
        if client_data:
            raise ConfigError(
                f"{location!r} holds qdrant-client local-mode data; open it with "
                "engine='client' (or 'auto'), or use another directory for engine='edge'"
            )
        if not edge_available():
            raise ConfigError("engine='edge' needs qdrant-edge-py (pip install qdrant-edge-py)")
        return "edge"
    if edge_data:
        raise ConfigError(
            f"{location!r} holds qdrant-edge data; open it with engine='edge' (or 'auto'), "
            "or use another directory for engine='client'"
        )
    return "client"


def _locked(location: str, exc: BaseException) -> ConfigError | None:
    text = str(exc)
    if "WouldBlock" in text or "already accessed" in text or "Resource temporarily" in text:
        return ConfigError(
            f"Qdrant local storage {location!r} is locked by another process; the embedded "
            "engine allows one process per collection (use a Qdrant server to share data "
            "between processes)"
        )
    return None


class _Collection:
    """One open edge shard and what Spine recorded about it."""

    def __init__(self, path: Path, meta: dict[str, Any], shard: edge.EdgeShard) -> None:
        self.path = path
        self.meta = meta
        self.shard = shard


class EdgeClient:
    """The `AsyncQdrantClient` calls `QdrantMemory` makes, on qdrant-edge shards in one directory.

    `location` is a directory, or ':memory:' for a private temporary directory that is
    deleted on close (qdrant-edge always writes to disk).
    """

    def __init__(self, location: str, *, index_after: int | None = None) -> None:
        import qdrant_edge  # noqa: F401 - fail here, on open, when the wheel is missing

        self._temporary = location == ":memory:"
        base = Path(tempfile.mkdtemp(prefix="spine-qdrant-edge-")) if self._temporary else None
        self.location = location
        self.root = (base or Path(location)) / EDGE_DIR
        self.index_after = DEFAULT_INDEX_AFTER if index_after is None else index_after
        self._open: dict[str, _Collection] = {}
        self._retry_at: dict[str, int] = {}

    # -- collections ---------------------------------------------------------------------------
    def _dir(self, name: str) -> Path:
        # Collection names are `spine_<namespace>`; the namespace is already validated, but a
        # path separator must never leave the root.
        if not name or "/" in name or "\\" in name or name in (".", ".."):
            raise ConfigError(f"invalid Qdrant collection name {name!r}")
        return self.root / name

    def _load_shard(self, path: Path, config: edge.EdgeConfig | None = None) -> edge.EdgeShard:
        from qdrant_edge import EdgeShard

        try:
            if config is not None:
                return EdgeShard.create(str(path), config)
            return EdgeShard.load(str(path))
        except Exception as exc:
            locked = _locked(self.location, exc)
            if locked is not None:
                raise locked from None
            raise

    def _get(self, name: str) -> _Collection:
        found = self._open.get(name)
        if found is not None:
            return found
        path = self._dir(name)
        try:
            meta = json.loads((path / _META).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ValueError(f"Collection {name} not found") from None
        entry = _Collection(path, meta, self._load_shard(path / _SHARD))
        self._open[name] = entry
        return entry

    async def collection_exists(self, collection_name: str) -> bool:
        """Whether the collection was created (its metadata file is written last)."""
        return (self._dir(collection_name) / _META).is_file()

    async def create_collection(
        self,
        collection_name: str,
        vectors_config: models.VectorParams,
        hnsw_config: models.HnswConfigDiff | None = None,
        metadata: dict[str, Any] | None = None,
        **_: Any,
    ) -> bool:
        """A shard with one unnamed vector, the payload indexes Spine filters and orders on."""
        from qdrant_edge import (
            Distance,
            EdgeConfig,
            EdgeOptimizersConfig,
            EdgeVectorParams,
            HnswIndexConfig,
            IntegerIndexParams,
            PayloadSchemaType,
            UpdateOperation,
        )

        if await self.collection_exists(collection_name):
            raise ValueError(f"Collection {collection_name} already exists")
        distance = vectors_config.distance.value
        if distance != "Cosine":
            raise ConfigError(f"the edge engine stores cosine collections only, got {distance}")
        path = self._dir(collection_name)
        shard_path = path / _SHARD
        hnsw = None
        if hnsw_config is not None:
            hnsw = HnswIndexConfig(
                m=hnsw_config.m or 16,
                ef_construct=hnsw_config.ef_construct or 100,
                full_scan_threshold=hnsw_config.full_scan_threshold or 10_000,
            )
        # Segments of at least half a trigger's worth of vectors get an HNSW index, so the
        # points that triggered an optimization are indexed by it (Qdrant's default is a
        # fixed 10 MB, whatever the trigger).
        threshold_kb = max(1, self.index_after * vectors_config.size * 4 // 1024 // 2)
        config = EdgeConfig(
            vectors=EdgeVectorParams(size=vectors_config.size, distance=Distance.Cosine),
            hnsw_config=hnsw,
            optimizers=EdgeOptimizersConfig(
                indexing_threshold=threshold_kb, default_segment_number=DEFAULT_SEGMENTS
            ),
        )
        stale = self._open.pop(collection_name, None)
        if stale is not None:
            stale.shard.close()
        path.mkdir(parents=True, exist_ok=True)
        # A shard left by a creation that died before writing spine.json is reused.
        has_shard = (shard_path / "segments").exists()
        shard = self._load_shard(shard_path, None if has_shard else config)
        try:
            shard.update(
                UpdateOperation.create_field_index("session_id", PayloadSchemaType.Keyword)
            )
            shard.update(
                UpdateOperation.create_field_index(
                    "ts_us", IntegerIndexParams(lookup=False, range=True)
                )
            )
            meta = {
                "vectors": {"size": vectors_config.size, "distance": distance},
                "metadata": metadata or {},
            }
            _write_json(path / _META, meta)
        except BaseException:
            shard.close()
            raise
        self._open[collection_name] = _Collection(path, meta, shard)
        return True

    async def delete_collection(self, collection_name: str, **_: Any) -> bool:
        """Close the collection's shard and remove its folder; False when there was none."""
        path = self._dir(collection_name)
        entry = self._open.pop(collection_name, None)
        if entry is not None:
            entry.shard.close()
        if not path.exists():
            return False
        # The metadata file first: a crash part-way leaves "no collection", never half of one.
        (path / _META).unlink(missing_ok=True)
        shutil.rmtree(path, ignore_errors=True)
        return True

    async def get_collection(self, collection_name: str) -> models.CollectionInfo:
        """The collection's vector parameters, metadata and payload indexes."""
        from qdrant_client import models

        entry = self._get(collection_name)
        vectors = entry.meta["vectors"]
        info = entry.shard.info()
        params = models.CollectionParams.model_construct(
            vectors=models.VectorParams(
                size=int(vectors["size"]), distance=models.Distance(vectors["distance"])
            )
        )
        config = models.CollectionConfig.model_construct(
            params=params, metadata=entry.meta.get("metadata") or None
        )
        return models.CollectionInfo.model_construct(
            config=config,
            points_count=info.points_count,
            indexed_vectors_count=info.indexed_vectors_count,
            segments_count=info.segments_count,
            payload_schema={key: None for key in info.payload_schema},
        )

    async def update_collection(
        self, collection_name: str, metadata: dict[str, Any] | None = None, **_: Any
    ) -> bool:
        """Merge `metadata` into the recorded collection metadata."""
        entry = self._get(collection_name)
        meta = {**entry.meta, "metadata": {**entry.meta.get("metadata", {}), **(metadata or {})}}
        _write_json(entry.path / _META, meta)
        entry.meta = meta
        return True

    async def create_payload_index(
        self,
        collection_name: str,
        field_name: str,
        field_schema: models.PayloadSchemaType | models.PayloadSchemaParams | None = None,
        **_: Any,
    ) -> models.UpdateResult:
        """A payload index (keyword, integer, float or bool) on `field_name`."""
        from qdrant_client import models
        from qdrant_edge import IntegerIndexParams, PayloadSchemaType, UpdateOperation

        kind: Any = field_schema
        if isinstance(kind, models.IntegerIndexParams):
            schema: Any = IntegerIndexParams(lookup=kind.lookup, range=kind.range)
        else:
            value = kind.value if isinstance(kind, models.PayloadSchemaType) else str(kind)
            if value == "bool":
                # Boolean shadows live as keywords in their twin object (see module notes).
                field_name, value = _bool_key(field_name), "keyword"
            schema = {
                "keyword": PayloadSchemaType.Keyword,
                "integer": PayloadSchemaType.Integer,
                "float": PayloadSchemaType.Float,
            }[value]
        self._get(collection_name).shard.update(
            UpdateOperation.create_field_index(field_name, schema)
        )
        return _done()

    # -- writes ------------------------------------------------------------------------------
    async def upsert(
        self, collection_name: str, points: Sequence[models.PointStruct], **_: Any
    ) -> models.UpdateResult:
        """Insert or replace points; builds the HNSW index once enough points are unindexed."""
        from qdrant_edge import Point, UpdateOperation

        entry = self._get(collection_name)
        entry.shard.update(
            UpdateOperation.upsert_points(
                [Point(str(p.id), _dense(p.vector), _store_bools(p.payload)) for p in points]
            )
        )
        self._maybe_index(collection_name, entry)
        return _done()

    async def delete(
        self,
        collection_name: str,
        points_selector: models.PointIdsList | models.FilterSelector,
        **_: Any,
    ) -> models.UpdateResult:
        """Delete points by id or by filter."""
        from qdrant_client import models
        from qdrant_edge import UpdateOperation

        shard = self._get(collection_name).shard
        if isinstance(points_selector, models.PointIdsList):
            ids: list[edge.PointId] = [str(i) for i in points_selector.points]
            shard.update(UpdateOperation.delete_points(ids))
        else:
            shard.update(UpdateOperation.delete_points_by_filter(_filter(points_selector.filter)))
        return _done()

    def _maybe_index(self, name: str, entry: _Collection) -> None:
        info = entry.shard.info()
        if info.points_count - info.indexed_vectors_count < self.index_after:
            return
        if info.points_count < self._retry_at.get(name, 0):
            return  # the last attempt failed: wait for another batch of points
        if not self.optimize(name):
            self._retry_at[name] = info.points_count + self.index_after

    def optimize(self, collection_name: str) -> bool:
        """Build the HNSW index of the collection's unindexed points in a child process.

        Returns whether it succeeded. The shard is closed meanwhile (a child can only load
        it once this process lets go of the WAL lock) and reopened afterwards, whatever the
        child's outcome: a failed or killed optimization leaves the shard as it was (Qdrant
        swaps optimized segments in atomically), only still unindexed.
        """
        entry = self._get(collection_name)
        entry.shard.close()
        del self._open[collection_name]
        ok = False
        try:
            done = subprocess.run(  # noqa: S603 - our interpreter, our script, our shard path
                [sys.executable, "-c", _OPTIMIZER, str(entry.path / _SHARD)],
                check=False,
                capture_output=True,
                timeout=_OPTIMIZE_TIMEOUT,
            )
            ok = done.returncode == 0
            if not ok:
                tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:]
                _log.warning(
                    "qdrant-edge: indexing %s failed (exit %s: %s); its points stay unindexed "
                    "(searched exactly) until the next attempt",
                    collection_name,
                    done.returncode,
                    tail[0] if tail else "no message",
                )
        except Exception as exc:  # the write it follows succeeded: never fail it
            _log.warning("qdrant-edge: indexing %s failed: %r", collection_name, exc)
        finally:
            self._get(collection_name)
        return ok

    # -- reads -------------------------------------------------------------------------------
    async def retrieve(
        self,
        collection_name: str,
        ids: Sequence[str | int],
        with_payload: bool = True,
        **_: Any,
    ) -> list[models.Record]:
        """The points with these ids that exist."""
        found = self._get(collection_name).shard.retrieve(
            [str(i) for i in ids], with_payload=with_payload, with_vector=False
        )
        return [_record(r) for r in found]

    async def count(
        self,
        collection_name: str,
        count_filter: models.Filter | None = None,
        exact: bool = True,
        **_: Any,
    ) -> models.CountResult:
        """How many points match the filter."""
        from qdrant_client import models
        from qdrant_edge import CountRequest

        flt = None if count_filter is None else _filter(count_filter)
        number = self._get(collection_name).shard.count(CountRequest(exact=exact, filter=flt))
        return models.CountResult(count=number)

    async def query_points(
        self,
        collection_name: str,
        query: list[float],
        query_filter: models.Filter | None = None,
        search_params: models.SearchParams | None = None,
        limit: int = 10,
        with_payload: bool = True,
        **_: Any,
    ) -> models.QueryResponse:
        """Nearest neighbours of a vector (HNSW on indexed segments, exact on the rest)."""
        from qdrant_client.http import models as http
        from qdrant_edge import Query, QueryRequest, SearchParams

        params = None
        if search_params is not None:
            params = SearchParams(hnsw_ef=search_params.hnsw_ef, exact=bool(search_params.exact))
        request = QueryRequest(
            limit=limit,
            query=Query.Nearest(query),
            filter=None if query_filter is None else _filter(query_filter),
            params=params,
            with_payload=with_payload,
            with_vector=False,
        )
        hits = self._get(collection_name).shard.query(request)
        return http.QueryResponse(
            points=[
                http.ScoredPoint(id=str(h.id), version=h.version, score=h.score, payload=h.payload)
                for h in hits
            ]
        )

    async def scroll(
        self,
        collection_name: str,
        scroll_filter: models.Filter | None = None,
        limit: int = 10,
        order_by: models.OrderBy | str | None = None,
        offset: str | int | None = None,
        with_payload: bool = True,
        with_vectors: bool = False,
        **_: Any,
    ) -> tuple[list[models.Record], str | int | None]:
        """A page of points by id, or by a payload key with `order_by`; and the next offset."""
        from qdrant_edge import ScrollRequest

        request = ScrollRequest(
            offset=None if offset is None else str(offset),
            limit=limit,
            filter=None if scroll_filter is None else _filter(scroll_filter),
            with_payload=with_payload,
            with_vector=with_vectors,
            order_by=None if order_by is None else _order_by(order_by),
        )
        records, next_offset = self._get(collection_name).shard.scroll(request)
        return [_record(r) for r in records], None if next_offset is None else str(next_offset)

    # -- lifecycle -----------------------------------------------------------------------------
    async def close(self) -> None:
        """Close every shard (flushing it); a temporary directory is deleted."""
        shards, self._open = list(self._open.values()), {}
        try:
            for entry in shards:
                entry.shard.close()
        finally:
            if self._temporary:
                shutil.rmtree(self.root.parent, ignore_errors=True)


def _write_json(path: Path, value: Any) -> None:
    """Replace `path` atomically (a crash leaves the old or the new file, never half of one)."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(value, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


_SHADOWS = ("f", "fx")


def _dense(vector: Any) -> list[float]:
    """The store's vectors: always one plain dense list of floats."""
    if not isinstance(vector, list):
        raise TypeError(f"the edge engine stores dense vectors, got {type(vector).__name__}")
    return vector


def _store_bools(payload: dict[str, Any] | None) -> dict[str, Any]:
    """The payload with boolean filter shadows moved to keyword twins (see module notes)."""
    out = dict(payload or {})
    for name in _SHADOWS:
        shadow = out.get(name)
        if not isinstance(shadow, dict):
            continue
        bools = {k: "true" if v else "false" for k, v in shadow.items() if isinstance(v, bool)}
        if bools:
            rest = {k: v for k, v in shadow.items() if not isinstance(v, bool)}
            if rest:
                out[name] = rest
            else:
                del out[name]
            out[name + "b"] = bools
    return out


def _bool_key(key: str) -> str:
    """Where the boolean twin of shadow path `key` lives."""
    head, dot, rest = key.partition(".")
    if head not in _SHADOWS or not dot:
        raise NotImplementedError(f"edge engine: boolean match on {key!r} (only filter shadows)")
    return f"{head}b.{rest}"


def _done() -> models.UpdateResult:
    from qdrant_client import models

    return models.UpdateResult(operation_id=None, status=models.UpdateStatus.COMPLETED)


def _record(found: edge.Record) -> models.Record:
    from qdrant_client import models

    vector: object = found.vector
    if isinstance(vector, dict) and len(vector) == 1:
        # Spine's collections hold one unnamed dense vector; edge may hand it back by name.
        [vector] = vector.values()
    dense = [float(x) for x in vector] if isinstance(vector, list) else None
    return models.Record(
        id=str(found.id),
        payload=found.payload,
        vector=dense,
        order_value=found.order_value,
    )


def _order_by(order: models.OrderBy | str) -> edge.OrderBy:
    from qdrant_client import models
    from qdrant_edge import Direction, OrderBy

    if isinstance(order, str):
        return OrderBy(order)
    direction = None
    if order.direction is not None:
        direction = Direction.Desc if order.direction == models.Direction.DESC else Direction.Asc
    start = order.start_from
    if start is not None and not isinstance(start, int | float):
        raise NotImplementedError(f"edge engine: order_by start_from {start!r} (numbers only)")
    return OrderBy(order.key, direction, start)


def _conditions(items: Iterable[Any] | Any | None) -> list[Any] | None:
    if items is None:
        return None
    if not isinstance(items, list):
        items = [items]
    return [_condition(c) for c in items]


def _filter(flt: models.Filter) -> edge.Filter:
    """A qdrant-client filter as a qdrant-edge filter (the conditions Spine builds, and more)."""
    from qdrant_edge import Filter, MinShould

    min_should = None
    if flt.min_should is not None:
        min_should = MinShould(
            [_condition(c) for c in flt.min_should.conditions], flt.min_should.min_count
        )
    return Filter(
        must=_conditions(flt.must),
        should=_conditions(flt.should),
        must_not=_conditions(flt.must_not),
        min_should=min_should,
    )


def _condition(cond: Any) -> Any:
    from qdrant_client import models
    from qdrant_edge import (
        FieldCondition,
        HasIdCondition,
        IsEmptyCondition,
        IsNullCondition,
        MatchAny,
        MatchExcept,
        MatchValue,
        RangeFloat,
    )

    if isinstance(cond, models.Filter):
        return _filter(cond)
    if isinstance(cond, models.HasIdCondition):
        return HasIdCondition({str(i) for i in cond.has_id})
    if isinstance(cond, models.IsEmptyCondition):
        return IsEmptyCondition(cond.is_empty.key)
    if isinstance(cond, models.IsNullCondition):
        return IsNullCondition(cond.is_null.key)
    if isinstance(cond, models.FieldCondition):
        match: Any = None
        key = cond.key
        if isinstance(cond.match, models.MatchValue) and isinstance(cond.match.value, bool):
            key = _bool_key(key)
            match = MatchValue("true" if cond.match.value else "false")
        elif isinstance(cond.match, models.MatchValue):
            match = MatchValue(cond.match.value)
        elif isinstance(cond.match, models.MatchAny):
            match = MatchAny(cond.match.any)
        elif isinstance(cond.match, models.MatchExcept):
            match = MatchExcept(cond.match.except_)
        elif cond.match is not None:
            raise NotImplementedError(f"edge engine: unsupported match {cond.match!r}")
        rng = None
        if isinstance(cond.range, models.Range):
            r = cond.range
            rng = RangeFloat(gte=r.gte, gt=r.gt, lte=r.lte, lt=r.lt)
        elif cond.range is not None:
            raise NotImplementedError(f"edge engine: unsupported range {cond.range!r}")
        if cond.geo_bounding_box or cond.geo_radius or cond.geo_polygon or cond.values_count:
            raise NotImplementedError("edge engine: geo and values_count conditions")
        return FieldCondition(
            key, match=match, range=rng, is_empty=cond.is_empty, is_null=cond.is_null
        )
    raise NotImplementedError(f"edge engine: unsupported condition {type(cond).__name__}")
