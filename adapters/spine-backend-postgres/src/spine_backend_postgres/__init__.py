"""PostgreSQL checkpoints and pgvector memory for Spine.

    from spine_backend_postgres import PostgresCheckpoint, PgVectorMemory

    async with PostgresCheckpoint.from_url("postgresql://app@db/agents") as store:
        ...

Importing this package does not import psycopg; the store classes load on first access.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .checkpoint import PostgresCheckpoint
    from .memory import PgVectorMemory
    from .raw import RawPostgres

__all__ = ["PgVectorMemory", "PostgresCheckpoint", "RawPostgres"]

_LAZY = {
    "PostgresCheckpoint": ".checkpoint",
    "PgVectorMemory": ".memory",
    "RawPostgres": ".raw",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
