"""Base classes that give a backend the shared behaviour for free.

Lifecycle (lazy connect, async context manager, `aclose`), `info`/`health`, a redacted
repr, input validation and `UnsupportedCapability` for every optional operation a store
does not advertise. A backend overrides `_open`, `_close`, `_ping` and the operations it has.
Subclassing is optional: the protocols are structural.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from typing import Any, ClassVar, Self

from ._capabilities import (
    CheckpointCapabilities,
    Health,
    Kind,
    MemoryCapabilities,
    StoreInfo,
    Topology,
)
from ._codec import dump_state, load_state
from ._embedding import HashEmbedder, embed_texts, embedder_dimension, embedder_name
from ._options import StoreOptions
from ._protocols import Embedder, ExportPage, SessionExport, SessionInfo, SessionPage
from ._records import (
    MemoryHit,
    MemoryItem,
    MemoryRecord,
    RecordExport,
    epoch_seconds,
    to_epoch_us,
    ts_from_us,
    utc_now,
)
from ._redact import redact_text
from ._spi_version import SPI_VERSION
from ._validation import (
    encode_metadata,
    validate_before,
    validate_content,
    validate_embedder,
    validate_filter,
    validate_items,
    validate_k,
    validate_limit,
    validate_optional_session_id,
    validate_optional_tenant_id,
    validate_record_id,
    validate_session_id,
    validate_ttl,
    validate_vector,
)
from .errors import (
    ConfigError,
    ConflictError,
    InvalidInput,
    UnsupportedCapability,
    UnsupportedServer,
)
from .state import State

__all__ = [
    "CheckpointStoreBase",
    "ExportRow",
    "Filter",
    "MemoryStoreBase",
    "PreparedRecord",
    "ScanRow",
    "StoreBase",
    "check_prune_args",
]


class StoreBase:
    """Lifecycle, identity and health shared by every store."""

    SPI_VERSION: ClassVar[str] = SPI_VERSION
    backend: ClassVar[str] = "unknown"
    """The registry name of this backend (e.g. "sqlite")."""
    distribution: ClassVar[str] = "spine-core"
    """The PyPI distribution that ships this store."""
    kind: ClassVar[Kind]
    topology: Topology = "unknown"
    """How the store reaches its data; a class default an instance may refine (e.g. by mode)."""
    options: StoreOptions | None = None
    """The store's validated options model (see `spine_core.spi.parse_options`), if it has one."""

    def __init__(self) -> None:
        self._ready = False
        self._ready_lock: asyncio.Lock | None = None

    # -- lifecycle -------------------------------------------------------------------------
    async def _open(self) -> None:
        """Connect and prepare (create schema, check config). Runs once, on first use."""

    async def _close(self) -> None:
        """Release connections and handles."""

    async def _ping(self) -> None:
        """A cheap round trip to the backend, for `health`."""

    async def _ensure_ready(self) -> None:
        if self._ready:
            return
        if self._ready_lock is None:
            self._ready_lock = asyncio.Lock()
        async with self._ready_lock:
            if not self._ready:
                await self._open()
                try:
                    await self._after_open()
                except BaseException:
                    await self._close()
                    raise
                self._ready = True

    async def _after_open(self) -> None:
        """Work that needs the connection `_open` made (the memory base claims its namespace)."""

    async def aclose(self) -> None:
        """Release resources; the store reconnects if used again."""
        if self._ready:
            self._ready = False
            await self._close()

    async def __aenter__(self) -> Self:
        await self._ensure_ready()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- identity ----------------------------------------------------------------------------
    def _target(self) -> str | None:
        """Where the data lives, without secrets (a path, a redacted URL)."""
        return None

    def info(self) -> StoreInfo:
        """Which backend, distribution and SPI this store is; does no I/O."""
        try:
            version = importlib_metadata.version(self.distribution)
        except importlib_metadata.PackageNotFoundError:
            version = "0+unknown"
        target = self._target()
        return StoreInfo(
            name=self.backend,
            kinds=(self.kind,),
            distribution=self.distribution,
            version=version,
            spi_version=self.SPI_VERSION,
            topology=self.topology,
            target=redact_text(target) if target else None,
            options={} if self.options is None else self.options.details(),
        )

    async def health(self) -> Health:
        """Probe the backend; never raises, reports the error (redacted) instead."""
        start = time.perf_counter()
        try:
            await self._ensure_ready()
            await self._ping()
        except Exception as exc:
            return Health(
                ok=False,
                # The server answered but cannot serve this kind (Redis < 8 for memory,
                # PostgreSQL without pgvector): no retry or restart will help.
                status="unsupported" if isinstance(exc, UnsupportedServer) else "unavailable",
                info=self.info(),
                error=redact_text(f"{type(exc).__name__}: {exc}"),
            )
        return Health(ok=True, latency_ms=(time.perf_counter() - start) * 1000, info=self.info())

    def __repr__(self) -> str:
        target = self._target()
        where = f" {redact_text(target)!r}" if target else ""
        return f"<{type(self).__name__}{where}>"

    def _unsupported(self, capability: str) -> UnsupportedCapability:
        return UnsupportedCapability(type(self).__name__, capability)


