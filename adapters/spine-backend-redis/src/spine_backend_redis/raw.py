"""The floors `spine bench` compares the Redis stores against: plain redis-py, no Spine.

`RawRedis` (checkpoints): `put`/`get` are a plain SET/GET of the payload string; `cas_put`
is the smallest honest compare-and-set, a Lua script (EVALSHA) over a hash holding the
payload and a revision, which is what `RedisCheckpoint.put(expected_revision=...)` does
minus Spine's indexes.

`RawRedisVectors` (memory ingest): pipelined `VADD` of the FP32 vectors alone, with the
store's quantization, M and build EF, on one connection: what the engine can ingest before
any record, index or attribute is kept beside the vector.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from ._client import Script
from ._options import DEFAULT_BUILD_EF

__all__ = ["RawRedis", "RawRedisVectors"]

_CAS = Script(
    """
local rev = tonumber(redis.call('HGET', KEYS[1], 'rev')) or 0
if rev ~= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'payload', ARGV[1], 'rev', rev + 1)
return 1
"""
)


class _Connected:
    """A floor's one pooled redis-py client, opened and closed as the store's is."""

    target: str
    _client: Any = None

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


class RawRedis(_Connected):
    """Plain redis-py operations on keys under a private prefix (removed by `cleanup`)."""

    def __init__(self, target: str) -> None:
        self.target = target
        self._prefix = f"spine_raw_{secrets.token_hex(4)}:"
        self._written: set[str] = set()

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


_QUANT = {"q8": "Q8", "noquant": "NOQUANT", "bin": "BIN"}


class RawRedisVectors(_Connected):
    """Pipelined VADD into a private vector set (removed by `cleanup`): the ingest floor."""

    def __init__(self, target: str, details: Mapping[str, Any] | None = None) -> None:
        """`details` are the store's `capabilities.details`: its quantization, m, build_ef."""
        from spine_core.spi import option_names

        from ._client import split_url_options
        from ._options import RedisMemoryOptions

        self.target, _ = split_url_options(target, option_names(RedisMemoryOptions))
        details = details or {}
        self._options: list[Any] = [
            _QUANT[str(details.get("quantization", "q8"))],
            "EF",
            int(details.get("build_ef", DEFAULT_BUILD_EF)),
            "M",
            int(details.get("m", 16)),
        ]
        self._key = f"spine_raw_{secrets.token_hex(4)}:vectors"

    async def add(self, items: Sequence[tuple[str, bytes]]) -> None:
        """VADD each (element, little-endian FP32 blob), all in one pipeline."""
        pipe = self._client.pipeline(transaction=False)
        for element, blob in items:
            pipe.execute_command("VADD", self._key, "FP32", blob, element, *self._options)
        await pipe.execute()

    async def cleanup(self) -> None:
        """Delete the vector set."""
        if self._client is not None:
            await self._client.delete(self._key)
