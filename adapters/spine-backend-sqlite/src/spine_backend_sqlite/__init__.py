"""Spine's embedded backend: `SQLiteCheckpoint` and `SQLiteMemory` on the stdlib `sqlite3`.

Importing this package imports neither sqlite3 nor numpy; the store classes load on first
access (`from spine_backend_sqlite import SQLiteCheckpoint`) or through the Spine registry
(`open_checkpoint("sqlite:///agent.db")`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from spine_core.spi import lazy_exports

if TYPE_CHECKING:
    from .checkpoint import SQLiteCheckpoint
    from .memory import SQLiteMemory
    from .raw import RawSQLite

__all__ = ["RawSQLite", "SQLiteCheckpoint", "SQLiteMemory"]

# The store classes (and their drivers) load on first access.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "SQLiteCheckpoint": "checkpoint",
        "SQLiteMemory": "memory",
        "RawSQLite": "raw",
    },
)