ScanRow = tuple[str, str | None, datetime, int | None]
"""One listed session from `_scan`: (session_id, tenant_id, updated_at (aware), revision)."""

ExportRow = tuple[str, str | None, datetime, int | None, str | bytes, datetime | None]
"""One exported session from `_export`:
(session_id, tenant_id, updated_at (aware), revision, raw `dump_state` text, expires_at (aware))."""

_CAS_ATTEMPTS = 8
"""Conditional writes tried before a `ConflictError` whose revisions happen to match."""
MAX_REVISION = 2**63 - 1
"""The largest revision any store keeps (a signed 64-bit counter)."""


class CheckpointStoreBase(StoreBase):
    """Base for checkpoint stores: the public operations, written once over small hooks.

    Each operation validates its input, encodes it with the core codec, connects once and
    calls a private hook; then it decodes, paginates or retries. A backend implements
    `_read`, `_write` and `_remove`, and for each capability it advertises the matching
    hooks: `revisions` -> `_write_if` and `_revision`; `list_sessions` -> `_scan`;
    `prune` -> `_prune`; `ttl` -> honour the `ttl` its writes receive; `export` -> `_export`
    and honour the `updated_at` its writes receive. An operation whose capability is not
    advertised raises `UnsupportedCapability` before any I/O.
    """

    kind: ClassVar[Kind] = "checkpoint"
    capabilities: CheckpointCapabilities = CheckpointCapabilities()
    default_ttl: float | None = None
    """Seconds a session lives after a put without `ttl` (None: forever); capability `ttl`."""

    # -- the public operations ----------------------------------------------------------------
    async def put(
        self, state: State, *, expected_revision: int | None = None, ttl: float | None = None
    ) -> None:
        """Store `state`; with `expected_revision`, atomically only if the revision matches.

        `ttl` (seconds) overrides `default_ttl`. A mismatch raises `ConflictError`.
        """
        if expected_revision is None and ttl is None:
            ttl = self.default_ttl  # the hot path: nothing to check
        else:
            ttl = self._check_put_options(expected_revision, ttl)
        raw = dump_state(state)
        sid, tenant = state.session_id, state.tenant_id
        if not self._ready:
            await self._ensure_ready()
        if expected_revision is None:
            await self._write(sid, tenant, raw, ttl)
            return
        if expected_revision > MAX_REVISION:
            # No store keeps a revision this large (they are 64-bit), so it can never match;
            # some drivers would overflow on it instead of answering.
            raise ConflictError(sid, expected_revision, await self._revision(sid))
        for _ in range(_CAS_ATTEMPTS):
            if await self._write_if(sid, tenant, raw, ttl, expected_revision) is not None:
                return
            # Not written: read the revision to say why.
            actual = await self._revision(sid)
            if actual != expected_revision:
                raise ConflictError(sid, expected_revision, actual)
            # Another writer brought the session back to `expected_revision` (delete or
            # expiry, then puts) between the two calls: the write may succeed now.
        raise ConflictError(sid, expected_revision, await self._revision(sid))

    async def get(self, session_id: str) -> State | None:
        """A fresh copy of the stored state, or `None` (also when expired)."""
        sid = validate_session_id(session_id)
        if not self._ready:
            await self._ensure_ready()
        raw = await self._read(sid)
        return None if raw is None else load_state(raw, session_id=sid)

    async def delete(self, session_id: str) -> None:
        """Remove the session (a no-op when missing); its revision starts again at 0."""
        sid = validate_session_id(session_id)
        await self._ensure_ready()
        await self._remove(sid)

    async def revision(self, session_id: str) -> int:
        """0 when missing (or expired), else the number of puts since creation.

        Capability `revisions`.
        """
        if not self.capabilities.revisions:
            raise self._unsupported("revisions")
        sid = validate_session_id(session_id)
        await self._ensure_ready()
        return await self._revision(sid)

    async def list_sessions(
        self, *, tenant_id: str | None = None, limit: int = 100, cursor: str | None = None
    ) -> SessionPage:
        """Sessions in session-id (code point) order after `cursor`, optionally of one tenant.

        Capability `list_sessions`; pass `next_cursor` back for the next page.
        """
        if not self.capabilities.list_sessions:
            raise self._unsupported("list_sessions")
        tenant_id, limit, cursor = self._check_list_args(tenant_id, limit, cursor)
        await self._ensure_ready()
        rows = await self._scan(tenant_id, cursor, limit + 1)
        sessions = [
            SessionInfo(session_id=sid, tenant_id=tenant, updated_at=updated, revision=rev)
            for sid, tenant, updated, rev in rows[:limit]
        ]
        more = len(rows) > limit
        return SessionPage(sessions=sessions, next_cursor=sessions[-1].session_id if more else None)

    async def prune(self, *, before: datetime) -> int:
        """Delete sessions last put before `before`; return how many (capability `prune`)."""
        if not self.capabilities.prune:
            raise self._unsupported("prune")
        before = validate_before(before)
        await self._ensure_ready()
        return await self._prune(before)

    async def export_sessions(
        self, *, tenant_id: str | None = None, after: str | None = None, limit: int = 100
    ) -> ExportPage[SessionExport]:
        """Live sessions with their states, in session-id (code point) order after `after`.

        Optionally of one tenant. Capability `export`; pass `next_cursor` back as `after`.
        A stored state that cannot be read raises `DataError` naming the session.
        """
        if not self.capabilities.export:
            raise self._unsupported("export")
        tenant_id, limit, after = self._check_list_args(tenant_id, limit, after)
        await self._ensure_ready()
        rows = await self._export(tenant_id, after, limit + 1)
        items = [
            SessionExport(
                session_id=sid,
                tenant_id=tenant,
                state=load_state(raw, session_id=sid),
                revision=rev,
                updated_at=updated,
                expires_at=expires,
            )
            for sid, tenant, updated, rev, raw, expires in rows[:limit]
        ]
        more = len(rows) > limit
        return ExportPage(items=items, next_cursor=items[-1].session_id if more else None)

    async def restore_session(self, item: SessionExport, *, overwrite: bool = False) -> bool:
        """Write an exported session back with its tenant, `updated_at` and remaining ttl.

        Capability `export`. Returns False (writing nothing) when the item has expired since
        its export. Without `overwrite` it is written only if the session is absent
        (atomically on a store with `revisions`), else `ConflictError`; with `overwrite` it
        replaces what is there. The restored session's revision counts from the target's.
        """
        if not self.capabilities.export:
            raise self._unsupported("export")
        if not isinstance(item, SessionExport):
            raise InvalidInput(f"restore_session takes a SessionExport, got {type(item).__name__}")
        sid = validate_session_id(item.session_id)
        tenant = validate_optional_tenant_id(item.tenant_id)
        if item.state.session_id != sid or item.state.tenant_id != tenant:
            raise InvalidInput(
                f"session {sid!r}: the state's session_id/tenant_id differ from the export's"
            )
        ttl: float | None = None
        if item.expires_at is not None:
            if not self.capabilities.ttl:
                raise self._unsupported("ttl")
            remaining = (item.expires_at - utc_now()).total_seconds()
            if remaining <= 0:
                return False
            ttl = validate_ttl(remaining)
        updated_at = item.updated_at.astimezone(UTC)
        raw = dump_state(item.state)
        await self._ensure_ready()
        if overwrite:
            await self._write(sid, tenant, raw, ttl, updated_at=updated_at)
            return True
        if not self.capabilities.revisions:
            # No compare-and-set: the best this store can do is look first.
            if await self._read(sid) is not None:
                raise ConflictError(sid, 0, 1)
            await self._write(sid, tenant, raw, ttl, updated_at=updated_at)
            return True
        if await self._write_if(sid, tenant, raw, ttl, 0, updated_at=updated_at) is None:
            raise ConflictError(sid, 0, await self._revision(sid))
        return True

    # -- the hooks a backend implements (input already validated and encoded) ------------------
    async def _read(self, session_id: str) -> str | bytes | None:
        """The stored `dump_state` text of a live session, or None (missing or expired)."""
        raise NotImplementedError(f"{type(self).__name__} must implement _read")

    async def _write(
        self,
        session_id: str,
        tenant_id: str | None,
        raw: str,
        ttl: float | None,
        *,
        updated_at: datetime | None = None,
    ) -> None:
        """Store `raw` unconditionally: revision + 1 (1 when missing or expired).

        `ttl` is the seconds the session lives (None: forever); it is only ever set on a store
        that advertises `ttl`. The session's `updated_at` becomes `updated_at` (aware UTC;
        only ever given on a store that advertises `export`), else now (`records.utc_now`).
        """
        raise NotImplementedError(f"{type(self).__name__} must implement _write")

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
        """Like `_write`, atomically only if the live revision is `expected` (0: missing).

        Returns the new revision, or None when nothing was written (the base then reads the
        revision to raise `ConflictError`, or tries again). Capability `revisions`.
        """
        raise self._unsupported("revisions")

    async def _remove(self, session_id: str) -> None:
        """Delete the session; nothing happens when it is missing."""
        raise NotImplementedError(f"{type(self).__name__} must implement _remove")

    async def _revision(self, session_id: str) -> int:
        """The live session's revision, 0 when missing or expired (capability `revisions`)."""
        raise self._unsupported("revisions")

    async def _scan(self, tenant_id: str | None, after: str | None, n: int) -> Sequence[ScanRow]:
        """Up to `n` live sessions with ids > `after` (all when None), in code-point order.

        Only those of `tenant_id` when it is given. Capability `list_sessions`.
        """
        raise self._unsupported("list_sessions")

    async def _prune(self, before: datetime) -> int:
        """Delete sessions last put before `before` (aware); return how many.

        Expired sessions may go too, uncounted. Capability `prune`.
        """
        raise self._unsupported("prune")

    async def _export(
        self, tenant_id: str | None, after: str | None, n: int
    ) -> Sequence[ExportRow]:
        """Like `_scan`, with each session's stored state and expiry (capability `export`).

        Up to `n` live sessions with ids > `after`, in code-point order, of `tenant_id` when
        given; `expires_at` None for a session without ttl.
        """
        raise self._unsupported("export")

    # -- argument rules -----------------------------------------------------------------------
    def _check_put_options(self, expected_revision: object, ttl: object) -> float | None:
        """Validate put's keyword options against the advertised capabilities.

        Returns the ttl that applies: the one given, else the store's `default_ttl`.
        """
        if expected_revision is not None:
            if not self.capabilities.revisions:
                raise self._unsupported("revisions")
            if (
                isinstance(expected_revision, bool)
                or not isinstance(expected_revision, int)
                or expected_revision < 0
            ):
                raise InvalidInput(
                    f"expected_revision must be a non-negative int, got {expected_revision!r}"
                )
        if ttl is not None and not self.capabilities.ttl:
            raise self._unsupported("ttl")
        ttl = validate_ttl(ttl)
        return ttl if ttl is not None else self.default_ttl

    def _check_list_args(
        self, tenant_id: object, limit: object, cursor: object
    ) -> tuple[str | None, int, str | None]:
        """Validate `list_sessions` arguments; returns (tenant_id, limit, cursor)."""
        return (
            validate_optional_tenant_id(tenant_id),
            validate_limit(limit),
            validate_optional_session_id(cursor),
        )


