"""What a store can do (capabilities) and what it is (info, health)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CHECKPOINT_OPERATIONS",
    "CHECKPOINT_OPTIONAL",
    "MEMORY_OPERATIONS",
    "MEMORY_OPTIONAL",
    "PROPERTIES",
    "Capability",
    "CheckpointCapabilities",
    "Health",
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
    CONCURRENT_WRITERS = "concurrent_writers"
    DURABLE = "durable"
    ENCRYPTION = "encryption"


CHECKPOINT_OPERATIONS: tuple[Capability, ...] = (
    Capability.REVISIONS,
    Capability.TTL,
    Capability.LIST_SESSIONS,
    Capability.PRUNE,
)
"""Optional checkpoint operations (a store advertising all of them is "full")."""
MEMORY_OPERATIONS: tuple[Capability, ...] = (
    Capability.GET,
    Capability.FORGET,
    Capability.PRUNE,
    Capability.SAVE_MANY,
    Capability.FILTER,
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


class Health(BaseModel):
    """Result of a liveness probe."""

    model_config = ConfigDict(frozen=True)

    ok: bool
    latency_ms: float | None = None
    info: StoreInfo | None = None
    error: str | None = None


_DEFAULT_CHECKPOINT = CheckpointCapabilities()
_DEFAULT_MEMORY = MemoryCapabilities()


def capabilities_of(store: object, kind: Kind) -> CheckpointCapabilities | MemoryCapabilities:
    """The capabilities a store advertises, or the base set for a store that declares none."""
    caps = getattr(store, "capabilities", None)
    expected = CheckpointCapabilities if kind == "checkpoint" else MemoryCapabilities
    if isinstance(caps, expected):
        return caps
    return _DEFAULT_CHECKPOINT if kind == "checkpoint" else _DEFAULT_MEMORY
