"""Redis backend for Spine: `RedisCheckpoint` (Redis >= 6.2) and `RedisMemory` (Redis 8+).

Importing this package does not import redis-py; the store classes load on first access.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from spine_core.spi import lazy_exports

if TYPE_CHECKING:
    from .checkpoint import RedisCheckpoint
    from .memory import RedisMemory
    from .raw import RawRedis

__all__ = ["RawRedis", "RedisCheckpoint", "RedisMemory"]

# The store classes (and their drivers) load on first access.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "RedisCheckpoint": "checkpoint",
        "RedisMemory": "memory",
        "RawRedis": "raw",
    },
)
