"""Named backends: explicit registration plus lazy discovery of `spine.plugins` entry points.

Two entry-point forms are read:

- `<backend>.<kind>`, e.g. `redis.checkpoint = "spine_backend_redis.checkpoint:RedisCheckpoint"`:
  the value is the factory; its name says the backend and kind before anything is imported.
- a plain name whose value is a module or `module:attr` that registers its backends with
  `register_checkpoint` / `register_memory` when imported (spinekit's plugin form); its kinds
  are known once it has been imported.

Listing what is installed reads package metadata only and imports nothing; a plugin is
imported the first time a name it may provide is resolved.
"""

from __future__ import annotations

import difflib
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import metadata as importlib_metadata
from typing import Any, cast

from . import _backends
from ._backends import install_hint, known_kinds, plugin_schemes, refresh_schemes
from ._capabilities import Kind
from ._options import bind_options
from ._protocols import CheckpointStore, Memory
from ._redact import redact_text
from ._spi_version import check_spi_version
from .errors import ConfigError

__all__ = [
    "ENTRY_POINT_GROUP",
    "INSTALL_HINTS",
    "CheckpointFactory",
    "Factory",
    "MemoryFactory",
    "PluginInfo",
    "list_checkpoints",
    "list_memories",
    "list_plugins",
    "refresh_plugins",
    "register_checkpoint",
    "register_memory",
    "resolve_checkpoint",
    "resolve_memory",
    "suggest",
    "unregister",
]

ENTRY_POINT_GROUP = "spine.plugins"
KINDS: tuple[Kind, ...] = ("checkpoint", "memory")

Factory = Callable[..., Any]
"""Anything that builds a store from keyword options: usually the store class itself."""
CheckpointFactory = Callable[..., CheckpointStore]
"""A factory of checkpoint stores (spinekit's name)."""
MemoryFactory = Callable[..., Memory]
"""A factory of memory stores (spinekit's name)."""

INSTALL_HINTS: dict[str, str] = {
    row.name: row.install for row in _backends.BACKENDS.values() if row.install is not None
}
"""Which distribution provides each first-party backend (a snapshot of the backend table)."""

_lock = threading.RLock()
_plain_lock = threading.Lock()
_registered: dict[Kind, dict[str, Factory]] = {"checkpoint": {}, "memory": {}}
_entry_points: dict[tuple[str, Kind], importlib_metadata.EntryPoint] | None = None
_plain_entry_points: dict[str, importlib_metadata.EntryPoint] | None = None
_load_errors: dict[tuple[str, Kind], str] = {}
_plain_errors: dict[str, str] = {}
"""Plain entry points whose import failed: entry-point name → the error."""
_plain_loaded: dict[str, frozenset[tuple[str, Kind]]] = {}
"""Plain entry points imported: entry-point name → the (backend, kind) pairs it registered."""


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
    """'registered', 'not loaded', 'loaded', 'not installed' or 'error: …'."""
    kinds_known: bool = True
    """False for a self-registering plugin not imported yet: its kinds show once it is."""
    schemes: tuple[str, ...] = ()
    """URL schemes that open it: the backend table's, or the plugin's `spine.schemes`."""
    install: str | None = None
    """What to `pip install` for it, for a first-party backend."""


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
    """Register a checkpoint store factory under `name`.

    Registering the same factory again is harmless; a different one needs `replace=True`.
    """
    _register("checkpoint", name, factory, replace)


def register_memory(name: str, factory: Factory, *, replace: bool = False) -> None:
    """Register a memory store factory under `name`.

    Registering the same factory again is harmless; a different one needs `replace=True`.
    """
    _register("memory", name, factory, replace)


def unregister(kind: Kind, name: str) -> None:
    """Forget a registration (for tests and plugin reloads); a no-op when absent."""
    with _lock:
        _registered[kind].pop(name, None)


def _qualname(obj: object) -> str:
    module = getattr(obj, "__module__", None)
    qual = getattr(obj, "__qualname__", None) or type(obj).__qualname__
    return f"{module}.{qual}" if module else str(qual)


def _scan() -> None:
    global _entry_points, _plain_entry_points
    keyed: dict[tuple[str, Kind], importlib_metadata.EntryPoint] = {}
    plain: dict[str, importlib_metadata.EntryPoint] = {}
    for ep in importlib_metadata.entry_points(group=ENTRY_POINT_GROUP):
        name, _, kind = ep.name.rpartition(".")
        if name and kind in KINDS:
            keyed.setdefault((name, kind), ep)
        else:
            plain.setdefault(ep.name, ep)
    if _entry_points is None:
        _entry_points = keyed
    if _plain_entry_points is None:
        _plain_entry_points = plain


def _discover() -> dict[tuple[str, Kind], importlib_metadata.EntryPoint]:
    with _lock:
        if _entry_points is None:
            _scan()
        assert _entry_points is not None
        return _entry_points


def _discover_plain() -> dict[str, importlib_metadata.EntryPoint]:
    with _lock:
        if _plain_entry_points is None:
            _scan()
        assert _plain_entry_points is not None
        return _plain_entry_points


