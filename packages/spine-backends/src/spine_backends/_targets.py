"""Which kinds a target (a backend name or a URL) offers, and importing user plugins."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any, TypeVar, get_args
from urllib.parse import urlsplit

from spine_core import (
    ConfigError,
    Kind,
    list_checkpoints,
    list_memories,
    register_checkpoint,
    register_memory,
)
from spine_core._opening import backend_name
from spine_core._redact import redact_text, redact_url
from spine_core._urls import is_url
from spine_core.registry import _find_factory

__all__ = [
    "KINDS",
    "ensure_parent_dir",
    "import_modules",
    "location",
    "opened",
    "register_plugin",
    "resolve_kinds",
    "shown",
]

T = TypeVar("T")
KINDS: tuple[Kind, ...] = get_args(Kind)


def shown(target: str) -> str:
    """A target as it may be printed (URL passwords and secret parameters redacted)."""
    if not is_url(target):
        return redact_text(target)  # a key=value DSN given as a target carries its password
    if not urlsplit(target).netloc:
        # No user info to hide; redact_url would also drop the empty authority ("memory:").
        return redact_text(target)
    return redact_url(target)


def _offered(target: str) -> list[Kind]:
    # Reads the registry and entry-point metadata only: imports no plugin.
    kinds: list[Kind] = []
    for kind in KINDS:
        try:
            name = backend_name(target, kind)
        except ConfigError:  # this URL scheme serves no such kind
            continue
        if name in (list_checkpoints() if kind == "checkpoint" else list_memories()):
            kinds.append(kind)
    return kinds


def _resolve(target: str, kind: Kind) -> None:
    # Imports the plugin that provides the name (a self-registering one registers it now).
    _find_factory(kind, backend_name(target, kind))


def resolve_kinds(target: str, kind: Kind | None = None) -> list[Kind]:
    """The kinds to run against `target`: `kind`, or every kind its backend offers.

    Raises `ConfigError` with the registry's own message (what is installed, what to
    `pip install`) when the target offers nothing.
    """
    if kind is not None:
        _resolve(target, kind)
        return [kind]
    kinds = _offered(target)
    if kinds:
        return kinds
    errors: list[str] = []
    for candidate in KINDS:
        try:
            _resolve(target, candidate)
        except ConfigError as exc:
            errors.append(str(exc))
        else:  # registered meanwhile (e.g. by a self-registering plugin, maybe both kinds)
            return _offered(target) or [candidate]
    # Prefer the message that says what to install over "unknown scheme for this kind".
    raise ConfigError(next((e for e in errors if "pip install" in e), errors[0]))


def import_modules(modules: Iterable[str]) -> None:
    """Import user modules so their `register_checkpoint(...)` calls run."""
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise ConfigError(f"cannot import {module!r}: {exc}") from None


def _kind_of(factory: Any) -> Kind:
    declared = getattr(factory, "kind", None)
    if declared in KINDS:
        return declared  # type: ignore[no-any-return]
    if all(callable(getattr(factory, m, None)) for m in ("put", "get", "delete")):
        return "checkpoint"
    if all(callable(getattr(factory, m, None)) for m in ("save", "search", "load")):
        return "memory"
    raise ConfigError(
        f"{factory!r} is neither a checkpoint store (put/get/delete) "
        "nor a memory store (save/search/load)"
    )


def register_plugin(spec: str, name: str) -> Kind:
    """Import `module:attr` and register the factory it names under `name`; return its kind."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not attr:
        raise ConfigError(f"--plugin expects module:attr, got {spec!r} (use --import MODULE)")
    if is_url(name):
        raise ConfigError(f"--plugin registers a backend name; {shown(name)!r} is a URL")
    import_modules([module_name])
    module = importlib.import_module(module_name)
    try:
        factory = getattr(module, attr)
    except AttributeError:
        raise ConfigError(f"module {module_name!r} has no attribute {attr!r}") from None
    kind = _kind_of(factory)
    (register_checkpoint if kind == "checkpoint" else register_memory)(name, factory)
    return kind


def location(target: str) -> str:
    """Where a target keeps its data, for people: an absolute path, a redacted URL, or memory."""
    from pathlib import Path

    from spine_core._urls import embedded_path
    from spine_core.spi import scheme_storage

    if not is_url(target):
        return f"the {target!r} backend's default location"
    storage = scheme_storage(target.partition("://")[0])
    if storage == "file":
        path = embedded_path(target)
        return "memory (gone when the process exits)" if path is None else str(Path(path).resolve())
    if storage == "in-process":
        return "memory (gone when the process exits)"
    return redact_url(target)


def ensure_parent_dir(target: str) -> None:
    """Create the directory an embedded SQLite database will live in."""
    from pathlib import Path

    from spine_core._urls import embedded_path

    if is_url(target) and target.partition("://")[0].lower() == "sqlite":
        path = embedded_path(target)
        if path is not None:
            Path(path).resolve().parent.mkdir(parents=True, exist_ok=True)


@asynccontextmanager
async def opened(store: T) -> AsyncIterator[T]:
    """Close `store` (if it has `aclose`) when the block ends."""
    try:
        yield store
    finally:
        aclose = getattr(store, "aclose", None)
        if callable(aclose):
            await aclose()
