"""Named backends: explicit registration plus lazy discovery of `spine.plugins` entry points.

An entry point is named `<backend>.<kind>`, e.g.
`redis.checkpoint = "spine_backend_redis.checkpoint:RedisCheckpoint"`, so listing what is
installed reads package metadata only and imports nothing; a plugin is imported the first
time its name is resolved.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata as importlib_metadata
from typing import Any

from .capabilities import Kind
from .errors import ConfigError
from .redact import redact_text
from .spi import check_spi_version

__all__ = [
    "ENTRY_POINT_GROUP",
    "INSTALL_HINTS",
    "Factory",
    "PluginInfo",
    "list_checkpoints",
    "list_memories",
    "list_plugins",
    "refresh_plugins",
    "register_checkpoint",
    "register_memory",
    "resolve_checkpoint",
    "resolve_memory",
    "unregister",
]

ENTRY_POINT_GROUP = "spine.plugins"
KINDS: tuple[Kind, ...] = ("checkpoint", "memory")

Factory = Callable[..., Any]
"""Anything that builds a store from keyword options: usually the store class itself."""

INSTALL_HINTS: dict[str, str] = {
    "sqlite": "spine-backends",
    "redis": "spine-backends[redis]",
    "postgres": "spine-backends[postgres]",
    "pgvector": "spine-backends[postgres]",
    "qdrant": "spine-backends[qdrant]",
}
"""Which distribution provides each first-party backend, for install hints on a miss."""

_KNOWN_KINDS: dict[str, tuple[Kind, ...]] = {
    "sqlite": ("checkpoint", "memory"),
    "redis": ("checkpoint", "memory"),
    "postgres": ("checkpoint", "memory"),
    "pgvector": ("memory",),
    "qdrant": ("memory",),
}

_lock = threading.RLock()
_registered: dict[Kind, dict[str, Factory]] = {"checkpoint": {}, "memory": {}}
_entry_points: dict[tuple[str, Kind], importlib_metadata.EntryPoint] | None = None
_load_errors: dict[tuple[str, Kind], str] = {}


@dataclass(frozen=True)
class PluginInfo:
    """One backend as `spine plugin list` shows it."""

    name: str
    kinds: tuple[Kind, ...]
    distribution: str | None
    version: str | None
    spi: str | None
    """The SPI the plugin declares (once loaded) or the spine-core range it requires."""
    status: str
    """'registered', 'not loaded', 'loaded' or 'error: …'."""


def _validate_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"backend name must be a non-empty str, got {name!r}")
    if name != name.strip() or any(c in name for c in ":/ \t\n"):
        # Never echo it whole: a libpq key=value DSN passed as a target carries its password.
        hint = "; for PostgreSQL use a postgresql:// URL" if "=" in name else ""
        raise ConfigError(
            f"backend name {redact_text(name)!r} must not contain spaces, ':' or '/'{hint}"
        )
    return name


def _register(kind: Kind, name: str, factory: Factory, replace: bool) -> None:
    name = _validate_name(name)
    if not callable(factory):
        raise ConfigError(f"{kind} factory for {name!r} must be callable, got {factory!r}")
    spi = getattr(factory, "SPI_VERSION", None)
    if spi is not None:
        check_spi_version(spi, owner=f"{kind} backend {name!r} ({_qualname(factory)})")
    with _lock:
        existing = _registered[kind].get(name)
        if existing is not None and existing is not factory and not replace:
            raise ConfigError(
                f"{kind} backend {name!r} is already registered to {_qualname(existing)}; "
                f"refusing to replace it with {_qualname(factory)} (pass replace=True)"
            )
        _registered[kind][name] = factory


def register_checkpoint(name: str, factory: Factory, *, replace: bool = False) -> None:
    """Register a checkpoint store factory under `name`."""
    _register("checkpoint", name, factory, replace)


def register_memory(name: str, factory: Factory, *, replace: bool = False) -> None:
    """Register a memory store factory under `name`."""
    _register("memory", name, factory, replace)


def unregister(kind: Kind, name: str) -> None:
    """Forget a registration (for tests and plugin reloads); a no-op when absent."""
    with _lock:
        _registered[kind].pop(name, None)


def _qualname(obj: object) -> str:
    module = getattr(obj, "__module__", None)
    qual = getattr(obj, "__qualname__", None) or type(obj).__qualname__
    return f"{module}.{qual}" if module else str(qual)


def _discover() -> dict[tuple[str, Kind], importlib_metadata.EntryPoint]:
    global _entry_points
    with _lock:
        if _entry_points is None:
            found: dict[tuple[str, Kind], importlib_metadata.EntryPoint] = {}
            for ep in importlib_metadata.entry_points(group=ENTRY_POINT_GROUP):
                name, _, kind = ep.name.rpartition(".")
                if name and kind in KINDS:
                    found[(name, kind)] = ep
            _entry_points = found
        return _entry_points


def refresh_plugins() -> None:
    """Forget discovered entry points so newly installed plugins are seen."""
    global _entry_points
    with _lock:
        _entry_points = None
        _load_errors.clear()


def _load(kind: Kind, name: str) -> Factory | None:
    ep = _discover().get((name, kind))
    if ep is None:
        return None
    try:
        factory = ep.load()
    except ImportError as exc:
        hint = INSTALL_HINTS.get(name)
        message = f"{kind} backend {name!r} is installed but cannot be imported: {exc}"
        if hint:
            message += f'; reinstall it with: pip install "{hint}"'
        _load_errors[(name, kind)] = str(exc)
        raise ConfigError(message) from exc
    spi = getattr(factory, "SPI_VERSION", None)
    dist = ep.dist.name if ep.dist else "an unknown distribution"
    try:
        check_spi_version(spi, owner=f"{kind} backend {name!r} from {dist}")
    except ConfigError as exc:
        _load_errors[(name, kind)] = str(exc)
        raise
    with _lock:
        # An explicit registration made meanwhile wins over the entry point.
        return _registered[kind].setdefault(name, factory)


def _resolve(kind: Kind, name: str) -> Factory:
    name = _validate_name(name)
    with _lock:
        factory = _registered[kind].get(name)
    if factory is None:
        factory = _load(kind, name)
    if factory is None:
        raise ConfigError(_miss_message(kind, name))
    return factory


def _miss_message(kind: Kind, name: str) -> str:
    available = _names(kind)
    other: Kind = "memory" if kind == "checkpoint" else "checkpoint"
    offers_other = name in _names(other) or other in _KNOWN_KINDS.get(name, ())
    offers_this = kind in _KNOWN_KINDS.get(name, ())
    listing = ", ".join(available) or "none"
    if offers_other and not offers_this:
        return (
            f"backend {name!r} keeps no {kind} data (it offers {other} only). "
            f"{kind.capitalize()} backends available: {listing}"
        )
    message = f"no {kind} backend named {name!r}. Installed {kind} backends: {listing}"
    hint = INSTALL_HINTS.get(name)
    if hint:
        message += f'. Install it with: pip install "{hint}"'
    else:
        message += (
            ". Register one with register_"
            + ("checkpoint" if kind == "checkpoint" else "memory")
            + f"({name!r}, factory) or install a package that provides it"
        )
    return message


def resolve_checkpoint(name: str) -> Factory:
    """The checkpoint factory registered (or installed) under `name`; `ConfigError` on a miss."""
    return _resolve("checkpoint", name)


def resolve_memory(name: str) -> Factory:
    """The memory factory registered (or installed) under `name`; `ConfigError` on a miss."""
    return _resolve("memory", name)


def _names(kind: Kind) -> list[str]:
    with _lock:
        names = set(_registered[kind])
    names.update(n for (n, k) in _discover() if k == kind)
    return sorted(names)


def list_checkpoints() -> list[str]:
    """Names of registered and installed checkpoint backends (imports nothing)."""
    return _names("checkpoint")


def list_memories() -> list[str]:
    """Names of registered and installed memory backends (imports nothing)."""
    return _names("memory")


def _requires_core(dist: importlib_metadata.Distribution | None) -> str | None:
    if dist is None:
        return None
    for req in dist.requires or ():
        head = req.split(";")[0].strip()
        if head.startswith("spine-core"):
            spec = head[len("spine-core") :].strip().strip("()")
            return f"spine-core{spec}" if spec else "spine-core"
    if dist.name == "spine-core":
        from .spi import SPI_VERSION

        return SPI_VERSION
    return None


def list_plugins() -> list[PluginInfo]:
    """Every backend by name, with its kinds, distribution and status (imports nothing)."""
    rows: dict[str, dict[str, Any]] = {}
    for (name, kind), ep in sorted(_discover().items()):
        row = rows.setdefault(name, {"kinds": [], "eps": []})
        row["kinds"].append(kind)
        row["eps"].append(ep)
    with _lock:
        registered = {k: dict(v) for k, v in _registered.items()}
    for kind, factories in registered.items():
        for name in factories:
            row = rows.setdefault(name, {"kinds": [], "eps": []})
            if kind not in row["kinds"]:
                row["kinds"].append(kind)
    out = []
    for name, row in sorted(rows.items()):
        eps: list[importlib_metadata.EntryPoint] = row["eps"]
        dist = eps[0].dist if eps else None
        kinds = tuple(k for k in KINDS if k in row["kinds"])
        errors = [_load_errors[(name, k)] for k in kinds if (name, k) in _load_errors]
        loaded = [registered[k][name] for k in kinds if name in registered[k]]
        spi = next((getattr(f, "SPI_VERSION", None) for f in loaded), None) or _requires_core(dist)
        if errors:
            status = "error: " + errors[0]
        elif not eps:
            status = "registered"
        elif loaded or any(ep.module in sys.modules for ep in eps):
            status = "loaded"
        else:
            status = "not loaded"
        out.append(
            PluginInfo(
                name=name,
                kinds=kinds,
                distribution=dist.name if dist else None,
                version=dist.version if dist else None,
                spi=spi,
                status=status,
            )
        )
    return out
