"""Running one check: the code path shared by the pytest face and the runner."""

from __future__ import annotations

import asyncio

from spine_core import Kind

from ._check import Check
from .context import CheckContext, Target
from .expect import CheckFailed, NotAdvertised

__all__ = ["execute", "infer_kind"]


async def execute(check: Check, target: Target, *, check_timeout: float) -> list[str]:
    """Run `check` against `target`; return its notes, or raise.

    Raises `NotAdvertised`/`CheckSkipped` when it cannot run, `CheckFailed` (an AssertionError)
    or the store's own exception when the store fails it. Cleans up in every case.
    """
    ctx = CheckContext(target, check)
    deadline = asyncio.timeout(check_timeout)
    try:
        async with deadline:
            caps = await ctx.load_capabilities()
            if check.capability is not None and not getattr(caps, check.capability, False):
                raise NotAdvertised(check.capability)
            await check.fn(ctx)
    except TimeoutError as exc:
        if deadline.expired():
            raise CheckFailed(f"timed out after {check_timeout:g}s") from exc
        raise
    finally:
        await ctx.cleanup()
    return ctx.notes


def infer_kind(store: object) -> Kind:
    """Which kind of store this is: from its capabilities, its `kind`, or its methods."""
    from spine_core import CheckpointCapabilities, ConfigError, MemoryCapabilities

    caps = getattr(store, "capabilities", None)
    if isinstance(caps, CheckpointCapabilities):
        return "checkpoint"
    if isinstance(caps, MemoryCapabilities):
        return "memory"
    kind = getattr(store, "kind", None)
    if kind in ("checkpoint", "memory"):
        return "checkpoint" if kind == "checkpoint" else "memory"

    def has(*names: str) -> bool:
        return all(callable(getattr(store, n, None)) for n in names)

    if has("put", "get", "delete"):
        return "checkpoint"
    if has("save", "search", "load"):
        return "memory"
    raise ConfigError(
        f"cannot tell whether {type(store).__name__} is a checkpoint store or a memory: "
        "pass kind='checkpoint' or kind='memory'"
    )
