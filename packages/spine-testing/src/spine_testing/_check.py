"""The check type and the table checks register in: a leaf module (it imports no kit module).

A check is a plain ``async def name(ctx) -> None`` that raises on a violation; `check` records
it here. `spine_testing.registry` loads the check modules and lists what they registered.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from spine_core import Kind
from spine_core.capabilities import (
    CHECKPOINT_OPERATIONS,
    CHECKPOINT_OPTIONAL,
    MEMORY_OPERATIONS,
    MEMORY_OPTIONAL,
    Capability,
)

if TYPE_CHECKING:
    from .context import CheckContext

__all__ = [
    "CHECKPOINT_CAPABILITIES",
    "FUNCTIONAL",
    "GROUPS",
    "MEMORY_CAPABILITIES",
    "Check",
    "CheckFn",
    "check",
]

CheckFn = Callable[["CheckContext"], Awaitable[None]]

CHECKPOINT_CAPABILITIES: tuple[str, ...] = (
    *CHECKPOINT_OPTIONAL,
    Capability.DURABLE,
    Capability.CONCURRENT_WRITERS,
)
"""Capabilities a checkpoint check may be gated on (checks of `GROUPS` always run)."""

MEMORY_CAPABILITIES: tuple[str, ...] = MEMORY_OPTIONAL
"""Capabilities a memory check may be gated on (checks of `GROUPS` always run)."""

GROUPS: tuple[str, ...] = ("base", "validation", "fidelity", "concurrency", "honesty")
"""Groups of the checks every store runs (the others are named after their capability):

- base: the guides' contract (checkpoint: missing → None, round trip, overwrite, delete,
  isolated sessions; memory: save returns a record, ranked and session-scoped search, load);
- validation: bad input raises `InvalidInput` before anything is written;
- fidelity: data comes back exactly (fresh copies, unknown fields, unicode, odd ids, large
  payloads, cosine scores, namespaces);
- concurrency: concurrent writers lose or mix nothing;
- honesty: capabilities, `info()` and the lifecycle are what they claim.
"""

FUNCTIONAL: dict[Kind, frozenset[str]] = {
    "checkpoint": frozenset(CHECKPOINT_OPERATIONS),
    "memory": frozenset(MEMORY_OPERATIONS),
}
"""Optional operations a store must all advertise (and pass) to reach level "full".

The others (durable, concurrent_writers, persistent, approximate) are properties: tested when
advertised, never required.
"""


@dataclass(frozen=True)
class Check:
    """One conformance check: what it is called, which kind and group it tests, and how."""

    name: str
    kind: Kind
    group: str
    """One of `GROUPS` (every store runs it) or the optional capability it is gated on."""
    doc: str
    """One line saying what a conforming store does."""
    fn: CheckFn

    @property
    def capability(self) -> str | None:
        """The capability the check is gated on; None when every store runs it."""
        return None if self.group in GROUPS else self.group

    @property
    def test_name(self) -> str:
        """The name of the generated pytest method."""
        return f"test_{self.name}"


_REGISTRY: dict[Kind, dict[str, Check]] = {"checkpoint": {}, "memory": {}}
_Group = Literal[
    "base",
    "validation",
    "fidelity",
    "concurrency",
    "honesty",
    "revisions",
    "ttl",
    "list_sessions",
    "prune",
    "durable",
    "concurrent_writers",
    "get",
    "forget",
    "save_many",
    "filter",
    "persistent",
    "approximate",
    "export",
]


def check(kind: Kind, group: _Group = "base") -> Callable[[CheckFn], CheckFn]:
    """Register an ``async def <name>(ctx)`` as a check; its docstring's first line is its doc.

    `group` is one of `GROUPS`, or the capability the check is gated on (run only when the
    store advertises it).
    """
    allowed = CHECKPOINT_CAPABILITIES if kind == "checkpoint" else MEMORY_CAPABILITIES
    if group not in GROUPS and group not in allowed:
        raise ValueError(f"{group!r} is neither a check group nor a {kind} capability")

    def register(fn: CheckFn) -> CheckFn:
        name = fn.__name__
        doc = inspect.getdoc(fn)
        if not doc:
            raise ValueError(f"check {name!r} needs a docstring (it is the check's description)")
        if name in _REGISTRY[kind]:
            raise ValueError(f"{kind} check {name!r} is registered twice")
        _REGISTRY[kind][name] = Check(
            name=name, kind=kind, group=group, doc=doc.splitlines()[0], fn=fn
        )
        return fn

    return register
