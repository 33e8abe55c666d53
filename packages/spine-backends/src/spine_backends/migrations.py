"""spinekit's `spine_backends.migrations`: upgrades of stored `State` documents.

`migrate` raises `DataError`, which is a `ValueError` as spinekit's error was.
"""

from __future__ import annotations

from spine_core._migrations import Migration, migrate, register_migration

__all__ = ["Migration", "migrate", "register_migration"]
