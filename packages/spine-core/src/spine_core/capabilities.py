"""What a store can do (capabilities) and what it is (info, health)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CHECKPOINT_OPTIONAL",
    "MEMORY_OPTIONAL",
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


class _Capabilities(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    concurrent_writers: bool = False
    """Several processes may write to the same data at once without corrupting it."""
    durable: bool = False
    """Acknowledged writes survive a crash of the process (and, for servers, a restart)."""
    encryption: bool = False
    """Data is encrypted at rest or in transit by the store."""
    details: Mapping[str, Any] = Field(default_factory=dict)
    """Free-form, backend-specific facts (index type, search parameters, limits)."""

    def advertised(self) -> frozenset[str]:
        """Names of the optional operations this store advertises."""
        return frozenset(name for name in self.optional_names() if getattr(self, name))

    @classmethod
    def optional_names(cls) -> tuple[str, ...]:
        """Names of the optional operations of this kind."""
        raise NotImplementedError


class CheckpointCapabilities(_Capabilities):
    """Optional checkpoint operations a store advertises; each is tested only when True."""

    revisions: bool = False
    ttl: bool = False
    list_sessions: bool = False
    prune: bool = False

    @classmethod
    def optional_names(cls) -> tuple[str, ...]:
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
    def optional_names(cls) -> tuple[str, ...]:
        """Names of the optional memory operations."""
        return MEMORY_OPTIONAL


CHECKPOINT_OPTIONAL: tuple[str, ...] = ("revisions", "ttl", "list_sessions", "prune")
MEMORY_OPTIONAL: tuple[str, ...] = (
    "get",
    "forget",
    "prune",
    "save_many",
    "filter",
    "persistent",
    "approximate",
)


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
