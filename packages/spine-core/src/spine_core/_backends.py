"""The one table of known backends, fsspec `known_implementations` style.

Each row says what a backend is called, which kinds it offers, which URL schemes open it,
what to `pip install` for it and, for first-party backends, where each kind's class lives
(imported lazily, only when asked for). URL parsing, install hints, "did you mean" and the
umbrella's lazy re-exports all read this table.

Third-party plugins are not listed here: they announce URL schemes through entry points
of the `spine.schemes` group (`myscheme = "mydb"` sends `myscheme://` to the backend `mydb`),
read from package metadata without importing the plugin.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata as importlib_metadata
from types import MappingProxyType
from typing import Literal

from ._capabilities import Kind
from .errors import ConfigError

__all__ = [
    "BACKENDS",
    "SCHEME_ENTRY_POINT_GROUP",
    "Backend",
    "backend_for_scheme",
    "check_drivers",
    "install_hint",
    "known_kinds",
    "known_schemes",
    "lazy_classes",
    "missing_driver",
    "plugin_schemes",
    "refresh_schemes",
    "scheme_storage",
]

SCHEME_ENTRY_POINT_GROUP = "spine.schemes"
"""Entry-point group mapping a URL scheme (the name) to a backend name (the value)."""


@dataclass(frozen=True)
class Backend:
    """One known backend: a row of `BACKENDS`."""

    name: str
    """The registry name (`open_checkpoint("redis")`, entry point `redis.checkpoint`)."""
    kinds: tuple[Kind, ...]
    """The kinds it offers."""
    schemes: tuple[str, ...] = ()
    """URL schemes that open it, for each kind it offers."""
    install: str | None = None
    """What to `pip install` when it is missing (None: it ships with spine-core)."""
    classes: Mapping[Kind, str] = field(default_factory=dict)
    """Each kind's class as `module:attr`, imported lazily (first-party backends only)."""
    service: str | None = None
    """The server its tests need (the kit's service recipe), None when embedded."""
    file_schemes: tuple[str, ...] = ()
    """Those of `schemes` whose URL names a local file or directory (`x:///relative/path`)."""
    drivers: tuple[str, ...] = ()
    """Top-level modules of the third-party driver it needs (imported by the store, lazily)."""


def _table(*rows: Backend) -> Mapping[str, Backend]:
    return MappingProxyType({row.name: row for row in rows})


BACKENDS: Mapping[str, Backend] = _table(
    Backend(
        name="memory",
        kinds=("checkpoint",),
        schemes=("memory",),
        classes={"checkpoint": "spine_core._reference:InMemoryCheckpointStore"},
    ),
    Backend(
        name="vector",
        kinds=("memory",),
        schemes=("memory", "vector"),
        classes={"memory": "spine_core._reference:InMemoryVectorMemory"},
    ),
    Backend(
        name="buffer",
        kinds=("memory",),
        classes={"memory": "spine_core._buffer:BufferMemory"},
    ),
    Backend(
        name="sqlite",
        kinds=("checkpoint", "memory"),
        schemes=("sqlite",),
        file_schemes=("sqlite",),
        install="spine-backends",
        classes={
            "checkpoint": "spine_backend_sqlite.checkpoint:SQLiteCheckpoint",
            "memory": "spine_backend_sqlite.memory:SQLiteMemory",
        },
    ),
    Backend(
        name="redis",
        kinds=("checkpoint", "memory"),
        schemes=("redis", "rediss"),
        install="spine-backends[redis]",
        classes={
            "checkpoint": "spine_backend_redis.checkpoint:RedisCheckpoint",
            "memory": "spine_backend_redis.memory:RedisMemory",
        },
        service="redis",
        drivers=("redis",),
    ),
    Backend(
        name="postgres",
        kinds=("checkpoint", "memory"),
        schemes=("postgresql", "postgres"),
        install="spine-backends[postgres]",
        classes={
            "checkpoint": "spine_backend_postgres.checkpoint:PostgresCheckpoint",
            "memory": "spine_backend_postgres.memory:PgVectorMemory",
        },
        service="postgres",
        drivers=("psycopg", "psycopg_pool"),
    ),
    Backend(
        name="pgvector",
        kinds=("memory",),
        schemes=("pgvector",),
        install="spine-backends[postgres]",
        classes={"memory": "spine_backend_postgres.memory:PgVectorMemory"},
        service="postgres",
        drivers=("psycopg", "psycopg_pool"),
    ),
    Backend(
        name="qdrant",
        kinds=("memory",),
        schemes=("qdrant", "qdrants", "qdrant+local"),
        file_schemes=("qdrant+local",),
        install="spine-backends[qdrant]",
        classes={"memory": "spine_backend_qdrant.memory:QdrantMemory"},
        service="qdrant",
        drivers=("qdrant_client",),
    ),
)
"""Every first-party backend, by name."""


