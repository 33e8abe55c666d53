{%- set P = cookiecutter.__class_prefix -%}
"""The checkpoint store: agent run state on {{ cookiecutter.backend_name }}."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from spine_core.spi import (
    CheckpointCapabilities,
    CheckpointStoreBase,
    ExportRow,
    ScanRow,
    Topology,
    parse_options,
    query_options,
    url_options,
    utc_now,
)

from ._connection import DEFAULT_URL, StandInServer, check_url, connect, without_query
from ._options import {{ P }}CheckpointOptions

__all__ = ["{{ P }}Checkpoint"]


@dataclass(frozen=True, slots=True)
class _Row:
    """One session as stored: the serialized state and its bookkeeping."""

    state: str
    """`spine_core.spi.dump_state(state)`: every backend stores the same JSON."""
    revision: int
    """Puts since the session was created (or last deleted)."""
    tenant_id: str | None
    updated_at: datetime
    """`spine_core.spi.utc_now()` at the last put (what `prune` compares)."""


class {{ P }}Checkpoint(CheckpointStoreBase):
    """Checkpoints with compare-and-set revisions, session listing, pruning and export.

    The public operations (`put`, `get`, `delete`, `revision`, `list_sessions`, `prune`,
    `export_sessions`, `restore_session`) come from `CheckpointStoreBase`; this class fills
    its private hooks.

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
    # `export` (what `spine copy` reads and writes with) needs `_export` and writes that
    # honour `updated_at`.
    capabilities = CheckpointCapabilities(
        revisions=True, list_sessions=True, prune=True, export=True
    )

    def __init__(self, url: str = DEFAULT_URL, *, namespace: str = "default") -> None:
        """Configure the store; nothing connects until first use.

        `url` says where the server is (it may hold a password: it is never shown);
        `namespace` isolates stores that share one server.
        """
        super().__init__()
        self.options = options = parse_options(
            {{ P }}CheckpointOptions, kwargs={"namespace": namespace}
        )
        self.url = check_url(url)
        self.namespace = options.namespace
        self._server: StandInServer | None = None

    @classmethod
    def from_url(cls, url: str, **options: Any) -> {{ P }}Checkpoint:
        """A store for `url`: its query options, then keyword options (which win)."""
        query = query_options({{ P }}CheckpointOptions, url_options(url))
        return cls(without_query(url), **{**query, **options})

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

    # -- hooks: the base class validates, encodes, connects once and retries; these only --
    # -- move validated, encoded data (see docs/add-a-backend.md) ---------------------------
    async def _read(self, session_id: str) -> str | None:
        # REPLACE: read the serialized state by key (None when missing).
        row = self._rows().get(session_id)
        return None if row is None else row.state

    async def _write(
        self,
        session_id: str,
        tenant_id: str | None,
        raw: str,
        ttl: float | None,
        *,
        updated_at: datetime | None = None,
    ) -> None:
        # REPLACE: one upsert that sets the revision to the stored one + 1 (1 when new).
        # `ttl` is always None here: advertise `ttl=True` and make the row expire to use it.
        # `updated_at` is given only by `restore_session` (keep it); otherwise it is now.
        current = self._rows().get(session_id)
        revision = 1 if current is None else current.revision + 1
        self._store(session_id, tenant_id, raw, revision, updated_at)

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
        # REPLACE: make this compare-and-write ONE atomic operation on the server (a
        # conditional update, a transaction, a server-side script). Reading the revision in
        # the client and then writing loses updates when two processes race. Return None
        # when the revision differs: the base class raises ConflictError.
        current = self._rows().get(session_id)
        if (0 if current is None else current.revision) != expected:
            return None
        return self._store(session_id, tenant_id, raw, expected + 1, updated_at)

    async def _remove(self, session_id: str) -> None:
        # REPLACE: delete by key (a no-op when missing).
        self._rows().pop(session_id, None)

    async def _revision(self, session_id: str) -> int:
        # REPLACE: read the revision alone (without the state); 0 when missing.
        row = self._rows().get(session_id)
        return 0 if row is None else row.revision

    async def _scan(self, tenant_id: str | None, after: str | None, n: int) -> list[ScanRow]:
        # REPLACE: a range read on the server, ordered by session id, starting after `after`
        # (keyset pagination) and limited to `n` rows; never an offset. The base class
        # builds the pages and cursors.
        rows = self._rows()
        ids = sorted(
            sid
            for sid, row in rows.items()
            if (after is None or sid > after) and (tenant_id is None or row.tenant_id == tenant_id)
        )[:n]
        return [(sid, rows[sid].tenant_id, rows[sid].updated_at, rows[sid].revision) for sid in ids]

    async def _prune(self, before: datetime) -> int:
        # REPLACE: one delete on the server that returns (or counts) what it removed.
        rows = self._rows()
        stale = [sid for sid, row in rows.items() if row.updated_at < before]
        for sid in stale:
            del rows[sid]
        return len(stale)

    async def _export(self, tenant_id: str | None, after: str | None, n: int) -> list[ExportRow]:
        # REPLACE: the same keyset range read as `_scan`, with the stored state and the
        # expiry (None: never; this stand-in keeps no ttl). `export_sessions` decodes.
        rows = self._rows()
        return [
            (sid, tenant, updated, revision, rows[sid].state, None)
            for sid, tenant, updated, revision in await self._scan(tenant_id, after, n)
        ]

    def _store(
        self,
        session_id: str,
        tenant_id: str | None,
        raw: str,
        revision: int,
        updated_at: datetime | None = None,
    ) -> int:
        when = utc_now() if updated_at is None else updated_at
        self._rows()[session_id] = _Row(raw, revision, tenant_id, when)
        return revision
