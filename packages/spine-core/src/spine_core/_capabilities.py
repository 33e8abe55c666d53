"""What a store can do (capabilities) and what it is (info, health)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "CHECKPOINT_OPERATIONS",
    "CHECKPOINT_OPTIONAL",
    "MEMORY_OPERATIONS",
    "MEMORY_OPTIONAL",
    "PROPERTIES",
    "Capability",
    "CheckpointCapabilities",
    "Health",
    "HealthStatus",
    "Kind",
    "MemoryCapabilities",
    "StoreInfo",
    "Topology",
    "capabilities_of",
]

Kind = Literal["checkpoint", "memory"]
Topology = Literal["in-process", "embedded", "server", "cluster", "unknown"]


class Capability(StrEnum):
    """Every capability name a store may advertise; a `str`, so `"ttl"` still works.

    The lists below, the fields of the capability models, the conformance kit's gates and
    the CLI's listings all derive from this one enum.
    """

    REVISIONS = "revisions"
    TTL = "ttl"
    LIST_SESSIONS = "list_sessions"
    PRUNE = "prune"
    GET = "get"
    FORGET = "forget"
    SAVE_MANY = "save_many"
    FILTER = "filter"
    PERSISTENT = "persistent"
    APPROXIMATE = "approximate"
    EXPORT = "export"
    CONCURRENT_WRITERS = "concurrent_writers"
    DURABLE = "durable"
    ENCRYPTION = "encryption"


CHECKPOINT_OPERATIONS: tuple[Capability, ...] = (
    Capability.REVISIONS,
    Capability.TTL,
    Capability.LIST_SESSIONS,
    Capability.PRUNE,
    Capability.EXPORT,
)
"""Optional checkpoint operations (a store advertising all of them is "full")."""
MEMORY_OPERATIONS: tuple[Capability, ...] = (
    Capability.GET,
    Capability.FORGET,
    Capability.PRUNE,
    Capability.SAVE_MANY,
    Capability.FILTER,
    Capability.EXPORT,
)
"""Optional memory operations (a store advertising all of them is "full")."""
CHECKPOINT_OPTIONAL: tuple[Capability, ...] = CHECKPOINT_OPERATIONS
"""What `CheckpointCapabilities.advertised()` may name."""
MEMORY_OPTIONAL: tuple[Capability, ...] = (
    *MEMORY_OPERATIONS,
    Capability.PERSISTENT,
    Capability.APPROXIMATE,
)
"""What `MemoryCapabilities.advertised()` may name: the operations plus two memory properties."""
PROPERTIES: tuple[Capability, ...] = (
    Capability.DURABLE,
    Capability.CONCURRENT_WRITERS,
    Capability.ENCRYPTION,
)
"""Properties every kind may claim; tested when claimed, never required."""


class _Capabilities(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    concurrent_writers: bool = False
    """Several processes may write to the same data at once without corrupting it."""
    durable: bool = False
    """Acknowledged writes survive a crash of the process (and, for servers, a restart)."""
    encryption: bool = False
    """The store knows its data is encrypted in transit or at rest (e.g. Qdrant over
    `qdrants://`); False means not known to be, not known not to be."""
    details: Mapping[str, Any] = Field(default_factory=dict)
    """Free-form, backend-specific facts (index type, search parameters, limits)."""

    def advertised(self) -> frozenset[Capability]:
        """Names of the optional operations this store advertises."""
        return frozenset(name for name in self.optional_names() if getattr(self, name))

    @classmethod
    def optional_names(cls) -> tuple[Capability, ...]:
        """Names of the optional operations of this kind."""
        raise NotImplementedError


class CheckpointCapabilities(_Capabilities):
    """Optional checkpoint operations a store advertises; each is tested only when True."""

    revisions: bool = False
    ttl: bool = False
    list_sessions: bool = False
    prune: bool = False
    export: bool = False
    """`export_sessions` lists every live session with what rebuilds it; `restore_session`
    writes one back keeping its id, tenant, `updated_at` and remaining ttl."""

    @classmethod
    def optional_names(cls) -> tuple[Capability, ...]:
        """Names of the optional checkpoint operations."""
        return CHECKPOINT_OPTIONAL


class MemoryCapabilities(_Capabilities):
    """Optional memory operations a store advertises; each is tested only when True."""

    get: bool = False
    forget: bool = False
    prune: bool = False
    save_many: bool = False
    filter: bool = False
    persistent: bool = False
    approximate: bool = False
    export: bool = False
    """`export_records` lists every record with its stored vector; `restore_records` writes
    records back keeping their ids, sessions, metadata and timestamps."""

    @classmethod
    def optional_names(cls) -> tuple[Capability, ...]:
        """Names of the optional memory operations."""
        return MEMORY_OPTIONAL


def _check_fields() -> None:
    # The models' flags are declarations of the enum's names: refuse to import if they drift.
    for model in (CheckpointCapabilities, MemoryCapabilities):
        flags = {n for n, f in model.model_fields.items() if f.annotation is bool}
        declared = {*model.optional_names(), *PROPERTIES}
        if flags != declared:
            raise RuntimeError(f"{model.__name__} fields {sorted(flags)} != {sorted(declared)}")


_check_fields()


class StoreInfo(BaseModel):
    """Identity of a store: which backend, which distribution, which SPI."""

    model_config = ConfigDict(frozen=True)

    name: str
    kinds: tuple[Kind, ...]
    distribution: str
    version: str
    spi_version: str
    topology: Topology = "unknown"
    target: str | None = None
    """Where the data lives, with any secret redacted."""
    options: dict[str, Any] = {}
    """The store's option values (from its options model), secrets left out."""


HealthStatus = Literal["ok", "unavailable", "unsupported"]
"""`ok`; `unavailable`: the backend did not answer or failed; `unsupported`: it answers but
cannot serve this kind as configured (e.g. memory on Redis < 8, PostgreSQL without pgvector)."""


class Health(BaseModel):
    """Result of a liveness probe.

    `ok` is true exactly when `status` is `"ok"`; give either one, the other follows.
    """

    model_config = ConfigDict(frozen=True)

    ok: bool
    latency_ms: float | None = None
    info: StoreInfo | None = None
    error: str | None = None
    status: HealthStatus = "ok"
    """Why it is not ok: the server is unavailable, or it cannot serve this kind."""

    @model_validator(mode="before")
    @classmethod
    def _fill_status(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        if "status" not in data and "ok" in data:
            return {**data, "status": "ok" if data["ok"] else "unavailable"}
        if "ok" not in data and "status" in data:
            return {**data, "ok": data["status"] == "ok"}
        return data

    @model_validator(mode="after")
    def _agree(self) -> Health:
        if self.ok != (self.status == "ok"):
            raise ValueError(f"ok={self.ok} contradicts status={self.status!r}")
        return self


_DEFAULT_CHECKPOINT = CheckpointCapabilities()
_DEFAULT_MEMORY = MemoryCapabilities()


def capabilities_of(store: object, kind: Kind) -> CheckpointCapabilities | MemoryCapabilities:
    """The capabilities a store advertises, or the base set for a store that declares none."""
    caps = getattr(store, "capabilities", None)
    expected = CheckpointCapabilities if kind == "checkpoint" else MemoryCapabilities
    if isinstance(caps, expected):
        return caps
    return _DEFAULT_CHECKPOINT if kind == "checkpoint" else _DEFAULT_MEMORY
