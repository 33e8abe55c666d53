{%- set P = cookiecutter.__class_prefix -%}
"""The checkpoint store: agent run state on {{ cookiecutter.backend_name }}."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from spine_core.errors import ConflictError
from spine_core.records import utc_now
from spine_core.spi import (
    CheckpointCapabilities,
    CheckpointStoreBase,
    SessionInfo,
    SessionPage,
    Topology,
    dump_state,
    load_state,
    validate_before,
    validate_namespace,
    validate_session_id,
)
from spine_core.state import State

from ._connection import DEFAULT_URL, StandInServer, check_url, connect

__all__ = ["{{ P }}Checkpoint"]


@dataclass(frozen=True, slots=True)
class _Row:
    """One session as stored: the serialized state and its bookkeeping."""

    state: str
    """`spine_core.codec.dump_state(state)`: every backend stores the same JSON."""
    revision: int
    """Puts since the session was created (or last deleted)."""
    tenant_id: str | None
    updated_at: datetime
    """`spine_core.records.utc_now()` at the last put (what `prune` compares)."""


class {{ P }}Checkpoint(CheckpointStoreBase):
    """Checkpoints with compare-and-set revisions, session listing and pruning.

    Open it with `from_url(url)` or, through the registry, with
    `open_checkpoint("{{ cookiecutter.backend_slug }}", url=...)`. It connects on first use.
    """

    backend: ClassVar[str] = "{{ cookiecutter.backend_slug }}"
    distribution: ClassVar[str] = "{{ cookiecutter.__dist_name }}"
    # REPLACE: "server" once the store talks to a server ("embedded" for a file, "cluster").
    topology: Topology = "in-process"
    # The kit tests exactly what is advertised here, so advertise only what the code does.
    # REPLACE: on the real driver, add durable=True only if acknowledged writes survive a
    # crash or restart, concurrent_writers=True only if several processes may write at once
    # (the kit then races them), ttl=True with an implementation, and `details` (index,
    # consistency level...) for `spine doctor`.
    capabilities = CheckpointCapabilities(revisions=True, list_sessions=True, prune=True)

    def __init__(self, url: str = DEFAULT_URL, *, namespace: str = "default") -> None:
        """Configure the store; nothing connects until first use.

        `url` says where the server is (it may hold a password: it is never shown);
        `namespace` isolates stores that share one server.
        """
        super().__init__()
        self.url = check_url(url)
        self.namespace = validate_namespace(namespace)
        self._server: StandInServer | None = None

    @classmethod
    def from_url(cls, url: str, **options: Any) -> {{ P }}Checkpoint:
        """A store for `url`; keyword options as for the constructor."""
        return cls(url, **options)

    def _target(self) -> str:
        return f"{self.url}#{self.namespace}"  # the base class redacts it

    async def _open(self) -> None:
        self._server = await connect(self.url)
        # REPLACE: create what the store needs on the server (tables, indexes, a schema
        # version marker) idempotently: several processes may open the store at once.

    async def _close(self) -> None:
        # REPLACE: close the driver's client (and its pool).
        self._server = None

    async def _ping(self) -> None:
        # REPLACE: the cheapest round trip the driver has (PING, SELECT 1...).
        self._rows()

    def _rows(self) -> dict[str, _Row]:
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not open")
        # REPLACE: the table, key prefix or collection that holds this namespace's sessions.
        return self._server.table(f"checkpoints/{self.namespace}")

    async def put(
        self, state: State, *, expected_revision: int | None = None, ttl: float | None = None
    ) -> None:
        """Store `state`; with `expected_revision`, only if the stored revision is that one."""
        # Validates the options (ttl is not advertised, so passing one raises) and returns
        # the ttl that applies: the given one, else `self.default_ttl`.
        # REPLACE: with `ttl=True` advertised (and a `default_ttl=` option that sets
        # `self.default_ttl`), make the session expire `ttl` seconds after this put.
        ttl = self._check_put_options(expected_revision, ttl)
        raw = dump_state(state)  # validates: bad input fails before anything is written
        await self._ensure_ready()
        rows = self._rows()
        # REPLACE: make this read-compare-write ONE atomic operation on the server (a
        # conditional update, a transaction, a server-side script). Reading the revision
        # in the client and then writing loses updates when two processes race.
        current = rows.get(state.session_id)
        revision = 0 if current is None else current.revision
        if expected_revision is not None and expected_revision != revision:
            raise ConflictError(state.session_id, expected_revision, revision)
        rows[state.session_id] = _Row(raw, revision + 1, state.tenant_id, utc_now())

    async def get(self, session_id: str) -> State | None:
        """A fresh copy of the stored state, or `None`."""
        session_id = validate_session_id(session_id)
        await self._ensure_ready()
        # REPLACE: read the serialized state by key.
        row = self._rows().get(session_id)
        return None if row is None else load_state(row.state, session_id=session_id)

    async def delete(self, session_id: str) -> None:
        """Remove the session (a no-op when missing); its revision starts again at 0."""
        session_id = validate_session_id(session_id)
        await self._ensure_ready()
        # REPLACE: delete by key.
        self._rows().pop(session_id, None)

    async def revision(self, session_id: str) -> int:
        """0 when missing, else the number of puts since the session was created."""
        session_id = validate_session_id(session_id)
        await self._ensure_ready()
        # REPLACE: read the revision alone (without the state).
        row = self._rows().get(session_id)
        return 0 if row is None else row.revision

    async def list_sessions(
        self, *, tenant_id: str | None = None, limit: int = 100, cursor: str | None = None
    ) -> SessionPage:
        """Sessions in session-id (code point) order after `cursor`, optionally of one tenant."""
        tenant_id, limit, cursor = self.check_list_args(tenant_id, limit, cursor)
        await self._ensure_ready()
        rows = self._rows()
        # REPLACE: a range read on the server, ordered by session id, starting after
        # `cursor` (keyset pagination) and limited to limit + 1 rows; never an offset.
        ids = sorted(
            sid
            for sid, row in rows.items()
            if (cursor is None or sid > cursor)
            and (tenant_id is None or row.tenant_id == tenant_id)
        )[: limit + 1]
        sessions = [
            SessionInfo(
                session_id=sid,
                tenant_id=rows[sid].tenant_id,
                updated_at=rows[sid].updated_at,
                revision=rows[sid].revision,
            )
            for sid in ids[:limit]
        ]
        more = len(ids) > limit
        return SessionPage(sessions=sessions, next_cursor=sessions[-1].session_id if more else None)

    async def prune(self, *, before: datetime) -> int:
        """Delete the sessions last put before `before`; return how many."""
        before = validate_before(before)
        await self._ensure_ready()
        rows = self._rows()
        # REPLACE: one delete on the server that returns (or counts) what it removed.
        stale = [sid for sid, row in rows.items() if row.updated_at < before]
        for sid in stale:
            del rows[sid]
        return len(stale)
