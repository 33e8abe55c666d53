"""The check registry: every conformance check, defined once, run by every face of the kit.

A check is a plain ``async def name(ctx) -> None`` that raises on a violation. The pytest
base classes generate one ``test_<name>`` per check and the runner iterates the same list, so
``pytest`` and ``spine check`` execute identical code.
"""

from __future__ import annotations

from spine_core import Kind

from ._check import (
    _REGISTRY,
    CHECKPOINT_CAPABILITIES,
    FUNCTIONAL,
    GROUPS,
    MEMORY_CAPABILITIES,
    Check,
    CheckFn,
    check,
)

__all__ = [
    "CHECKPOINT_CAPABILITIES",
    "FUNCTIONAL",
    "GROUPS",
    "MEMORY_CAPABILITIES",
    "Check",
    "CheckFn",
    "check",
    "get_check",
    "list_checks",
]


def _load() -> None:
    # The check modules register themselves on import.
    from .checks import checkpoint, memory  # noqa: F401


def list_checks(kind: Kind | None = None) -> tuple[Check, ...]:
    """Every registered check (of one kind, or all), in definition order."""
    _load()
    kinds: tuple[Kind, ...] = (kind,) if kind is not None else ("checkpoint", "memory")
    return tuple(c for k in kinds for c in _REGISTRY[k].values())


def get_check(kind: Kind, name: str) -> Check:
    """The check of `kind` called `name`; `KeyError` listing the valid names when unknown."""
    _load()
    try:
        return _REGISTRY[kind][name]
    except KeyError:
        known = ", ".join(_REGISTRY[kind])
        raise KeyError(f"no {kind} check named {name!r}; known: {known}") from None
