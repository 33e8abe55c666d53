"""`open_checkpoint` / `open_memory`: a store from a name or a URL, without I/O."""

from __future__ import annotations

from typing import Any, Self, cast

from .capabilities import Kind
from .errors import ConfigError
from .protocols import ManagedCheckpointStore, ManagedMemory
from .redact import redact_text, redact_url
from .registry import Factory, _find_factory
from .urls import backend_for_url, is_url

__all__ = ["LifecycleProxy", "backend_name", "open_checkpoint", "open_memory"]


def backend_name(target: str, kind: Kind) -> str:
    """The registry name a target resolves to (the name itself, or the URL's backend)."""
    if not isinstance(target, str) or not target:
        raise ConfigError(f"{kind} target must be a backend name or URL, got {target!r}")
    return backend_for_url(target, kind) if is_url(target) else target


def _build(kind: Kind, target: str, options: dict[str, Any]) -> Any:
    name = backend_name(target, kind)
    factory: Factory = _find_factory(kind, name)
    shown = redact_url(target) if is_url(target) else target
    try:
        if is_url(target):
            from_url = getattr(factory, "from_url", None)
            if from_url is None:
                raise ConfigError(f"{kind} backend {name!r} does not accept URLs ({shown})")
            store = from_url(target, **options)
        else:
            store = factory(**options)
    except TypeError as exc:
        # Wrong or unknown options: say which backend, never echo option values.
        raise ConfigError(
            f"bad options for {kind} backend {name!r} ({shown}): {redact_text(str(exc))}"
        ) from None
    required = ("put", "get", "delete") if kind == "checkpoint" else ("save", "search", "load")
    missing = [m for m in required if not callable(getattr(store, m, None))]
    if missing:
        raise ConfigError(
            f"{kind} backend {name!r} built {type(store).__name__}, "
            f"which lacks {', '.join(missing)}"
        )
    if all(callable(getattr(store, m, None)) for m in ("aclose", "__aenter__", "__aexit__")):
        return store
    return LifecycleProxy(store)


class LifecycleProxy:
    """A store without a lifecycle (e.g. three methods over a dict), given one.

    Code written against `open_*` can then use `async with` and `aclose` on every store.
    """

    def __init__(self, store: Any) -> None:
        self.wrapped = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)

    def __repr__(self) -> str:
        return repr(self.wrapped)

    async def aclose(self) -> None:
        """Nothing to release."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def open_checkpoint(target: str, **options: Any) -> ManagedCheckpointStore:
    """A checkpoint store for a registered name or a URL; connects on first use."""
    return cast(ManagedCheckpointStore, _build("checkpoint", target, options))


def open_memory(target: str, **options: Any) -> ManagedMemory:
    """A memory store for a registered name or a URL; connects on first use."""
    return cast(ManagedMemory, _build("memory", target, options))
