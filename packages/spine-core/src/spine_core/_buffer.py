"""`BufferMemory` (backend `buffer`): recency recall without embeddings.

`search` ignores the query and returns the most recent records, newest first, each with score
1.0; `load` returns a session's latest records oldest first. For a rolling notes buffer where
similarity is not needed.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from ._base import Filter, MemoryStoreBase, PreparedRecord
from ._capabilities import MemoryCapabilities, Topology
from ._options import Namespace, StoreOptions, parse_options, query_options
from ._protocols import Embedder
from ._records import MemoryRecord
from ._urls import url_options

__all__ = ["BufferMemory", "BufferOptions"]


class BufferOptions(StoreOptions):
    """`BufferMemory`'s options."""

    store_name: ClassVar[str] = "BufferMemory"
    namespace: Namespace = "default"


class BufferMemory(MemoryStoreBase):
    """In-process recency memory: `search` returns the latest `k` records, newest first."""

    backend: ClassVar[str] = "buffer"
    topology: Topology = "in-process"
    capabilities = MemoryCapabilities()
    _embeds: ClassVar[bool] = False

    def __init__(self, *, namespace: str = "default", embedder: Embedder | None = None) -> None:
        """`embedder` is accepted so shared memory options fit; a buffer embeds nothing."""
        self.options = parse_options(BufferOptions, kwargs={"namespace": namespace})
        super().__init__(namespace=self.options.namespace)
        # Records in save order with their metadata JSON, so each read hands out a fresh copy.
        self._rows: list[tuple[MemoryRecord, str]] = []

    @classmethod
    def from_url(cls, url: str, **config: Any) -> BufferMemory:
        """Any URL opens a fresh in-process buffer (query options; keywords win)."""
        return cls(**{**query_options(BufferOptions, url_options(url)), **config})

    def _target(self) -> str:
        return f"buffer://{self.namespace}"

    @staticmethod
    def _copy(row: tuple[MemoryRecord, str]) -> MemoryRecord:
        record, metadata_json = row
        return record.model_copy(update={"metadata": json.loads(metadata_json)})

    async def _insert(self, records: list[PreparedRecord], *, replace: bool = False) -> None:
        self._rows += [(p.record(), p.metadata_json) for p in records]

    async def _query(
        self, vector: list[float], k: int, session_id: str | None, filter: Filter | None
    ) -> list[tuple[MemoryRecord, float]]:
        # Recency, not similarity: the newest `k` records of the scope, each scored 1.0.
        hits: list[tuple[MemoryRecord, float]] = []
        for row in reversed(self._rows):
            if len(hits) == k:
                break
            if session_id is None or row[0].session_id == session_id:
                hits.append((self._copy(row), 1.0))
        return hits

    async def _recent(self, session_id: str, limit: int) -> list[MemoryRecord]:
        rows = [row for row in self._rows if row[0].session_id == session_id]
        return [self._copy(row) for row in rows[-limit:]]
