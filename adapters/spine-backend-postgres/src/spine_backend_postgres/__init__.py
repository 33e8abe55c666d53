"""PostgreSQL checkpoints and pgvector memory for Spine.

    from spine_backend_postgres import PostgresCheckpoint, PgVectorMemory

    async with PostgresCheckpoint.from_url("postgresql://app@db/agents") as store:
        ...

Importing this package does not import psycopg; the store classes load on first access.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from spine_core.spi import lazy_exports

if TYPE_CHECKING:
    from .checkpoint import PostgresCheckpoint
    from .memory import PgVectorMemory
    from .raw import RawPostgres

__all__ = ["PgVectorMemory", "PostgresCheckpoint", "RawPostgres"]

# The store classes (and their drivers) load on first access.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "PostgresCheckpoint": "checkpoint",
        "PgVectorMemory": "memory",
        "RawPostgres": "raw",
    },
)
