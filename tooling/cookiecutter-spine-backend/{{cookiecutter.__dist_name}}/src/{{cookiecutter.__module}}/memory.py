{%- set P = cookiecutter.__class_prefix -%}
"""The memory store: semantic recall on {{ cookiecutter.backend_name }}."""

from __future__ import annotations

import heapq
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

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
    query_options,
    url_options,
)

from ._connection import DEFAULT_URL, StandInServer, check_url, connect, without_query
from ._options import {{ P }}MemoryOptions

__all__ = ["{{ P }}Memory"]


@dataclass(frozen=True, slots=True)
class _Row:
    """One record as stored: a row a database could hold, not a live object."""

    id: str
    content: str
    session_id: str | None
    metadata: dict[str, Any]
    """A private copy for filtering; never handed out (`record()` decodes a fresh one)."""
    metadata_json: str
    """The metadata as `spine_core.spi.encode_metadata` serialized it."""
    ts: float
    """Epoch seconds (`MemoryRecord.ts`); a whole number of microseconds."""
    vector: list[float]
    """Unit length (the base class normalizes), so a dot product is the cosine."""

    def record(self) -> MemoryRecord:
        """A fresh public record (its own metadata dict: callers may mutate it)."""
        return MemoryRecord(
            id=self.id,
            content=self.content,
            session_id=self.session_id,
            metadata=json.loads(self.metadata_json),
            ts=self.ts,
        )


