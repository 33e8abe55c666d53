"""spinekit's `spine_backends.pgvector`: the PostgreSQL with pgvector (extra `postgres`) stores.

The classes load on first access, so importing this module imports no driver; a missing extra
raises `MissingExtraError` naming what to install.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import ADAPTERS
from ._exports import ensure_registered, lazy_reexports

if TYPE_CHECKING:
    from spine_backend_postgres.memory import PgVectorMemory as PgVectorMemory

__all__ = ["PgVectorMemory", "register"]

__getattr__, __dir__ = lazy_reexports(__name__, {n: ADAPTERS[n] for n in ("PgVectorMemory",)})


def register() -> None:
    """Make sure these backends are registered (Spine does it by entry point on first use)."""
    ensure_registered(("memory", "pgvector"))
