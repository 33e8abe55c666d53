"""`RawRedis`: the same bytes through plain redis-py, the floor `spine bench` compares against.

`put`/`get` are a plain SET/GET of the payload string; `cas_put` is the smallest honest
compare-and-set, a Lua script (EVALSHA) over a hash holding the payload and a revision,
which is what `RedisCheckpoint.put(expected_revision=...)` does minus Spine's indexes.
"""

from __future__ import annotations

import secrets
from typing import Any

from ._client import Script

__all__ = ["RawRedis"]

_CAS = Script(
    """
local rev = tonumber(redis.call('HGET', KEYS[1], 'rev')) or 0
if rev ~= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'payload', ARGV[1], 'rev', rev + 1)
return 1
"""
)


class RawRedis:
    """Plain redis-py operations on keys under a private prefix (removed by `cleanup`)."""

    def __init__(self, target: str) -> None:
        self.target = target
        self._prefix = f"spine_raw_{secrets.token_hex(4)}:"
        self._client: Any = None
        self._written: set[str] = set()

    async def open(self) -> None:
        """Connect (a pooled client, as the store uses)."""
        from redis.asyncio import Redis

        self._client = Redis.from_url(self.target)
        await self._client.ping()

    async def close(self) -> None:
        """Close the client's pool."""
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    async def put(self, key: str, payload: str) -> None:
        """SET the payload."""
        name = self._prefix + "kv:" + key
        self._written.add(name)
        await self._client.set(name, payload)

    async def get(self, key: str) -> str | None:
        """GET the payload."""
        raw = await self._client.get(self._prefix + "kv:" + key)
        return None if raw is None else bytes(raw).decode()

    async def cas_put(self, key: str, payload: str, expected: int) -> bool:
        """Write the payload if the stored revision is `expected`; `True` when written."""
        name = self._prefix + "cas:" + key
        self._written.add(name)
        return bool(await _CAS(self._client, (name,), (payload, expected)))

    async def cleanup(self) -> None:
        """Delete every key this instance wrote."""
        if self._client is not None and self._written:
            await self._client.delete(*self._written)
            self._written.clear()
