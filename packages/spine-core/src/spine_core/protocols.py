"""The async protocols a backend implements.

The base protocols (`CheckpointStore`, `Memory`) are all a store must provide; each optional
capability has its own protocol, and a store advertises which ones it honours in its
`capabilities`. Any class with the right methods conforms: subclassing is not required.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, Self, runtime_checkable

from pydantic import BaseModel, ConfigDict

from .capabilities import CheckpointCapabilities
from .records import MemoryHit, MemoryItem, MemoryRecord
from .state import State

__all__ = [
    "BatchEmbedder",
    "BatchingMemory",
    "CheckpointStore",
    "Embedder",
    "FilterableMemory",
    "ForgettingMemory",
    "ListableCheckpointStore",
    "Memory",
    "PrunableCheckpointStore",
    "PrunableMemory",
    "RecordLookupMemory",
    "RevisionedCheckpointStore",
    "SessionInfo",
    "SessionPage",
    "TTLCheckpointStore",
]


@runtime_checkable
class Embedder(Protocol):
    """Turns one text into a vector: the only method an embedder must have.

    Optional, used when present: `async def embed_many(texts) -> list[list[float]]` (a batch
    fast path, see `BatchEmbedder`), `dim: int` (the vector length; otherwise a store learns
    it from the first vector) and `name: str` (the model's identity, which stores record to
    refuse mixing vectors; otherwise the class's qualified name).
    """

    async def embed(self, text: str) -> list[float]:
        """The vector of `text`."""
        ...


@runtime_checkable
class BatchEmbedder(Embedder, Protocol):
    """An embedder with the optional batch fast path."""

    async def embed_many(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, in order."""
        ...


@runtime_checkable
class CheckpointStore(Protocol):
    """Durable run state keyed by session id: the base every checkpoint store provides."""

    async def put(self, state: State) -> None:
        """Store `state` under its session id, replacing what was there."""
        ...

    async def get(self, session_id: str) -> State | None:
        """A fresh copy of the stored state, or `None` when the session is missing."""
        ...

    async def delete(self, session_id: str) -> None:
        """Remove the session; a no-op when it is missing."""
        ...


class _Managed(Protocol):
    async def aclose(self) -> None:
        """Release connections; the store reconnects if used again."""
        ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, *exc: object) -> None: ...


class ManagedCheckpointStore(CheckpointStore, _Managed, Protocol):
    """A checkpoint store with a lifecycle: what `open_checkpoint` returns."""


class RevisionedCheckpointStore(CheckpointStore, Protocol):
    """Capability `revisions`: a per-session counter and atomic compare-and-set."""

    capabilities: CheckpointCapabilities

    async def revision(self, session_id: str) -> int:
        """0 when missing, else the number of puts since the session was created."""
        ...

    async def put(
        self, state: State, *, expected_revision: int | None = None, ttl: float | None = None
    ) -> None:
        """Store `state`; with `expected_revision`, raise `ConflictError` if it differs."""
        ...


class TTLCheckpointStore(CheckpointStore, Protocol):
    """Capability `ttl`: sessions that expire `ttl` seconds after their last put."""

    async def put(
        self, state: State, *, expected_revision: int | None = None, ttl: float | None = None
    ) -> None:
        """Store `state`, expiring it after `ttl` seconds (or the store default)."""
        ...


class SessionInfo(BaseModel):
    """A stored session, as listed by `list_sessions`."""

    model_config = ConfigDict(frozen=True)

    session_id: str
    tenant_id: str | None = None
    updated_at: datetime
    revision: int | None = None


class SessionPage(BaseModel):
    """One page of `list_sessions`; pass `next_cursor` back for the next page."""

    model_config = ConfigDict(frozen=True)

    sessions: list[SessionInfo]
    next_cursor: str | None = None


class ListableCheckpointStore(CheckpointStore, Protocol):
    """Capability `list_sessions`: paginated in session-id order."""

    async def list_sessions(
        self, *, tenant_id: str | None = None, limit: int = 100, cursor: str | None = None
    ) -> SessionPage:
        """Sessions ordered by id, after `cursor`, optionally of one tenant."""
        ...


class PrunableCheckpointStore(CheckpointStore, Protocol):
    """Capability `prune`: remove sessions not updated since a time."""

    async def prune(self, *, before: datetime) -> int:
        """Delete sessions last put before `before`; return how many."""
        ...


@runtime_checkable
class Memory(Protocol):
    """Semantic memory: save text, search by meaning, load a session's recent records."""

    async def save(
        self,
        content: str,
        *,
        session_id: str | None = None,
        metadata: dict[str, object] | None = None,
    ) -> MemoryRecord:
        """Embed and store `content`; return the stored record."""
        ...

    async def search(
        self, query: str, *, k: int = 5, session_id: str | None = None
    ) -> list[MemoryHit]:
        """The `k` records most similar to `query`, best first, scored by cosine similarity."""
        ...

    async def load(self, session_id: str, *, limit: int = 20) -> list[MemoryRecord]:
        """The session's `limit` most recent records, oldest first."""
        ...


class ManagedMemory(Memory, _Managed, Protocol):
    """A memory store with a lifecycle: what `open_memory` returns."""


class RecordLookupMemory(Memory, Protocol):
    """Capability `get`."""

    async def get(self, record_id: str) -> MemoryRecord | None:
        """The record with this id, or `None`."""
        ...


class ForgettingMemory(Memory, Protocol):
    """Capability `forget`."""

    async def forget(self, record_id: str) -> bool:
        """Delete one record; `True` if it existed."""
        ...


class PrunableMemory(Memory, Protocol):
    """Capability `prune`."""

    async def prune(
        self, *, session_id: str | None = None, before: datetime | float | None = None
    ) -> int:
        """Delete a session's records and/or those saved before `before`; return how many."""
        ...


class BatchingMemory(Memory, Protocol):
    """Capability `save_many`."""

    async def save_many(self, items: Sequence[MemoryItem | str]) -> list[MemoryRecord]:
        """Save many records in batches; same result as saving them one by one."""
        ...


class FilterableMemory(Memory, Protocol):
    """Capability `filter`: metadata equality on search."""

    async def search(
        self,
        query: str,
        *,
        k: int = 5,
        session_id: str | None = None,
        filter: dict[str, str | int | float | bool] | None = None,
    ) -> list[MemoryHit]:
        """Search restricted to records whose metadata has every `filter` key equal."""
        ...
