"""`RedisCheckpoint`: run state in Redis (any server ≥ 6.2), one hash per session.

Layout (namespace `ns`, default key prefix `spine`; see `_keys`):

- `{spine:ns}:cp:session:<id>`  hash: `state` (the JSON), `rev`, `updated` (µs), `tenant`,
  `write` (token of the last put); its TTL is the session's TTL;
- `{spine:ns}:cp:sessions`      sorted set of ids (score 0): `list_sessions` by ZRANGEBYLEX;
- `{spine:ns}:cp:tenant:<t>`    the same, per tenant: tenant-filtered listing;
- `{spine:ns}:cp:updated`       sorted set of ids scored by the last put: `prune`;
- `{spine:ns}:cp:tenant_of`     hash of id -> tenant, so a vanished session leaves every index.

Every write is one Lua script, so the hash and its index entries change together and
compare-and-set is atomic on the server, across processes.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from spine_core.errors import ConfigError, ConflictError, InvalidInput
from spine_core.records import utc_now
from spine_core.spi import (
    CheckpointCapabilities,
    CheckpointStoreBase,
    SessionInfo,
    SessionPage,
    Topology,
    dump_state,
    load_state,
    validate_before,
    validate_namespace,
    validate_session_id,
    validate_ttl,
)
from spine_core.state import State

from ._client import (
    DEFAULT_URL,
    Connection,
    as_int,
    as_text,
    flag,
    from_us,
    is_cluster,
    split_url_options,
    to_us,
)
from ._keys import SPINEKIT_PREFIX, CheckpointKeys, check_key_prefix, check_spinekit_prefix
from ._scripts import (
    CHECKPOINT_ADOPT,
    CHECKPOINT_DELETE,
    CHECKPOINT_PAGE,
    CHECKPOINT_PRUNE,
    CHECKPOINT_PUT,
)

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisCheckpoint"]

log = logging.getLogger("spine")

_SCAN_BUDGET = 512  # index entries one list/prune script call may examine (bounds blocking)
_URL_OPTIONS = ("namespace", "default_ttl", "key_prefix", "prefix", "retries", "cluster")
_ADOPT_SCAN = 1000  # keys per SCAN step while adopting spinekit's keys
ADOPTED_NAMESPACE = "default"
"""spinekit had no namespaces; the store of the default one (what its code opens) adopts."""


def ttl_ms(ttl: float) -> int:
    """A TTL in seconds as PEXPIRE milliseconds (at least 1)."""
    return max(1, round(ttl * 1000))


class RedisCheckpoint(CheckpointStoreBase):
    """Checkpoints in Redis ≥ 6.2: revisions (Lua compare-and-set), native TTL, listing, prune.

    Build it from a URL (`redis://[[user]:password@]host:port/db`, `rediss://…`,
    `unix:///path.sock`; `cluster=True` for Redis Cluster) or inject a `redis.asyncio` client
    you own (`client=`, a `redis.asyncio.Redis` or `RedisCluster`; the store never closes
    it). Extra keyword options go to redis-py's `from_url` (e.g. `max_connections`).

    `prefix` is spinekit's key prefix (default `"spine:checkpoint:"`): the store of namespace
    `"default"` adopts the sessions spinekit wrote under it, once, on first use. A prefix
    other than the default also scopes this store's own keys, so stores spinekit kept apart
    by prefix stay apart. `key_prefix` starts every key Spine writes.
    """

    backend: ClassVar[str] = "redis"
    distribution: ClassVar[str] = "spine-backend-redis"
    topology: Topology = "server"
    capabilities = CheckpointCapabilities(
        revisions=True,
        ttl=True,
        list_sessions=True,
        prune=True,
        concurrent_writers=True,
        durable=False,
        details={
            "server": "Redis >= 6.2, standalone or Cluster",
            "layout": "one hash per session; sorted-set indexes by id, tenant and update time",
            "compare_and_set": "Lua script (EVALSHA, EVAL on NOSCRIPT)",
            "ttl": "PEXPIRE on the session hash; stale index entries removed lazily",
            "cluster": "hash tag {<key_prefix>:<namespace>}: a namespace lives in one slot",
            "durability": "as configured on the server (appendonly yes + appendfsync always "
            "for acknowledged writes to survive a crash)",
        },
    )

    def __init__(
        self,
        url: str | None = None,
        *,
        client: Redis | None = None,
        prefix: str = SPINEKIT_PREFIX,
        namespace: str = "default",
        default_ttl: float | None = None,
        key_prefix: str = "spine",
        retries: int = 3,
        cluster: bool = False,
        **client_options: Any,
    ) -> None:
        super().__init__()
        self.namespace = validate_namespace(namespace)
        self.default_ttl = validate_ttl(default_ttl)
        self.key_prefix = check_key_prefix(key_prefix)
        self.prefix = check_spinekit_prefix(prefix)
        self._keys = CheckpointKeys(self.key_prefix, self.namespace, self.prefix)
        self._indexes = (self._keys.sessions, self._keys.updated, self._keys.tenant_of)
        self._conn = Connection(
            url=DEFAULT_URL if url is None and client is None else url,
            client=client,
            client_options=client_options,
            retries=retries,
            cluster=cluster,
        )

    @classmethod
    def from_url(cls, url: str, **options: Any) -> RedisCheckpoint:
        """A store for `url`.

        `namespace`, `default_ttl`, `key_prefix`, `prefix`, `retries` and `cluster` may also
        be given as query parameters; keyword options win.
        """
        clean, ours = split_url_options(url, _URL_OPTIONS)
        merged: dict[str, Any] = {**_parse_url_options(ours), **options}
        return cls(clean, **merged)

    def _target(self) -> str:
        scope = "" if self.prefix == SPINEKIT_PREFIX else f", prefix {self.prefix!r}"
        return f"{self._conn.target} (namespace {self.namespace!r}{scope})"

    async def _open(self) -> None:
        self._conn.open()
        if self.namespace == ADOPTED_NAMESPACE and not is_cluster(self._conn.client):
            await self._adopt_spinekit()

    async def _adopt_spinekit(self) -> None:
        """Move the sessions spinekit wrote under `prefix` into this store, once.

        Each key moves in one script (atomic, idempotent), so processes opening together
        each move some and none moves one twice. The marker is set only after a full SCAN,
        so a later open that sees it knows every key that existed then has moved.
        """
        keys = self._keys
        if await self._conn.run(lambda c: c.exists(keys.adopted)):
            return
        prefix = self.prefix.encode()
        session_prefix = keys.session_prefix.encode()
        pattern = _glob_escape(prefix) + b"*"

        def scan(at: Any) -> Callable[[Any], Awaitable[Any]]:
            return lambda c: c.scan(at, match=pattern, count=_ADOPT_SCAN, _type="string")

        def move(key: bytes, sid: bytes) -> Callable[[Any], Awaitable[Any]]:
            script_keys = (key, session_prefix + sid, *self._indexes)
            args = (sid, keys.tenant_prefix, str(to_us(utc_now())))
            return lambda c: CHECKPOINT_ADOPT(c, script_keys, args)

        cursor: Any = 0
        refused = 0
        while True:
            cursor, found = await self._conn.run(scan(cursor))
            for key in found:
                raw_key = key.encode() if isinstance(key, str) else bytes(key)
                sid = raw_key[len(prefix) :]
                if not _adoptable(sid):
                    refused += 1  # it could never be read here: leave it where it is
                    continue
                await self._conn.run(move(raw_key, sid))
            if not as_int(cursor):
                break
        if refused:
            log.warning(
                "%d spinekit session(s) under prefix %r have ids Spine refuses and were not "
                "adopted; their keys are left as they are",
                refused,
                self.prefix,
            )
        await self._conn.run(lambda c: c.set(keys.adopted, str(to_us(utc_now()))))

    async def _close(self) -> None:
        await self._conn.close()

    async def _ping(self) -> None:
        await self._conn.run(lambda c: c.ping())

    # -- base operations --------------------------------------------------------------------
    async def put(
        self, state: State, *, expected_revision: int | None = None, ttl: float | None = None
    ) -> None:
        """Store `state`; with `expected_revision`, atomically refuse a different revision."""
        ttl = self._check_put_options(expected_revision, ttl)
        raw = dump_state(state)
        await self._ensure_ready()
        sid = state.session_id
        keys = (self._keys.session(sid), *self._indexes)
        args = (
            raw,
            "" if expected_revision is None else str(expected_revision),
            "" if ttl is None else str(ttl_ms(ttl)),
            "0" if state.tenant_id is None else "1",
            state.tenant_id or "",
            str(to_us(utc_now())),
            sid,
            self._keys.tenant_prefix,
            secrets.token_hex(8),
        )
        ok, revision = await self._conn.run(lambda c: CHECKPOINT_PUT(c, keys, args))
        if not as_int(ok):
            assert expected_revision is not None
            raise ConflictError(sid, expected_revision, as_int(revision))

    async def get(self, session_id: str) -> State | None:
        """A fresh copy of the stored state, or `None`."""
        key = self._keys.session(validate_session_id(session_id))
        await self._ensure_ready()
        raw = await self._conn.run(lambda c: c.hget(key, "state"))
        return None if raw is None else load_state(raw, session_id=session_id)

    async def delete(self, session_id: str) -> None:
        """Remove the session and its index entries (no-op when missing)."""
        sid = validate_session_id(session_id)
        await self._ensure_ready()
        keys = (self._keys.session(sid), *self._indexes)
        args = (sid, self._keys.tenant_prefix)
        await self._conn.run(lambda c: CHECKPOINT_DELETE(c, keys, args))

    # -- optional capabilities ----------------------------------------------------------------
    async def revision(self, session_id: str) -> int:
        """0 when missing (or expired), else the number of puts since creation."""
        key = self._keys.session(validate_session_id(session_id))
        await self._ensure_ready()
        raw = await self._conn.run(lambda c: c.hget(key, "rev"))
        return 0 if raw is None else as_int(raw)

    async def list_sessions(
        self, *, tenant_id: str | None = None, limit: int = 100, cursor: str | None = None
    ) -> SessionPage:
        """Sessions in id order after `cursor` (keyset pagination), optionally of one tenant."""
        tenant_id, limit, cursor = self.check_list_args(tenant_id, limit, cursor)
        await self._ensure_ready()
        index = self._keys.sessions if tenant_id is None else self._keys.tenant(tenant_id)
        keys = (index, *self._indexes)
        start = "-" if cursor is None else "(" + cursor
        rows: list[SessionInfo] = []
        while len(rows) <= limit:
            args = (
                self._keys.session_prefix,
                self._keys.tenant_prefix,
                "" if tenant_id is None else "t:" + tenant_id,
                start,
                str(limit + 1 - len(rows)),
                str(_SCAN_BUDGET),
            )
            found, resume = await self._conn.run(
                lambda c, args=args: CHECKPOINT_PAGE(c, keys, args)  # type: ignore[misc]
            )
            rows.extend(
                SessionInfo(
                    session_id=as_text(sid),
                    tenant_id=None if tenant is None else as_text(tenant),
                    updated_at=from_us(as_int(updated)),
                    revision=as_int(rev),
                )
                for sid, rev, tenant, updated in found
            )
            start = as_text(resume)
            if not start:
                break
        page = rows[:limit]
        return SessionPage(
            sessions=page, next_cursor=page[-1].session_id if len(rows) > limit else None
        )

    async def prune(self, *, before: datetime) -> int:
        """Delete sessions whose last put was before `before`; return how many."""
        before_us = str(to_us(validate_before(before)))
        await self._ensure_ready()
        keys = (self._keys.sessions, *self._indexes)
        args = (
            self._keys.session_prefix,
            self._keys.tenant_prefix,
            before_us,
            str(_SCAN_BUDGET),
        )
        total = 0
        while True:
            deleted, examined = await self._conn.run(lambda c: CHECKPOINT_PRUNE(c, keys, args))
            total += as_int(deleted)
            if as_int(examined) < _SCAN_BUDGET:
                return total


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


def _parse_url_options(options: dict[str, str]) -> dict[str, Any]:
    """Typed values of the Spine options found in a URL's query string."""
    out: dict[str, Any] = {}
    for name, value in options.items():
        try:
            if name == "default_ttl":
                out[name] = float(value) if value else None
            elif name == "retries":
                out[name] = int(value)
            elif name == "cluster":
                out[name] = flag(name, value)
            else:
                out[name] = value
        except ValueError:
            raise ConfigError(f"bad value {value!r} for URL option {name!r}") from None
    return out