def refresh_plugins() -> None:
    """Forget discovered entry points so newly installed plugins are seen."""
    global _entry_points, _plain_entry_points
    refresh_schemes()
    with _lock:
        _entry_points = None
        _plain_entry_points = None
        _load_errors.clear()
        _plain_errors.clear()
        _plain_loaded.clear()


def _dist_name(ep: importlib_metadata.EntryPoint) -> str:
    return ep.dist.name if ep.dist else "an unknown distribution"


def _load(kind: Kind, name: str) -> Factory | None:
    ep = _discover().get((name, kind))
    if ep is None:
        return None
    try:
        factory = ep.load()
    except ImportError as exc:
        hint = install_hint(name)
        message = f"{kind} backend {name!r} is installed but cannot be imported: {exc}"
        if hint:
            message += f'; reinstall it with: pip install "{hint}"'
        _load_errors[(name, kind)] = str(exc)
        raise ConfigError(message) from exc
    spi = getattr(factory, "SPI_VERSION", None)
    try:
        check_spi_version(spi, owner=f"{kind} backend {name!r} from {_dist_name(ep)}")
    except ConfigError as exc:
        _load_errors[(name, kind)] = str(exc)
        raise
    with _lock:
        # An explicit registration made meanwhile wins over the entry point.
        return _registered[kind].setdefault(name, factory)


def _registrations() -> set[tuple[str, Kind]]:
    return {(name, kind) for kind in KINDS for name in _registered[kind]}


def _load_plain(ep: importlib_metadata.EntryPoint, *, strict: bool) -> None:
    """Import a self-registering plugin once; `strict` raises its import error as `ConfigError`."""
    # Plugin imports are serialized by their own lock, not `_lock`: a module registering
    # itself while another thread imports it must be able to take `_lock`.
    with _plain_lock:
        with _lock:
            attempted = ep.name in _plain_loaded or ep.name in _plain_errors
            before = _registrations()
        if not attempted:
            try:
                ep.load()
            except Exception as exc:  # a plugin's import may fail in any way: report it
                with _lock:
                    _plain_errors[ep.name] = f"{type(exc).__name__}: {exc}"
            else:
                with _lock:
                    _plain_loaded[ep.name] = frozenset(_registrations() - before)
    with _lock:
        error = _plain_errors.get(ep.name)
    if error is not None and strict:
        raise ConfigError(
            f"plugin {ep.name!r} ({ep.value}) from {_dist_name(ep)} cannot be imported: {error}"
        )


def _find_factory(kind: Kind, name: str) -> Factory:
    """The factory for `name`: registered, else from entry points; `ConfigError` on a miss.

    Order on a miss: the `<name>.<kind>` entry point, then a self-registering plugin called
    `name`, then every other self-registering plugin (any of them may register any name).
    """
    name = _validate_name(name)
    with _lock:
        factory = _registered[kind].get(name)
    if factory is not None:
        return factory
    factory = _load(kind, name)
    if factory is not None:
        return factory
    plain = _discover_plain()
    own = plain.get(name)
    if own is not None:
        _load_plain(own, strict=True)
        with _lock:
            factory = _registered[kind].get(name)
        if factory is not None:
            return factory
    for ep in list(plain.values()):
        if ep is not own:
            _load_plain(ep, strict=False)
    with _lock:
        factory = _registered[kind].get(name)
    if factory is None:
        raise ConfigError(_miss_message(kind, name))
    return factory


