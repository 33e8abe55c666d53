"""`RedisCheckpoint` adopting the sessions spinekit wrote (its `prefix<id>` string keys)."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from spine_core.errors import InvalidInput
from spine_core.spi import utc_now, validate_session_id

from ._client import Connection, as_int, to_us
from ._keys import CheckpointKeys
from ._scripts import CHECKPOINT_ADOPT

__all__ = ["adopt_spinekit"]

log = logging.getLogger("spine")

_ADOPT_SCAN = 1000  # keys per SCAN step


async def adopt_spinekit(
    conn: Connection, keys: CheckpointKeys, indexes: tuple[str, ...], spinekit_prefix: str
) -> None:
    """Move the sessions spinekit wrote under `spinekit_prefix` into this namespace, once.

    Each key moves in one script (atomic, idempotent), so processes opening together
    each move some and none moves one twice. The marker is set only after a full SCAN,
    so a later open that sees it knows every key that existed then has moved.
    """
    if await conn.run(lambda c: c.exists(keys.adopted)):
        return
    prefix = spinekit_prefix.encode()
    session_prefix = keys.session_prefix.encode()
    pattern = _glob_escape(prefix) + b"*"

    def scan(at: Any) -> Callable[[Any], Awaitable[Any]]:
        return lambda c: c.scan(at, match=pattern, count=_ADOPT_SCAN, _type="string")

    def move(key: bytes, sid: bytes) -> Callable[[Any], Awaitable[Any]]:
        script_keys = (key, session_prefix + sid, *indexes)
        args = (sid, keys.tenant_prefix, str(to_us(utc_now())))
        return lambda c: CHECKPOINT_ADOPT(c, script_keys, args)

    cursor: Any = 0
    refused = 0
    while True:
        cursor, found = await conn.run(scan(cursor))
        for key in found:
            raw_key = key.encode() if isinstance(key, str) else bytes(key)
            sid = raw_key[len(prefix) :]
            if not _adoptable(sid):
                refused += 1  # it could never be read here: leave it where it is
                continue
            await conn.run(move(raw_key, sid))
        if not as_int(cursor):
            break
    if refused:
        log.warning(
            "%d spinekit session(s) under prefix %r have ids Spine refuses and were not "
            "adopted; their keys are left as they are",
            refused,
            spinekit_prefix,
        )
    await conn.run(lambda c: c.set(keys.adopted, str(to_us(utc_now()))))


def _adoptable(session_id: bytes) -> bool:
    """Whether Spine accepts `session_id` (UTF-8 bytes of a spinekit key) as a session id."""
    try:
        validate_session_id(session_id.decode("utf-8"))
    except (UnicodeDecodeError, InvalidInput):
        return False
    return True


def _glob_escape(text: bytes) -> bytes:
    """`text` as a literal in a SCAN MATCH pattern."""
    return re.sub(rb"([*?\[\]\\])", rb"\\\1", text)