class {{ P }}Memory(MemoryStoreBase):
    """Semantic memory: exact cosine search, metadata filters, get, forget, prune, export.

    The public operations (`save`, `save_many`, `search`, `load`, `get`, `forget`, `prune`,
    `export_records`, `restore_records`) live in `MemoryStoreBase`: they validate, embed and
    connect, then call the hooks below.

    Open it with `from_url(url, embedder=...)` or, through the registry, with
    `open_memory("{{ cookiecutter.backend_slug }}", url=...)`. It connects on first use.
    """

    backend: ClassVar[str] = "{{ cookiecutter.backend_slug }}"
    distribution: ClassVar[str] = "{{ cookiecutter.__dist_name }}"
    # REPLACE: "server" once the store talks to a server ("embedded" for a file, "cluster").
    topology: Topology = "in-process"
    # The kit tests exactly what is advertised here, so advertise only what the code does.
    # REPLACE: on the real driver, add persistent=True only if records survive a reopen,
    # approximate=True if search uses an ANN index (and choose its parameters for recall:
    # engine defaults are often far below 0.95 recall@10), and `details` for `spine doctor`.
    # `export` (what `spine copy` reads and writes with) needs `_export` and `_insert`'s
    # `replace`.
    capabilities = MemoryCapabilities(
        get=True, forget=True, prune=True, save_many=True, filter=True, export=True
    )

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        embedder: Embedder | None = None,
        namespace: str = "default",
    ) -> None:
        """Configure the store; nothing connects until first use.

        `url` says where the server is (it may hold a password: it is never shown);
        `embedder` turns text into vectors (default `HashEmbedder()`); `namespace` isolates
        stores that share one server.
        """
        options = parse_options({{ P }}MemoryOptions, kwargs={"namespace": namespace})
        super().__init__(embedder=embedder, namespace=options.namespace)
        self.options = options
        self.url = check_url(url)
        self._server: StandInServer | None = None

    @classmethod
    def from_url(cls, url: str, **options: Any) -> {{ P }}Memory:
        """A store for `url`: its query options, then keyword options (which win)."""
        query = query_options({{ P }}MemoryOptions, url_options(url))
        return cls(without_query(url), **{**query, **options})

    def _target(self) -> str:
        return f"{self.url}#{self.namespace}"  # the base class redacts it

    async def _open(self) -> None:
        self._server = await connect(self.url)

    async def _claim(self, dimension: int) -> None:
        # The base calls this once per open, as soon as the vector dimension is known: at open
        # when the embedder declares `dim`, else at the first save or search (an embedder may
        # only have `embed(text)`). REPLACE: create the collection / table / index for this
        # namespace and dimension idempotently, and keep in it which embedder (name,
        # dimension) made its vectors. Reopening with another embedder must fail loud instead
        # of mixing vectors: that is what _check_embedder does.
        assert self._server is not None
        marker = self._server.table(f"memory-embedder/{self.namespace}")
        name, stored = marker.setdefault("embedder", (self.embedder_name, dimension))
        self._check_embedder(name, stored, dimension)

    async def _close(self) -> None:
        # REPLACE: close the driver's client (and its pool).
        self._server = None

    async def _ping(self) -> None:
        # REPLACE: the cheapest round trip the driver has.
        self._rows()

    def _rows(self) -> dict[str, _Row]:
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not open")
        # REPLACE: the collection, table or key prefix that holds this namespace's records.
        return self._server.table(f"memory/{self.namespace}")

    # -- hooks: the base class validates, embeds and connects before calling each one ------
    async def _insert(self, records: list[PreparedRecord], *, replace: bool = False) -> None:
        # `save` and `save_many` call this with validated, embedded records (never an empty
        # list), so bad input never reaches the server. All of them or none. `replace` (from
        # `restore_records`): a record whose id exists is overwritten, vector and all; else
        # ids are fresh. This dict overwrites either way.
        rows = [
            _Row(p.id, p.content, p.session_id, p.metadata, p.metadata_json, p.ts, p.vector)
            for p in records
        ]
        # REPLACE: one batched, atomic write (a transaction, a pipeline, an upsert of points).
        self._rows().update((row.id, row) for row in rows)

    async def _query(
        self, vector: list[float], k: int, session_id: str | None, filter: Filter | None
    ) -> list[tuple[MemoryRecord, float]]:
        # REPLACE: the server's nearest-neighbour search, restricted to the session and the
        # metadata filter on the server. Return (record, cosine similarity) best first: for a
        # cosine distance d that is 1 - d (the base clamps it to [-1, 1]).
        scored = (
            (sum(a * b for a, b in zip(vector, row.vector, strict=True)), row)
            for row in self._rows().values()
            if (session_id is None or row.session_id == session_id)
            and matches_filter(row.metadata, filter)
        )
        return [(row.record(), s) for s, row in heapq.nlargest(k, scored, key=lambda p: p[0])]

    async def _recent(self, session_id: str, limit: int) -> list[MemoryRecord]:
        # REPLACE: read the newest `limit` rows of the session (ordered by ts, then id) and
        # return them oldest first.
        rows = sorted(
            (row for row in self._rows().values() if row.session_id == session_id),
            key=lambda row: (row.ts, row.id),
        )
        return [row.record() for row in rows[-limit:]]

    async def _export(
        self, after: str | None, n: int
    ) -> Sequence[tuple[MemoryRecord, list[float] | None]]:
        # REPLACE: a keyset range read ordered by record id (code-point order), ids > `after`,
        # `n` rows, with each stored vector (capability `export`). Never an offset: it must
        # stay fast at millions of records.
        rows = self._rows()
        ids = heapq.nsmallest(n, (rid for rid in rows if after is None or rid > after))
        return [(rows[rid].record(), list(rows[rid].vector)) for rid in ids]

    async def _lookup(self, record_id: str) -> MemoryRecord | None:
        # REPLACE: read one record by id (capability `get`).
        row = self._rows().get(record_id)
        return None if row is None else row.record()

    async def _forget(self, record_id: str) -> bool:
        # REPLACE: delete by id, learning from the server whether it existed (`forget`).
        return self._rows().pop(record_id, None) is not None

    async def _prune(self, session_id: str | None, before: float | None) -> int:
        # `before` is epoch seconds; at least one of the two is set (`prune`).
        rows = self._rows()
        # REPLACE: one delete on the server that returns (or counts) what it removed.
        doomed = [
            rid
            for rid, row in rows.items()
            if (session_id is None or row.session_id == session_id)
            and (before is None or row.ts < before)
        ]
        for rid in doomed:
            del rows[rid]
        return len(doomed)
