"""The SQLite stores' options models: what a `sqlite://` URL query or a keyword may set."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from spine_core.spi import DefaultTTL, Namespace, StoreOptions

__all__ = ["SQLiteCheckpointOptions", "SQLiteMemoryOptions", "SQLiteOptions"]


class SQLiteOptions(StoreOptions):
    """Options both SQLite stores take."""

    namespace: Namespace = "default"
    """Isolates stores sharing one file."""
    busy_timeout: float = Field(default=5.0, ge=0, allow_inf_nan=False)
    """Seconds a writer waits for another connection's write lock."""


class SQLiteCheckpointOptions(SQLiteOptions):
    """`SQLiteCheckpoint`'s options."""

    store_name: ClassVar[str] = "SQLiteCheckpoint"
    default_ttl: DefaultTTL = None
    """Seconds until a session expires when `put` gives no `ttl`."""


class SQLiteMemoryOptions(SQLiteOptions):
    """`SQLiteMemory`'s options."""

    store_name: ClassVar[str] = "SQLiteMemory"
