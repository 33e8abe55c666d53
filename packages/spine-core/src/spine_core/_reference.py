"""In-memory reference stores: the executable specification every backend is held to.

They keep serialized JSON, not live objects, so they exercise the same codec as every other
backend and can never hand out an object the caller might mutate.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar

from pydantic import PositiveInt

from ._base import (
    CheckpointStoreBase,
    ExportRow,
    Filter,
    MemoryStoreBase,
    PreparedRecord,
    ScanRow,
)
from ._capabilities import CheckpointCapabilities, MemoryCapabilities, Topology
from ._embedding import HashEmbedder
from ._options import DefaultTTL, Namespace, StoreOptions, parse_options, query_options
from ._protocols import Embedder
from ._records import MemoryRecord, matches_filter, utc_now
from ._urls import url_options

__all__ = [
    "InMemoryCheckpointOptions",
    "InMemoryCheckpointStore",
    "InMemoryVectorMemory",
    "InMemoryVectorOptions",
]


class InMemoryCheckpointOptions(StoreOptions):
    """`InMemoryCheckpointStore`'s options."""

    store_name: ClassVar[str] = "InMemoryCheckpointStore"
    namespace: Namespace = "default"
    default_ttl: DefaultTTL = None


class InMemoryVectorOptions(StoreOptions):
    """`InMemoryVectorMemory`'s options."""

    store_name: ClassVar[str] = "InMemoryVectorMemory"
    namespace: Namespace = "default"
    dim: PositiveInt = 256
    """Sizes the default `HashEmbedder`."""


class _Entry:
    __slots__ = ("expires_at", "raw", "revision", "tenant_id", "updated_at")

    def __init__(
        self,
        raw: str,
        revision: int,
        tenant_id: str | None,
        updated_at: datetime,
        expires_at: float | None,
    ) -> None:
        self.raw = raw
        self.revision = revision
        self.tenant_id = tenant_id
        self.updated_at = updated_at
        self.expires_at = expires_at


class InMemoryCheckpointStore(CheckpointStoreBase):
    """Checkpoints in a dict: every optional capability, nothing survives the process."""

    backend: ClassVar[str] = "memory"
    topology: Topology = "in-process"
    capabilities = CheckpointCapabilities(
        revisions=True, ttl=True, list_sessions=True, prune=True, export=True
    )

    def __init__(self, *, namespace: str = "default", default_ttl: float | None = None) -> None:

        super().__init__()
        self.options = options = parse_options(
            InMemoryCheckpointOptions, kwargs={"namespace": namespace, "default_ttl": default_ttl}
        )
        self.namespace = options.namespace
        self.default_ttl = options.default_ttl
        self._data: dict[str, _Entry] = {}

    @classmethod
    def from_url(cls, url: str, **config: Any) -> InMemoryCheckpointStore:
        """`memory://` opens a fresh in-process store (query options; keywords win)."""
        return cls(**{**query_options(InMemoryCheckpointOptions, url_options(url)), **config})

    def _target(self) -> str:
        return f"memory://{self.namespace}"

    def _live(self, session_id: str) -> _Entry | None:
        entry = self._data.get(session_id)
        if (
            entry is not None
            and entry.expires_at is not None
            and entry.expires_at <= time.monotonic()
        ):
            del self._data[session_id]
            return None
        return entry

    # -- hooks (see CheckpointStoreBase) ------------------------------------------------------
    async def _read(self, session_id: str) -> str | None:
        entry = self._live(session_id)
        return None if entry is None else entry.raw

    async def _write(
        self,
        session_id: str,
        tenant_id: str | None,
        raw: str,
        ttl: float | None,
        *,
        updated_at: datetime | None = None,
    ) -> None:
        revision = self._revision_now(session_id) + 1
        self._store(session_id, tenant_id, raw, ttl, revision, updated_at)

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
        # No await between the read and the write: atomic on the event loop.
        if self._revision_now(session_id) != expected:
            return None
        return self._store(session_id, tenant_id, raw, ttl, expected + 1, updated_at)

    async def _remove(self, session_id: str) -> None:
        self._data.pop(session_id, None)

    async def _revision(self, session_id: str) -> int:
        return self._revision_now(session_id)

    async def _scan(self, tenant_id: str | None, after: str | None, n: int) -> list[ScanRow]:
        ids = sorted(
            sid
            for sid in list(self._data)
            if (after is None or sid > after)
            and (entry := self._live(sid)) is not None
            and (tenant_id is None or entry.tenant_id == tenant_id)
        )[:n]
        rows = [(sid, self._data[sid]) for sid in ids]
        return [(sid, e.tenant_id, e.updated_at, e.revision) for sid, e in rows]

    async def _export(self, tenant_id: str | None, after: str | None, n: int) -> list[ExportRow]:
        rows = await self._scan(tenant_id, after, n)
        now_wall, now_mono = utc_now(), time.monotonic()
        out: list[ExportRow] = []
        for sid, tenant, updated, revision in rows:
            entry = self._data[sid]
            expires = (
                None
                if entry.expires_at is None
                else now_wall + timedelta(seconds=entry.expires_at - now_mono)
            )
            out.append((sid, tenant, updated, revision, entry.raw, expires))
        return out

    async def _prune(self, before: datetime) -> int:
        stale = [sid for sid, e in self._data.items() if e.updated_at < before]
        for sid in stale:
            del self._data[sid]
        return len(stale)

    def _revision_now(self, session_id: str) -> int:
        entry = self._live(session_id)
        return 0 if entry is None else entry.revision

    def _store(
        self,
        session_id: str,
        tenant_id: str | None,
        raw: str,
        ttl: float | None,
        revision: int,
        updated_at: datetime | None,
    ) -> int:
        expires_at = None if ttl is None else time.monotonic() + ttl
        when = updated_at if updated_at is not None else utc_now()
        self._data[session_id] = _Entry(raw, revision, tenant_id, when, expires_at)
        return revision