Filter = dict[str, str | int | float | bool]
"""A validated search filter: metadata key → the scalar it must equal."""


_CheckedItem = tuple[str, str | None, dict[str, Any], str]
"""A validated `save_many` item: (content, session_id, metadata, metadata_json)."""


class PreparedRecord:
    """A validated record about to be written: everything a backend needs, computed once."""

    __slots__ = ("content", "id", "metadata", "metadata_json", "session_id", "ts", "vector")

    def __init__(
        self,
        *,
        id: str,
        content: str,
        session_id: str | None,
        metadata: dict[str, Any],
        metadata_json: str,
        ts: float,
        vector: list[float],
    ) -> None:
        self.id = id
        self.content = content
        self.session_id = session_id
        self.metadata = metadata
        self.metadata_json = metadata_json
        self.ts = ts
        """Epoch seconds, a whole number of microseconds (`records.now_ts`)."""
        self.vector = vector
        """Unit length (a dot product is the cosine); empty for a store that embeds nothing."""

    def record(self) -> MemoryRecord:
        """The public record for this row."""
        return MemoryRecord(
            id=self.id,
            content=self.content,
            session_id=self.session_id,
            metadata=self.metadata,
            ts=self.ts,
        )


def check_prune_args(session_id: object, before: object) -> tuple[str | None, float | None]:
    """Validate prune's arguments (at least one); `before` comes back as epoch seconds."""
    if session_id is None and before is None:
        raise InvalidInput("prune needs session_id, before, or both (refusing to delete all)")
    return (
        validate_optional_session_id(session_id),
        None if before is None else epoch_seconds(before),
    )


