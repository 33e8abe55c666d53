"""Spine: durable run state and semantic memory for AI agents.

    from spine_backends import State, open_checkpoint

    async with open_checkpoint("sqlite:///.spine/spine.db") as store:
        await store.put(State(session_id="s1"))

Everything from `spine_core` is re-exported here. The store classes of the backends
(`SQLiteCheckpoint`, `RedisCheckpoint`, `PgVectorMemory`, …) are imported lazily, on first
access, so `import spine_backends` never imports an adapter or a database driver. When the
extra that provides a class is not installed, accessing it raises `MissingExtraError`, which
is both a `spine_core.ConfigError` and an `ImportError`, and whose message says what to
`pip install`.
"""

from __future__ import annotations

import importlib
from importlib import metadata as _metadata
from typing import TYPE_CHECKING, Any

import spine_core
from spine_core import *  # noqa: F403 - the umbrella re-exports the whole SPI
from spine_core import errors
from spine_core.spi import lazy_classes

from ._exports import MissingExtraError, lazy_reexports

if TYPE_CHECKING:
    # Type checkers see the real classes; at run time they load on first access (from
    # ADAPTERS). Without a line here a class still loads, typed as Any.
    from spine_backend_postgres.checkpoint import PostgresCheckpoint as PostgresCheckpoint
    from spine_backend_postgres.memory import PgVectorMemory as PgVectorMemory
    from spine_backend_qdrant.memory import QdrantMemory as QdrantMemory
    from spine_backend_redis.checkpoint import RedisCheckpoint as RedisCheckpoint
    from spine_backend_redis.memory import RedisMemory as RedisMemory
    from spine_backend_sqlite.checkpoint import SQLiteCheckpoint as SQLiteCheckpoint
    from spine_backend_sqlite.memory import SQLiteMemory as SQLiteMemory

try:
    __version__ = _metadata.version("spine-backends")
except _metadata.PackageNotFoundError:  # running from a source tree without metadata
    __version__ = "0+unknown"


ADAPTERS: dict[str, tuple[str, str]] = lazy_classes()
"""Lazily re-exported classes: name → (defining module, what to pip install).

Derived from the backend table (`spine_core.spi.BACKENDS`): a backend added there is
re-exported here.
"""

SUBMODULES = ("embeddings", "memory", "migrations", "pgvector", "postgres", "redis", "sqlite")
"""spinekit's modules of this package; `spine_backends.<module>` imports one on first access."""

_adapter_getattr, _adapter_dir = lazy_reexports(__name__, ADAPTERS)


def __getattr__(name: str) -> Any:
    if name in SUBMODULES:  # spinekit imported them all eagerly; here they load when named
        return importlib.import_module(f"{__name__}.{name}")
    return _adapter_getattr(name)


def __dir__() -> list[str]:
    return sorted({*_adapter_dir(), *SUBMODULES, "__version__"})


# The adapter classes are deliberately absent from __all__: `from spine_backends import *`
# must not import every installed driver (or fail on a missing extra).
__all__ = [
    "ADAPTERS",
    "SUBMODULES",
    "MissingExtraError",
    "__version__",
    "errors",
]
__all__ += spine_core.__all__
