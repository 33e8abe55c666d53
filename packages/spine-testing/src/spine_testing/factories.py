"""`factory_for`: a store factory for a registered backend name or a URL (for `spine check`)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from spine_core import Kind, open_checkpoint, open_memory
from spine_core._opening import backend_name, unwrap
from spine_core._urls import is_url
from spine_core.registry import _find_factory

from .context import StoreFactory

__all__ = ["URL_ATTRIBUTE", "factory_for", "shared_factory", "target_url"]

URL_ATTRIBUTE = "spine_url"
"""The attribute `factory_for` sets on a factory for a URL target: the URL itself."""


def target_url(factory: StoreFactory) -> str | None:
    """The URL a factory opens (set by `factory_for`); None for an in-process factory."""
    url = getattr(factory, URL_ATTRIBUTE, None)
    return url if isinstance(url, str) else None


def _keywords(fn: Callable[..., Any], *, skip_first: bool) -> frozenset[str] | None:
    """Keyword options `fn` takes; None when it takes ``**kwargs`` (or cannot be inspected)."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return None
    if skip_first and params and params[0].kind is not inspect.Parameter.KEYWORD_ONLY:
        params = params[1:]  # from_url's url
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    return frozenset(
        p.name
        for p in params
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    )


def factory_for(target: str, kind: Kind) -> StoreFactory:
    """``lambda **options: open_<kind>(target, **options)``, minus options the backend lacks.

    A store `open_*` puts in a validating wrapper comes out unwrapped: its level is its own.

    The kit passes options such as ``namespace=`` or ``default_ttl=``; a backend that does not
    take one would fail to open, so unknown options are dropped here, and the returned
    factory's signature lists only the options it honours (the kit reads it to know whether it
    can isolate checks by namespace). Resolving the name imports the plugin; nothing connects.
    """
    name = backend_name(target, kind)
    raw = _find_factory(kind, name)
    accepted: frozenset[str] | None
    if is_url(target):
        from_url = getattr(raw, "from_url", None)
        accepted = None if from_url is None else _keywords(from_url, skip_first=True)
        if accepted is None:  # from_url(url, **config) forwards to the constructor
            accepted = _keywords(raw, skip_first=False)
    else:
        accepted = _keywords(raw, skip_first=False)
    opener = open_checkpoint if kind == "checkpoint" else open_memory

    def factory(**options: Any) -> Any:
        kept = options if accepted is None else {k: v for k, v in options.items() if k in accepted}
        # The kit measures the store itself, not the validation open_* adds around it.
        return unwrap(opener(target, **kept))

    if accepted is None:
        params = [inspect.Parameter("options", inspect.Parameter.VAR_KEYWORD)]
    else:
        params = [
            inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=None)
            for n in sorted(accepted)
        ]
    setattr(factory, "__signature__", inspect.Signature(params))  # noqa: B010
    factory.__qualname__ = factory.__name__ = f"factory_for({name!r}, {kind!r})"
    if is_url(target):
        # Checks that need other processes (cas_across_processes) reopen the store by URL.
        setattr(factory, URL_ATTRIBUTE, target)
    return factory


def shared_factory(cls: Callable[..., Any]) -> StoreFactory:
    """A factory for in-process stores that honours "equal options → the same data".

    Each distinct set of options builds one store; asking again with the same options hands
    back that store, as reopening a file or a server would.
    """
    instances: dict[str, Any] = {}

    def factory(**options: Any) -> Any:
        key = repr(sorted(options.items()))
        if key not in instances:
            instances[key] = cls(**options)
        return instances[key]

    return factory