class _Row:
    __slots__ = ("metadata_json", "record", "vector")

    def __init__(self, record: MemoryRecord, vector: list[float], metadata_json: str) -> None:
        self.record = record
        self.vector = vector
        self.metadata_json = metadata_json


class InMemoryVectorMemory(MemoryStoreBase):
    """Exact cosine search over a list: every optional capability but persistence."""

    backend: ClassVar[str] = "vector"
    topology: Topology = "in-process"
    capabilities = MemoryCapabilities(
        get=True, forget=True, prune=True, save_many=True, filter=True, export=True
    )

    def __init__(
        self, *, embedder: Embedder | None = None, dim: int = 256, namespace: str = "default"
    ) -> None:
        """`dim` sizes the default `HashEmbedder`; a given `embedder` brings its own."""
        options = parse_options(InMemoryVectorOptions, kwargs={"namespace": namespace, "dim": dim})
        super().__init__(
            embedder=embedder if embedder is not None else HashEmbedder(options.dim),
            namespace=options.namespace,
        )
        self.options = options
        self._rows: dict[str, _Row] = {}

    @classmethod
    def from_url(cls, url: str, **config: Any) -> InMemoryVectorMemory:
        """`vector://` opens a fresh in-process store (query options; keywords win)."""
        return cls(**{**query_options(InMemoryVectorOptions, url_options(url)), **config})

    def _target(self) -> str:
        return f"vector://{self.namespace}"

    def _copy(self, row: _Row) -> MemoryRecord:
        # Records are frozen, but their metadata dicts are not: hand out a private copy.
        import json

        return row.record.model_copy(update={"metadata": json.loads(row.metadata_json)})

    async def _insert(self, records: list[PreparedRecord], *, replace: bool = False) -> None:
        # A dict keyed by id: a restored record replaces its namesake either way.
        for p in records:
            self._rows[p.id] = _Row(p.record(), p.vector, p.metadata_json)

    async def _export(
        self, after: str | None, n: int
    ) -> Sequence[tuple[MemoryRecord, list[float] | None]]:
        ids = heapq.nsmallest(n, (rid for rid in self._rows if after is None or rid > after))
        return [(self._copy(self._rows[rid]), list(self._rows[rid].vector)) for rid in ids]

    async def _query(
        self, vector: list[float], k: int, session_id: str | None, filter: Filter | None
    ) -> list[tuple[MemoryRecord, float]]:
        # Exact cosine: vectors are unit length, so the dot product is the similarity.
        scored = (
            (sum(a * b for a, b in zip(vector, row.vector, strict=True)), row)
            for row in self._rows.values()
            if (session_id is None or row.record.session_id == session_id)
            and matches_filter(row.record.metadata, filter)
        )
        best = heapq.nlargest(k, scored, key=lambda pair: pair[0])
        return [(self._copy(row), score) for score, row in best]

    async def _recent(self, session_id: str, limit: int) -> list[MemoryRecord]:
        rows = [r for r in self._rows.values() if r.record.session_id == session_id]
        rows.sort(key=lambda r: (r.record.ts, r.record.id))
        return [self._copy(r) for r in rows[-limit:]]

    async def _lookup(self, record_id: str) -> MemoryRecord | None:
        row = self._rows.get(record_id)
        return None if row is None else self._copy(row)

    async def _forget(self, record_id: str) -> bool:
        return self._rows.pop(record_id, None) is not None

    async def _prune(self, session_id: str | None, before: float | None) -> int:
        doomed = [
            rid
            for rid, row in self._rows.items()
            if (session_id is None or row.record.session_id == session_id)
            and (before is None or row.record.ts < before)
        ]
        for rid in doomed:
            del self._rows[rid]
        return len(doomed)
