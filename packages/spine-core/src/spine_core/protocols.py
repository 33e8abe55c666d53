"""The async protocols a backend implements.

The base protocols (`CheckpointStore`, `Memory`) are all a store must provide: any class with
the right methods conforms, subclassing is not required. `ManagedCheckpointStore` and
`ManagedMemory` are what `open_*` returns: the base, a lifecycle, and every optional
operation, which raises `UnsupportedCapability` unless the store advertises it in its
`capabilities`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Generic, Protocol, Self, TypeVar, runtime_checkable

from pydantic import BaseModel, ConfigDict, field_validator

from .capabilities import CheckpointCapabilities, MemoryCapabilities
from .records import MemoryHit, MemoryItem, MemoryRecord, RecordExport
from .state import State

__all__ = [
    "BatchEmbedder",
    "CheckpointStore",
    "Embedder",
    "ExportPage",
    "ManagedCheckpointStore",
    "ManagedMemory",
    "Memory",
    "SessionExport",
    "SessionInfo",
    "SessionPage",
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


class SessionExport(BaseModel):
    """A live session with everything needed to rebuild it elsewhere (capability `export`).

    `updated_at` and `expires_at` are aware UTC datetimes; `expires_at` is None for a session
    that never expires. `revision` is the source's, for information: a restore starts anew.
    """

    model_config = ConfigDict(frozen=True)

    session_id: str
    tenant_id: str | None = None
    state: State
    revision: int | None = None
    updated_at: datetime
    expires_at: datetime | None = None

    @field_validator("updated_at", "expires_at")
    @classmethod
    def _aware_utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("must be timezone-aware")
        return value.astimezone(UTC)


_Item = TypeVar("_Item")


class ExportPage(BaseModel, Generic[_Item]):
    """One page of an export; pass `next_cursor` back as `after` for the next (None: done)."""

    model_config = ConfigDict(frozen=True)

    items: list[_Item]
    next_cursor: str | None = None


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


class ManagedCheckpointStore(CheckpointStore, _Managed, Protocol):
    """What `open_checkpoint` returns: a lifecycle and every optional operation.

    An optional operation the store does not advertise raises `UnsupportedCapability`.
    """

    @property
    def capabilities(self) -> CheckpointCapabilities:
        """The optional operations and properties this store advertises."""
        ...

    async def put(
        self, state: State, *, expected_revision: int | None = None, ttl: float | None = None
    ) -> None:
        """Store `state`, replacing what was there.

        `expected_revision` (capability `revisions`) makes it a compare-and-set raising
        `ConflictError`; `ttl` (capability `ttl`) expires it.
        """
        ...

    async def revision(self, session_id: str) -> int:
        """0 when missing, else the number of puts since creation (capability `revisions`)."""
        ...

    async def list_sessions(
        self, *, tenant_id: str | None = None, limit: int = 100, cursor: str | None = None
    ) -> SessionPage:
        """Sessions in id order, after `cursor` (capability `list_sessions`)."""
        ...

    async def prune(self, *, before: datetime) -> int:
        """Delete sessions not updated since `before`; how many (capability `prune`)."""
        ...

    async def export_sessions(
        self, *, tenant_id: str | None = None, after: str | None = None, limit: int = 100
    ) -> ExportPage[SessionExport]:
        """Live sessions with their states, in id order after `after` (capability `export`)."""
        ...

    async def restore_session(self, item: SessionExport, *, overwrite: bool = False) -> bool:
        """Write an exported session back as it was (capability `export`).

        False when it has expired since; `ConflictError` when present, unless `overwrite`.
        """
        ...


class ManagedMemory(Memory, _Managed, Protocol):
    """What `open_memory` returns: a lifecycle and every optional operation.

    An optional operation the store does not advertise raises `UnsupportedCapability`.
    """

    @property
    def capabilities(self) -> MemoryCapabilities:
        """The optional operations and properties this store advertises."""
        ...

    async def search(
        self,
        query: str,
        *,
        k: int = 5,
        session_id: str | None = None,
        filter: dict[str, str | int | float | bool] | None = None,
    ) -> list[MemoryHit]:
        """The `k` most similar records, best first.

        `filter` (capability `filter`) keeps records whose metadata has every key equal.
        """
        ...

    async def get(self, record_id: str) -> MemoryRecord | None:
        """The record with this id, or `None` (capability `get`)."""
        ...

    async def forget(self, record_id: str) -> bool:
        """Delete one record; `True` if it existed (capability `forget`)."""
        ...

    async def prune(
        self, *, session_id: str | None = None, before: datetime | float | None = None
    ) -> int:
        """Delete a session's records and/or those saved before `before` (capability `prune`)."""
        ...

    async def save_many(self, items: Sequence[MemoryItem | str]) -> list[MemoryRecord]:
        """Save many records, all or none (capability `save_many`)."""
        ...

    async def export_records(
        self, *, after: str | None = None, limit: int = 500
    ) -> ExportPage[RecordExport]:
        """Records with their vectors, in id order after `after` (capability `export`)."""
        ...

    async def restore_records(
        self, records: Sequence[RecordExport | MemoryRecord], *, reembed: bool = False
    ) -> list[MemoryRecord]:
        """Write exported records back keeping ids and timestamps (capability `export`)."""
        ...
