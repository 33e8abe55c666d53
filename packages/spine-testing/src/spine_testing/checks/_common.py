"""Check bodies shared by both kinds: capability honesty, identity and lifecycle."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from spine_core import (
    CheckpointCapabilities,
    ConfigError,
    Health,
    MemoryCapabilities,
    StoreInfo,
    UnsupportedCapability,
)
from spine_core.registry import _find_factory
from spine_core.spi import check_spi_version
from spine_testing.context import CheckContext
from spine_testing.expect import CheckFailed, describe, expect, expect_equal

__all__ = [
    "accepts_keywords",
    "capabilities_descriptor",
    "info_and_registration",
    "lifecycle",
    "must_refuse",
]


def accepts_keywords(fn: Callable[..., Any], names: Mapping[str, object]) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return True
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return True
    accepted = {
        p.name
        for p in params
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    }
    return set(names) <= accepted


async def must_refuse(
    store: Any,
    method: str,
    args: tuple[object, ...],
    kwargs: Mapping[str, object],
    capability: str,
) -> None:
    """An unadvertised operation raises `UnsupportedCapability` (absent or un-callable is fine).

    A method that does not exist, or a keyword the signature does not take, cannot silently
    succeed (Python raises), so only an operation that would run is called.
    """
    fn = getattr(store, method, None)
    if not callable(fn) or not accepts_keywords(fn, kwargs):
        return
    call = f"{method}({', '.join([*map(repr, args), *(f'{k}=…' for k in kwargs)])})"[:120]
    try:
        await fn(*args, **kwargs)
    except UnsupportedCapability:
        return
    except Exception as exc:
        raise CheckFailed(
            f"{call} on a store that does not advertise {capability!r} raised {describe(exc)}; "
            "expected UnsupportedCapability"
        ) from exc
    raise CheckFailed(
        f"{call} succeeded although {capability!r} is not advertised: advertise the capability "
        "or raise UnsupportedCapability (a silent no-op hides a missing feature)"
    )


async def capabilities_descriptor(
    ctx: CheckContext,
    expected: type[CheckpointCapabilities] | type[MemoryCapabilities],
    operations: Mapping[str, tuple[str, str | None]],
) -> None:
    """`capabilities` is the kind's frozen descriptor, and each advertised operation exists."""
    store = await ctx.store()
    caps = getattr(store, "capabilities", None)
    if caps is None:
        ctx.note("no `capabilities` attribute: treated as base-only")
        return
    expect(
        isinstance(caps, expected),
        f"capabilities must be a {expected.__name__}, got {type(caps).__name__} "
        "(anything else is read as base-only, silently)",
    )
    expect(
        isinstance(caps, BaseModel) and caps.model_config.get("frozen") is True,
        "capabilities must be frozen",
    )
    name = expected.optional_names()[0]
    before = getattr(caps, name)
    try:
        setattr(caps, name, not before)
    except (ValidationError, TypeError, AttributeError):
        pass
    else:
        object.__setattr__(caps, name, before)
        raise CheckFailed("capabilities can be modified at run time; it must be frozen")
    for capability, (method, keyword) in operations.items():
        if not getattr(caps, capability):
            continue
        fn = getattr(store, method, None)
        expect(
            callable(fn),
            f"{capability!r} is advertised but the store has no {method}() method",
        )
        if keyword is not None and fn is not None:
            expect(
                accepts_keywords(fn, {keyword: None}),
                f"{capability!r} is advertised but {method}() takes no {keyword}= argument",
            )


async def info_and_registration(ctx: CheckContext) -> None:
    """`info()`/`health()` describe the store, and its backend name resolves in the registry."""
    store = await ctx.store()
    info_fn = getattr(store, "info", None)
    if not callable(info_fn):
        ctx.note("no info(): nothing to describe")
        return
    info = info_fn()
    expect(isinstance(info, StoreInfo), f"info() must return a StoreInfo, got {info!r:.80}")
    expect(ctx.kind in info.kinds, f"info().kinds {info.kinds} lacks {ctx.kind!r}")
    try:
        check_spi_version(info.spi_version, owner=type(store).__name__)
    except ConfigError as exc:
        raise CheckFailed(f"info().spi_version: {exc}") from exc
    declared = getattr(type(store), "SPI_VERSION", None)
    if declared is not None:
        expect_equal(info.spi_version, declared, "info().spi_version vs the class's SPI_VERSION")
    if info.name and info.name != "unknown":
        try:
            factory = _find_factory(ctx.kind, info.name)
        except ConfigError as exc:
            raise CheckFailed(
                f"backend {info.name!r} (info().name) is not registered: register it or declare "
                f"a 'spine.plugins' entry point '{info.name}.{ctx.kind}' ({exc})"
            ) from exc
        if isinstance(factory, type):
            expect(
                isinstance(store, factory),
                f"the registry maps {info.name!r} to {factory.__qualname__}, "
                f"not to {type(store).__qualname__}",
            )
    else:
        ctx.note("no backend name: registration not checked")
    health_fn = getattr(store, "health", None)
    if callable(health_fn):
        health = await health_fn()
        expect(isinstance(health, Health), f"health() must return a Health, got {health!r:.80}")
        expect(health.ok, f"health() of a working store is not ok: {health.error}")


async def lifecycle(ctx: CheckContext, use: Callable[[Any], Awaitable[None]]) -> None:
    """`async with` opens and closes; `aclose` is idempotent; a closed store reopens on use."""
    store = await ctx.store()
    has_aclose = callable(getattr(store, "aclose", None))
    has_context = callable(getattr(store, "__aenter__", None)) and callable(
        getattr(store, "__aexit__", None)
    )
    if not has_aclose and not has_context:
        ctx.note("no aclose()/async with: nothing to close")
        await use(store)
        return
    expect(has_aclose, "the store is an async context manager but has no aclose()")
    expect(has_context, "the store has aclose() but is not an async context manager")
    fresh = await ctx.store()
    await fresh.aclose()  # closing a store that never connected is harmless
    async with store as entered:
        expect(entered is store, "`async with store as s` must bind the store itself")
        await use(store)
    await use(store)  # a closed store reconnects when used again
    await store.aclose()
    await store.aclose()  # idempotent
