"""Spine's embedded backend: `SQLiteCheckpoint` and `SQLiteMemory` on the stdlib `sqlite3`.

Importing this package imports neither sqlite3 nor numpy; the store classes load on first
access (`from spine_backend_sqlite import SQLiteCheckpoint`) or through the Spine registry
(`open_checkpoint("sqlite:///agent.db")`).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .checkpoint import SQLiteCheckpoint
    from .memory import SQLiteMemory
    from .raw import RawSQLite, RawSQLiteSync

__all__ = ["RawSQLite", "RawSQLiteSync", "SQLiteCheckpoint", "SQLiteMemory"]

_LAZY = {
    "SQLiteCheckpoint": ".checkpoint",
    "SQLiteMemory": ".memory",
    "RawSQLite": ".raw",
    "RawSQLiteSync": ".raw",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