class MemoryStoreBase(StoreBase):
    """Base for memory stores: the public operations, written once over small hooks.

    Each operation validates its input (raising before anything is written), embeds (the
    embedder's vectors checked and unit-normalized), connects once, calls one hook with
    validated input and builds the records and hits. A backend implements:

    - `_insert(records, replace=False)`: store prepared records (with unit vectors), all or
      none; with `replace` a record whose id exists is replaced (restores);
    - `_query(vector, k, session_id, filter)`: up to `k` `(record, cosine)` pairs, best first;
    - `_recent(session_id, limit)`: the session's `limit` newest records, oldest first;
    - optional, each behind its capability: `_lookup(id)`, `_forget(id)`,
      `_prune(session_id, before)`, `_export(after, n)`, and `filter` (passed to `_query`)
      — an operation the store does not advertise raises `UnsupportedCapability` here,
      before any hook runs;
    - optional, for chunked writes (below): `_discard(ids)`.

    A store whose writes are not one transaction may have `save_many` and `restore_records`
    write in chunks instead of one `_insert` call: it sets `_insert_chunk` (records per
    `_insert` call) and `_insert_lanes` (calls in flight at once), and implements
    `_discard(ids)`: delete these ids from the namespace (they were minted for the failed
    call, so nothing else goes). Such a `save_many` validates every item first, then embeds
    groups of `_insert_chunk * _insert_lanes` records, writing each group while the next one
    is embedded. When a chunk (or a later group's embedding) fails, the base cancels what is
    in flight, waits for it, calls `_discard` with every id minted for the call and re-raises
    the original error (with a note that some records may remain when `_discard` fails too).
    A failed restore discards nothing (its records may have existed before, and deleting them
    would lose them): what it wrote stays, and restoring again completes it. With
    `_insert_chunk` None (the default) every write is one `_insert` call, all or none.

    The vector dimension is the embedder's `dim` when it declares one, else learned from the
    first vector it returns. A store whose layout depends on the dimension (a recorded
    embedder, a table or collection per dimension) does that work in `_claim(dimension)`,
    which the base runs once per open as soon as the dimension is known: at open when the
    embedder declares it or the namespace records it (`_recorded_dimension`), else at the
    first save or search.
    """

    kind: ClassVar[Kind] = "memory"
    capabilities: MemoryCapabilities = MemoryCapabilities()
    _layout_per_dimension: ClassVar[bool] = False
    """True when the namespace's storage exists only once a dimension is claimed (a table or a
    collection per dimension): reads of a namespace that holds nothing then answer "nothing"
    without calling a hook."""
    _embeds: ClassVar[bool] = True
    """False for a store that never compares vectors: records carry no vector and
    `_query` gets an empty one."""
    _insert_chunk: int | None = None
    """Records per `_insert` call of `save_many` and `restore_records`; None: one call."""
    _insert_lanes: int = 1
    """`_insert` calls in flight at once when writing in chunks."""

    def __init__(self, *, embedder: Embedder | None = None, namespace: str = "default") -> None:
        from ._validation import validate_namespace

        super().__init__()
        self.embedder: Embedder = (
            validate_embedder(embedder) if embedder is not None else HashEmbedder()
        )
        self.namespace = validate_namespace(namespace)
        self._declared_dim = embedder_dimension(self.embedder) if self._embeds else None
        self._learned_dim: int | None = None
        self._bound: int | None = None
        self._bind_lock: asyncio.Lock | None = None

    # -- the public operations -----------------------------------------------------------------
    async def save(
        self,
        content: str,
        *,
        session_id: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> MemoryRecord:
        """Embed and store one record."""
        item = MemoryItem(content=content, session_id=session_id, metadata=metadata)
        [prepared] = await self._prepare([item])
        await self._insert([prepared])
        return prepared.record()

    async def save_many(self, items: Sequence[MemoryItem | str]) -> list[MemoryRecord]:
        """Save many records at once, all or none (capability `save_many`)."""
        self._require("save_many")
        if self._insert_chunk is not None and self._embeds:
            return await self._save_in_groups(items)
        prepared = await self._prepare(items)
        if prepared:
            await self._insert_all(prepared)
        return [p.record() for p in prepared]

    async def search(
        self,
        query: str,
        *,
        k: int = 5,
        session_id: str | None = None,
        filter: Filter | None = None,
    ) -> list[MemoryHit]:
        """The `k` records most similar to `query` (cosine similarity in [-1, 1]), best first.

        `filter` (capability `filter`) keeps records whose metadata has every key equal, with
        JSON semantics: `true` is not `1`, `1` equals `1.0`.
        """
        k = validate_k(k)
        session_id = validate_optional_session_id(session_id)
        if filter is not None:
            self._require("filter")
        flt = validate_filter(filter)
        if not isinstance(query, str):
            raise InvalidInput(f"query must be a str, got {type(query).__name__}")
        if self._embeds:
            vector = (await self._embed([validate_content(query)]))[0]
        else:  # the query is not used: any str will do
            vector = []
            await self._ensure_ready()
        pairs = await self._query(vector, k, session_id, flt)
        hits = [MemoryHit(record=r, score=max(-1.0, min(1.0, s))) for r, s in pairs]
        hits.sort(key=_by_score)  # stable: a backend's own tie order survives
        return hits[:k]

    async def load(self, session_id: str, *, limit: int = 20) -> list[MemoryRecord]:
        """The session's `limit` most recent records, oldest first."""
        session_id = validate_session_id(session_id)
        limit = validate_limit(limit)
        if not await self._holds_data():
            return []
        return await self._recent(session_id, limit)

    async def get(self, record_id: str) -> MemoryRecord | None:
        """The record with this id, or `None` (capability `get`)."""
        self._require("get")
        record_id = validate_record_id(record_id)
        if not await self._holds_data():
            return None
        return await self._lookup(record_id)

    async def forget(self, record_id: str) -> bool:
        """Delete one record; `True` if it existed (capability `forget`)."""
        self._require("forget")
        record_id = validate_record_id(record_id)
        if not await self._holds_data():
            return False
        return await self._forget(record_id)

    async def prune(
        self, *, session_id: str | None = None, before: datetime | float | None = None
    ) -> int:
        """Delete a session's records and/or those saved before `before`; return how many.

        Capability `prune`; at least one of the two is required (never "delete all").
        """
        self._require("prune")
        sid, cut = check_prune_args(session_id, before)
        if not await self._holds_data():
            return 0
        return await self._prune(sid, cut)

    async def export_records(
        self, *, after: str | None = None, limit: int = 500
    ) -> ExportPage[RecordExport]:
        """Every record of the namespace with its stored unit vector, in id (code point) order.

        Records with ids > `after`; capability `export`. Pass `next_cursor` back as `after`.
        """
        self._require("export")
        if after is not None:
            after = validate_record_id(after)
        limit = validate_limit(limit)
        if not await self._holds_data():
            return ExportPage(items=[])
        rows = await self._export(after, limit + 1)
        # The hooks hand out validated records: building the export items without validating
        # them again keeps an export of millions of records fast.
        items = [
            RecordExport.model_construct(
                id=r.id,
                content=r.content,
                session_id=r.session_id,
                metadata=r.metadata,
                ts=r.ts,
                vector=vector if self._embeds else None,
            )
            for r, vector in rows[:limit]
        ]
        more = len(rows) > limit
        return ExportPage(items=items, next_cursor=items[-1].id if more else None)

    async def restore_records(
        self, records: Sequence[RecordExport | MemoryRecord], *, reembed: bool = False
    ) -> list[MemoryRecord]:
        """Write records back keeping their ids, sessions, metadata and timestamps.

        Capability `export`. A `RecordExport`'s vector is used (checked and unit-normalized)
        when it has this store's dimension and `reembed` is False; otherwise the content is
        embedded. A record whose id exists is replaced, so restoring twice changes nothing.
        `InvalidInput` (before anything is written) on a bad record. All or none, except on
        a store that writes in chunks: there a restore failing part-way keeps what it wrote,
        and restoring again completes it.
        """
        self._require("export")
        checked: list[tuple[str, str, str | None, dict[str, Any], str, float]] = []
        given: list[list[float] | None] = []
        seen: set[str] = set()
        for record in validate_items(records):
            if not isinstance(record, MemoryRecord):
                raise InvalidInput(
                    f"restore_records takes MemoryRecord or RecordExport, "
                    f"got {type(record).__name__}"
                )
            rid = validate_record_id(record.id)
            if rid in seen:
                raise InvalidInput(f"record id {rid!r} appears twice")
            seen.add(rid)
            metadata, metadata_json = encode_metadata(record.metadata)
            checked.append(
                (
                    rid,
                    validate_content(record.content),
                    validate_optional_session_id(record.session_id),
                    metadata,
                    metadata_json,
                    # Whole microseconds: what every backend keeps exactly.
                    ts_from_us(to_epoch_us(record.ts)),
                )
            )
            vector = getattr(record, "vector", None)
            given.append(None if reembed or not vector else vector)
        if not checked:
            return []
        vectors = await self._restore_vectors([c[1] for c in checked], given)
        prepared = [
            PreparedRecord(
                id=rid,
                content=content,
                session_id=session_id,
                metadata=metadata,
                metadata_json=metadata_json,
                ts=ts,
                vector=vector,
            )
            for (rid, content, session_id, metadata, metadata_json, ts), vector in zip(
                checked, vectors, strict=True
            )
        ]
        await self._insert_all(prepared, replace=True)
        return [p.record() for p in prepared]

    async def _restore_vectors(
        self, contents: list[str], given: list[list[float] | None]
    ) -> list[list[float]]:
        """The unit vector of each restored record: its own when it fits, else embedded."""
        if not self._embeds:
            await self._ensure_ready()
            return [[] for _ in contents]
        await self._ensure_ready()
        dimension = self.dimension if self.dimension is not None else self._bound
        out: list[list[float] | None] = []
        for vector in given:
            if vector is None or dimension is None or len(vector) != dimension:
                out.append(None)
            else:
                out.append(validate_vector(vector, dimension))
        missing = [i for i, v in enumerate(out) if v is None]
        if missing:
            embedded = await self._embed([contents[i] for i in missing])
            for i, vector in zip(missing, embedded, strict=True):
                out[i] = vector
        elif dimension is not None:
            await self._bind(dimension)
        return [v for v in out if v is not None]

    async def _insert_all(self, records: list[PreparedRecord], *, replace: bool = False) -> None:
        """Write `records` (never empty): one `_insert` call, or chunks over lanes."""
        if self._insert_chunk is None:
            if replace:
                await self._insert(records, replace=True)
            else:  # called as before chunking existed: a store's `_insert` may take no `replace`
                await self._insert(records)
            return
        try:
            await self._run_lanes(records, replace=replace)
        except BaseException as exc:
            if not replace:
                await self._discard_quietly([r.id for r in records], exc)
            raise

    async def _run_lanes(self, records: list[PreparedRecord], *, replace: bool = False) -> None:
        """Write `records` in `_insert_chunk` chunks over `_insert_lanes` concurrent calls.

        On any failure (or cancellation) the other lanes are cancelled and awaited before the
        error propagates; discarding what was written is the caller's decision.
        """
        size = self._insert_chunk or len(records)
        chunks = [records[start : start + size] for start in range(0, len(records), size)]
        pending = iter(chunks)

        async def lane() -> None:
            # Lanes share one iterator: each takes the next chunk as soon as it is free.
            for chunk in pending:
                await self._insert(chunk, replace=replace)

        lanes = [
            asyncio.ensure_future(lane())
            for _ in range(max(1, min(self._insert_lanes, len(chunks))))
        ]
        try:
            await asyncio.gather(*lanes)
        except BaseException:
            for task in lanes:
                task.cancel()
            # Wait for them: a chunk that commits while being cancelled is then discarded too.
            await asyncio.gather(*lanes, return_exceptions=True)
            raise

    async def _save_in_groups(self, items: Sequence[MemoryItem | str]) -> list[MemoryRecord]:
        """`save_many` on the chunked path: embed the next group while the previous is written.

        A group is `_insert_chunk * _insert_lanes` records, so one group keeps every lane busy.
        At most one group is embedding while one is being written, which bounds the vectors
        held in memory to two groups. Every item is validated before anything is embedded or
        written; the first group is embedded (binding the dimension and claiming the
        namespace) before any write starts. Any failure cancels and awaits what is in flight,
        discards every id minted so far and re-raises.
        """
        checked = self._check_items(items)
        group = (self._insert_chunk or 1) * max(1, self._insert_lanes)
        saved: list[MemoryRecord] = []
        minted: list[str] = []
        writing: asyncio.Task[None] | None = None
        embedding: asyncio.Task[list[list[float]]] | None = None
        try:
            for start in range(0, len(checked), group):
                part = checked[start : start + group]
                texts = [c[0] for c in part]
                if writing is None:
                    vectors = await self._embed(texts)
                else:
                    # The embedding runs while the previous group's lanes write. An embedder
                    # whose `embed_many` is synchronous CPU work inside an `async def` blocks
                    # the event loop meanwhile; that is fine: the statements already sent keep
                    # the server busy, and the lanes go on once the loop is free. (The local
                    # model embedders run in a worker thread and do not block it.) So first
                    # two turns of the loop: the write task starts its lanes, then each lane
                    # runs to its first real wait (a network store has usually sent its chunk
                    # by then), before an embedding that may hold the loop begins.
                    await asyncio.sleep(0)
                    await asyncio.sleep(0)
                    embedding = asyncio.create_task(self._embed(texts))
                    await asyncio.wait((writing, embedding), return_when=asyncio.FIRST_EXCEPTION)
                    # FIRST_EXCEPTION: both are done unless one failed; raise a failure here.
                    for task in (writing, embedding):
                        if task.done():
                            task.result()
                    vectors = embedding.result()
                    writing = embedding = None
                prepared = self._mint(part, vectors)
                minted += [p.id for p in prepared]
                writing = asyncio.create_task(self._run_lanes(prepared))
                saved += [p.record() for p in prepared]
            if writing is not None:
                await writing
        except BaseException as exc:
            running = [t for t in (writing, embedding) if t is not None]
            for task in running:
                task.cancel()
            # Wait for them: a chunk that commits while being cancelled is then discarded too.
            await asyncio.gather(*running, return_exceptions=True)
            if minted:
                await self._discard_quietly(minted, exc)
            raise
        return saved

    async def _discard_quietly(self, ids: list[str], cause: BaseException) -> None:
        try:
            await self._discard(ids)
        except Exception as error:  # the original error is the one to report
            cause.add_note(
                f"{type(self).__name__} could not delete the records of the failed save_many "
                f"({type(error).__name__}: {redact_text(str(error))}); some of its {len(ids)} "
                "records may remain "
                f"in namespace {self.namespace!r}"
            )

    # -- hooks: what a backend implements -------------------------------------------------------
    async def _insert(self, records: list[PreparedRecord], *, replace: bool = False) -> None:
        """Store validated, embedded records (never an empty list), all or none.

        With `replace` (restores), a record whose id exists is replaced, its vector too;
        without it ids are fresh. On the chunked path (`_insert_chunk`) each call gets one
        chunk, and several calls may run at once (`_insert_lanes`).
        """
        raise NotImplementedError

    async def _discard(self, ids: list[str]) -> None:
        """Delete these ids from the namespace, those that exist (for chunked writes).

        The ids were minted for a `save_many` that failed part-way; nothing else goes.
        """
        raise NotImplementedError(f"{type(self).__name__} writes in chunks but has no _discard")

    async def _export(
        self, after: str | None, n: int
    ) -> Sequence[tuple[MemoryRecord, list[float] | None]]:
        """Up to `n` records with ids > `after` (all when None), in code-point order of id.

        Each with its stored unit vector (None for a store that embeds nothing).
        Capability `export`.
        """
        raise self._unsupported("export")

    async def _query(
        self, vector: list[float], k: int, session_id: str | None, filter: Filter | None
    ) -> list[tuple[MemoryRecord, float]]:
        """Up to `k` (record, cosine similarity) pairs, best first, within the scope.

        `session_id` None is the whole namespace; `filter` is None unless the store
        advertises `filter`.
        """
        raise NotImplementedError

    async def _recent(self, session_id: str, limit: int) -> list[MemoryRecord]:
        """The session's `limit` most recent records, oldest first (ties by id)."""
        raise NotImplementedError

    async def _lookup(self, record_id: str) -> MemoryRecord | None:
        """The record with this id, or None (capability `get`)."""
        raise self._unsupported("get")

    async def _forget(self, record_id: str) -> bool:
        """Delete one record; True if it existed (capability `forget`)."""
        raise self._unsupported("forget")

    async def _prune(self, session_id: str | None, before: float | None) -> int:
        """Delete the records matching both given conditions (`before`: epoch seconds)."""
        raise self._unsupported("prune")

    async def _claim(self, dimension: int) -> None:
        """Prepare the namespace for `dimension`-d vectors; `ConfigError` if it holds others.

        Records the embedder and creates what depends on the dimension (a table, a collection);
        `_check_embedder` judges what the namespace recorded.
        """

    async def _recorded_dimension(self) -> int | None:
        """The dimension the namespace records, if the store keeps one (None: nothing yet)."""
        return None

    # -- the embedder's identity and the namespace's dimension ------------------------------------
    @property
    def embedder_name(self) -> str:
        """The identity of the embedder that stores record (its `name` or its class)."""
        return embedder_name(self.embedder)

    @property
    def dimension(self) -> int | None:
        """The vector length: declared by the embedder or learned; None until known."""
        return self._declared_dim if self._declared_dim is not None else self._learned_dim

    @property
    def dim(self) -> int | None:
        """Alias of `dimension` (spinekit's name)."""
        return self.dimension

    def _require(self, capability: str) -> None:
        if not getattr(self.capabilities, capability):
            raise self._unsupported(capability)

    async def _after_open(self) -> None:
        dimension = self.dimension
        if dimension is None and self._embeds:
            dimension = await self._recorded_dimension()
        if dimension is not None:
            await self._claim(dimension)
            self._bound = dimension

    async def aclose(self) -> None:
        """Release resources; the store reconnects (and re-checks its namespace) if used again."""
        self._bound = None
        await super().aclose()

    async def _bind(self, dimension: int) -> None:
        """Make the store ready for `dimension`-d vectors (claim the namespace once)."""
        await self._ensure_ready()
        if self._bound == dimension:
            return
        if self._bind_lock is None:
            self._bind_lock = asyncio.Lock()
        async with self._bind_lock:
            if self._bound is None:
                known = self.dimension
                if known is not None and known != dimension:  # `dimension` is the namespace's
                    raise self._dimension_mismatch(dimension, known)
                await self._claim(dimension)
                self._bound = dimension
        if self._bound != dimension:
            raise self._dimension_mismatch(self._bound, dimension)

    def _dimension_mismatch(self, stored: int, mine: int) -> ConfigError:
        return ConfigError(
            f"{type(self).__name__} namespace {self.namespace!r} holds {stored}-d vectors; "
            f"the configured embedder {self.embedder_name!r} makes {mine}-d vectors. Use the "
            "same embedder or another namespace."
        )

    async def _holds_data(self) -> bool:
        """Connect for a read or a delete; False when the namespace cannot hold a record yet.

        Only for stores whose layout depends on the dimension: before the first vector, a
        namespace another store has since written to is found by its record.
        """
        await self._ensure_ready()
        if not self._layout_per_dimension or self._bound is not None:
            return True
        recorded = await self._recorded_dimension()
        if recorded is None:
            return False
        await self._bind(recorded)
        return True

    async def _embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Embed `texts`; every vector checked (length, finite, non-zero) and unit-normalized.

        The first vectors fix the dimension when the embedder does not declare one; the
        namespace is claimed for it before anything is written or searched.
        """
        vectors = await embed_texts(self.embedder, texts, dim=self.dimension)
        if vectors:
            dimension = len(vectors[0])
            self._learned_dim = self._learned_dim or dimension
            await self._bind(dimension)
        return vectors

    async def _prepare(self, items: Sequence[MemoryItem | str]) -> list[PreparedRecord]:
        """Validate and embed records; raises `InvalidInput` before anything is written."""
        checked = self._check_items(items)
        if self._embeds:
            vectors = await self._embed([c[0] for c in checked])
        else:
            vectors = [[] for _ in checked]
            await self._ensure_ready()
        return self._mint(checked, vectors)

    def _check_items(self, items: Sequence[MemoryItem | str]) -> list[_CheckedItem]:
        """Validate and encode every item (no I/O); `InvalidInput` on the first bad one."""
        checked: list[_CheckedItem] = []
        for item in validate_items(items):
            if isinstance(item, str):
                item = MemoryItem(content=item)
            elif not isinstance(item, MemoryItem):
                raise InvalidInput(f"expected MemoryItem or str, got {type(item).__name__}")
            content = validate_content(item.content)
            session_id = validate_optional_session_id(item.session_id)
            metadata, metadata_json = encode_metadata(item.metadata)
            checked.append((content, session_id, metadata, metadata_json))
        return checked

    def _mint(
        self, checked: list[_CheckedItem], vectors: list[list[float]]
    ) -> list[PreparedRecord]:
        """The records to write: checked items with their vectors, fresh ids and timestamps."""
        from ._records import new_record_id, now_ts

        return [
            PreparedRecord(
                id=new_record_id(),
                content=content,
                session_id=session_id,
                metadata=metadata,
                metadata_json=metadata_json,
                ts=now_ts(),
                vector=vector,
            )
            for (content, session_id, metadata, metadata_json), vector in zip(
                checked, vectors, strict=True
            )
        ]

    def _check_embedder(
        self, stored_name: str, stored_dimension: int, dimension: int | None = None
    ) -> None:
        """Refuse an embedder that differs from the one the stored vectors came from.

        For `_claim`: `dimension` is the one being claimed (default: the embedder's, if known).
        """
        mine = self.embedder_name
        dimension = dimension if dimension is not None else self.dimension
        if dimension is not None and stored_dimension != dimension:
            raise ConfigError(
                f"{type(self).__name__} namespace {self.namespace!r} holds {stored_dimension}-d "
                f"vectors from {stored_name!r}; the configured embedder {mine!r} "
                f"makes {dimension}-d vectors. Use the same embedder or another namespace."
            )
        if stored_name != mine:
            raise ConfigError(
                f"{type(self).__name__} namespace {self.namespace!r} holds vectors from "
                f"{stored_name!r}, not from the configured {mine!r}; mixing "
                "embedders makes scores meaningless. Use the same embedder or another namespace."
            )


def _by_score(hit: MemoryHit) -> float:
    return -hit.score
