"""`BufferMemory` (backend `buffer`): recency recall without embeddings.

`search` ignores the query and returns the most recent records, newest first, each with score
1.0; `load` returns a session's latest records oldest first. For a rolling notes buffer where
similarity is not needed.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from .base import StoreBase
from .capabilities import Kind, MemoryCapabilities, Topology
from .protocols import Embedder
from .records import MemoryHit, MemoryRecord, new_record_id, now_ts
from .validation import (
    encode_metadata,
    validate_content,
    validate_k,
    validate_limit,
    validate_namespace,
    validate_optional_session_id,
    validate_session_id,
)

__all__ = ["BufferMemory"]


class BufferMemory(StoreBase):
    """In-process recency memory: `search` returns the latest `k` records, newest first."""

    kind: ClassVar[Kind] = "memory"
    backend: ClassVar[str] = "buffer"
    topology: Topology = "in-process"
    capabilities = MemoryCapabilities()

    def __init__(self, *, namespace: str = "default", embedder: Embedder | None = None) -> None:
        """`embedder` is accepted so shared memory options fit; a buffer embeds nothing."""
        super().__init__()
        self.namespace = validate_namespace(namespace)
        # Records in save order with their metadata JSON, so each read hands out a fresh copy.
        self._rows: list[tuple[MemoryRecord, str]] = []

    @classmethod
    def from_url(cls, url: str, **config: Any) -> BufferMemory:
        """Any URL opens a fresh in-process buffer."""
        return cls(**config)

    def _target(self) -> str:
        return f"buffer://{self.namespace}"

    @staticmethod
    def _copy(row: tuple[MemoryRecord, str]) -> MemoryRecord:
        record, metadata_json = row
        return record.model_copy(update={"metadata": json.loads(metadata_json)})

    async def save(
        self,
        content: str,
        *,
        session_id: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> MemoryRecord:
        """Append one record."""
        content = validate_content(content)
        session_id = validate_optional_session_id(session_id)
        meta, metadata_json = encode_metadata(metadata)
        record = MemoryRecord(
            id=new_record_id(), content=content, session_id=session_id, metadata=meta, ts=now_ts()
        )
        self._rows.append((record, metadata_json))
        return self._copy((record, metadata_json))

    async def search(
        self, query: str, *, k: int = 5, session_id: str | None = None
    ) -> list[MemoryHit]:
        """The `k` most recent records (of `session_id`, if given), newest first; score 1.0."""
        k = validate_k(k)
        session_id = validate_optional_session_id(session_id)
        hits: list[MemoryHit] = []
        for row in reversed(self._rows):
            if len(hits) == k:
                break
            if session_id is None or row[0].session_id == session_id:
                hits.append(MemoryHit(record=self._copy(row), score=1.0))
        return hits

    async def load(self, session_id: str, *, limit: int = 20) -> list[MemoryRecord]:
        """The session's `limit` most recent records, oldest first."""
        session_id = validate_session_id(session_id)
        limit = validate_limit(limit)
        rows = [row for row in self._rows if row[0].session_id == session_id]
        return [self._copy(row) for row in rows[-limit:]]