def suggest(word: str, candidates: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for the closest candidate, or an empty string."""
    close = difflib.get_close_matches(word, sorted(set(candidates)), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _miss_message(kind: Kind, name: str) -> str:
    available = _names(kind)
    other: Kind = "memory" if kind == "checkpoint" else "checkpoint"
    offers_other = name in _names(other) or other in known_kinds(name)
    offers_this = kind in known_kinds(name)
    listing = ", ".join(available) or "none"
    if offers_other and not offers_this:
        return (
            f"backend {name!r} keeps no {kind} data (it offers {other} only). "
            f"{kind.capitalize()} backends available: {listing}"
        )
    known = [n for n, row in _backends.BACKENDS.items() if kind in row.kinds]
    message = (
        f"no {kind} backend named {name!r}{suggest(name, [*available, *known])}. "
        f"Installed {kind} backends: {listing}"
    )
    hint = install_hint(name)
    if hint:
        message += f'. Install it with: pip install "{hint}"'
    else:
        message += (
            f". Register one with register_{kind}({name!r}, factory) "
            "or install a package that provides it"
        )
    with _lock:
        broken = sorted(_plain_errors.items())
    if broken:
        message += "; plugins that failed to import: " + "; ".join(
            f"{ep_name} ({redact_text(error)})" for ep_name, error in broken
        )
    return message


def _build(kind: Kind, name: str, config: dict[str, Any]) -> Any:
    factory = _find_factory(kind, name)
    _backends.check_drivers(name, factory)  # a missing driver: the install line, not a traceback
    # Wrong or unknown options are refused by the signature before the call; a TypeError
    # raised inside the factory is its own bug and propagates unchanged.
    bind_options(factory, (), config, what=f"{kind} backend {name!r}")
    return factory(**config)


def resolve_checkpoint(name: str, **config: Any) -> CheckpointStore:
    """A checkpoint store built by the factory registered (or installed) under `name`.

    `config` is passed to the factory; `ConfigError` on an unknown name or bad options.
    """
    return cast(CheckpointStore, _build("checkpoint", name, config))


def resolve_memory(name: str, **config: Any) -> Memory:
    """A memory store built by the factory registered (or installed) under `name`.

    `config` is passed to the factory; `ConfigError` on an unknown name or bad options.
    """
    return cast(Memory, _build("memory", name, config))


def _names(kind: Kind) -> list[str]:
    with _lock:
        names = set(_registered[kind])
    names.update(n for (n, k) in _discover() if k == kind)
    return sorted(names)


def list_checkpoints() -> list[str]:
    """Names of registered and installed checkpoint backends (imports nothing).

    A self-registering plugin's names appear once it has been imported.
    """
    return _names("checkpoint")


def list_memories() -> list[str]:
    """Names of registered and installed memory backends (imports nothing).

    A self-registering plugin's names appear once it has been imported.
    """
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
        from ._spi_version import SPI_VERSION

        return SPI_VERSION
    return None


@dataclass
class _Row:
    kinds: set[Kind] = field(default_factory=set)
    eps: list[importlib_metadata.EntryPoint] = field(default_factory=list)
    unknown: bool = False
    errors: list[str] = field(default_factory=list)
    loaded: bool = False
    missing: bool = False


def _from_module(factory: Factory, module: str) -> bool:
    owner = getattr(factory, "__module__", None) or ""
    return owner == module or owner.startswith(module + ".")


def list_plugins() -> list[PluginInfo]:
    """Every backend by name, with its kinds, distribution and status (imports nothing).

    First-party backends of the backend table that are not installed are listed too, with
    status 'not installed' and what to install.
    """
    rows: dict[str, _Row] = {}
    with _lock:
        registered = {k: dict(v) for k, v in _registered.items()}
        plain_loaded = dict(_plain_loaded)
        plain_errors = dict(_plain_errors)
        load_errors = dict(_load_errors)
    for (name, kind), ep in sorted(_discover().items()):
        row = rows.setdefault(name, _Row())
        row.kinds.add(kind)
        row.eps.append(ep)
        if (name, kind) in load_errors:
            row.errors.append(load_errors[(name, kind)])
        if name in registered[kind] or ep.module in sys.modules:
            row.loaded = True
    for kind, factories in registered.items():
        for name in factories:
            rows.setdefault(name, _Row()).kinds.add(kind)
    for ep_name, ep in sorted(_discover_plain().items()):
        provided = set(plain_loaded.get(ep_name, ()))
        provided.update(
            (name, kind)
            for kind, factories in registered.items()
            for name, factory in factories.items()
            if _from_module(factory, ep.module)
        )
        for name, kind in sorted(provided):
            row = rows.setdefault(name, _Row())
            row.kinds.add(kind)
            row.eps.append(ep)
            row.loaded = True
        if provided:
            continue
        row = rows.setdefault(ep_name, _Row())
        row.eps.append(ep)
        if ep_name in plain_errors:
            row.unknown = True
            row.errors.append(plain_errors[ep_name])
        elif ep_name in plain_loaded or ep.module in sys.modules:
            row.loaded = True  # imported, but it registered no backend
        else:
            row.unknown = True
    table = _backends.BACKENDS
    for name in table:
        rows.setdefault(name, _Row(missing=True))  # first-party, not installed here
    declared: dict[str, list[str]] = {}
    for scheme, name in sorted(plugin_schemes().items()):
        declared.setdefault(name, []).append(scheme)
    out = []
    for name, row in sorted(rows.items()):
        dist = row.eps[0].dist if row.eps else None
        backend = table.get(name)
        kinds = tuple(k for k in KINDS if k in row.kinds)
        loaded = [registered[k][name] for k in kinds if name in registered[k]]
        spi = next((getattr(f, "SPI_VERSION", None) for f in loaded), None)
        if row.missing:
            kinds = backend.kinds if backend else ()
            status = "not installed"
        elif row.errors:
            status = "error: " + row.errors[0]
        elif not row.eps:
            status = "registered"
        elif row.loaded or loaded:
            status = "loaded"
        else:
            status = "not loaded"
        out.append(
            PluginInfo(
                name=name,
                kinds=kinds,
                distribution=dist.name if dist else None,
                version=dist.version if dist else None,
                spi=spi or _requires_core(dist),
                status=status,
                kinds_known=not row.unknown,
                schemes=backend.schemes if backend else tuple(declared.get(name, ())),
                install=backend.install if backend else None,
            )
        )
    return out