def install_hint(name: str) -> str | None:
    """What to `pip install` for the first-party backend `name` (None: unknown or built in)."""
    row = BACKENDS.get(name)
    return row.install if row else None


def missing_driver(name: str) -> str | None:
    """The driver module the first-party backend `name` needs and cannot find, else None."""
    row = BACKENDS.get(name)
    for module in row.drivers if row else ():
        if module in sys.modules:
            continue
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):  # a blocked or broken import system: as missing
            found = False
        if not found:
            return module
    return None


def check_drivers(name: str, factory: object = None) -> None:
    """Raise `ConfigError` with the install hint when backend `name`'s driver is not installed.

    Checked before a store is built, so a missing driver is one typed error with what to
    install instead of a `ModuleNotFoundError` on first use. With `factory`, only when it is
    one of the backend's own classes (a replacement registered under the name is not ours).
    """
    row = BACKENDS.get(name)
    if row is None:
        return
    if factory is not None:
        path = f"{getattr(factory, '__module__', '')}:{getattr(factory, '__qualname__', '')}"
        if path not in row.classes.values():
            return
    module = missing_driver(name)
    if module is None:
        return
    raise ConfigError(
        f"backend {name!r} needs the Python package that provides {module!r}, which is not "
        f'installed. Install it with: pip install "{row.install}"'
    )


def known_kinds(name: str) -> tuple[Kind, ...]:
    """The kinds the first-party backend `name` offers (empty when unknown)."""
    row = BACKENDS.get(name)
    return row.kinds if row else ()


def lazy_classes() -> dict[str, tuple[str, str]]:
    """Classes of the installable backends: class name → (module, what to pip install)."""
    out: dict[str, tuple[str, str]] = {}
    for row in BACKENDS.values():
        if row.install is None:
            continue  # spine-core's own stores are plain imports
        for path in row.classes.values():
            module, _, attr = path.partition(":")
            out[attr] = (module, row.install)
    return out


_lock = threading.Lock()
_plugin_schemes: dict[str, str] | None = None


def plugin_schemes() -> dict[str, str]:
    """URL schemes third-party plugins declare: scheme → backend name (imports nothing)."""
    global _plugin_schemes
    with _lock:
        if _plugin_schemes is None:
            found: dict[str, str] = {}
            for ep in importlib_metadata.entry_points(group=SCHEME_ENTRY_POINT_GROUP):
                found.setdefault(ep.name.lower(), ep.value.strip())
            _plugin_schemes = found
        return dict(_plugin_schemes)


def refresh_schemes() -> None:
    """Forget the plugin schemes read so far, so newly installed plugins are seen."""
    global _plugin_schemes
    with _lock:
        _plugin_schemes = None


def backend_for_scheme(scheme: str, kind: Kind) -> str | None:
    """The backend a URL scheme opens for `kind`, or None when no table or plugin names it.

    A first-party backend offering `kind` wins; else one offering only the other kind (so
    the miss says "offers memory only"); else a plugin's `spine.schemes` entry point.
    """
    scheme = scheme.lower()
    rows = [row for row in BACKENDS.values() if scheme in row.schemes]
    for row in rows:
        if kind in row.kinds:
            return row.name
    if rows:
        return rows[0].name
    return plugin_schemes().get(scheme)


def scheme_storage(scheme: str) -> Literal["in-process", "file", "remote"]:
    """Where a first-party URL scheme keeps data: in the process, in a local file, or elsewhere.

    In-process: the stores that ship with spine-core. Anything unknown counts as remote.
    """
    scheme = scheme.lower()
    for row in BACKENDS.values():
        if scheme in row.file_schemes:
            return "file"
        if scheme in row.schemes and row.install is None:
            return "in-process"
    return "remote"


def known_schemes(kind: Kind) -> list[str]:
    """Every scheme a URL for `kind` may use: first-party, then plugins' (sorted)."""
    first = {s for row in BACKENDS.values() if kind in row.kinds for s in row.schemes}
    return sorted(first | set(plugin_schemes()))
