"""Redis backend for Spine: `RedisCheckpoint` (Redis >= 6.2) and `RedisMemory` (Redis 8+).

Importing this package does not import redis-py; the store classes load on first access.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .checkpoint import RedisCheckpoint
    from .memory import RedisMemory
    from .raw import RawRedis

__all__ = ["RawRedis", "RedisCheckpoint", "RedisMemory"]

_HOMES = {"RedisCheckpoint": "checkpoint", "RedisMemory": "memory", "RawRedis": "raw"}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
