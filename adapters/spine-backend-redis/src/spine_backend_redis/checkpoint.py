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
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from spine_core.spi import (
    CheckpointCapabilities,
    CheckpointStoreBase,
    ExportRow,
    ScanRow,
    Topology,
    option_names,
    parse_options,
    query_options,
    utc_now,
)

from ._checkpoint_adopt import adopt_spinekit
from ._client import (
    DEFAULT_URL,
    Connection,
    as_int,
    as_text,
    from_us,
    is_cluster,
    split_url_options,
    to_us,
)
from ._keys import SPINEKIT_PREFIX, CheckpointKeys
from ._options import RedisCheckpointOptions
from ._scripts import (
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
        export=True,
        concurrent_writers=True,
        durable=False,
        details={
            "server": "Redis >= 6.2, standalone or Cluster",
            "layout": "one hash per session; sorted-set indexes by id, tenant and update time",
            "compare_and_set": "Lua script (EVALSHA, EVAL on NOSCRIPT)",
            "ttl": "PEXPIRE on the session hash; stale index entries removed lazily",
            "export": "the id index (ZRANGEBYLEX) as keyset, then each session's hash and "
            "PTTL in one pipeline",
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
        self.options = options = parse_options(
            RedisCheckpointOptions,
            kwargs={
                "namespace": namespace,
                "default_ttl": default_ttl,
                "key_prefix": key_prefix,
                "prefix": prefix,
                "retries": retries,
                "cluster": cluster,
            },
        )
        self.namespace = options.namespace
        self.default_ttl = options.default_ttl
        self.key_prefix = options.key_prefix
        self.prefix = options.prefix
        self._keys = CheckpointKeys(self.key_prefix, self.namespace, self.prefix)
        self._indexes = (self._keys.sessions, self._keys.updated, self._keys.tenant_of)
        self._conn = Connection(
            url=DEFAULT_URL if url is None and client is None else url,
            client=client,
            client_options=client_options,
            retries=options.retries,
            cluster=options.cluster,
            spine_options=option_names(RedisCheckpointOptions),
        )

    @classmethod
    def from_url(cls, url: str, **options: Any) -> RedisCheckpoint:
        """A store for `url`.

        `namespace`, `default_ttl`, `key_prefix`, `prefix`, `retries` and `cluster` may also
        be given as query parameters; keyword options win.
        """
        clean, ours = split_url_options(url, option_names(RedisCheckpointOptions))
        return cls(clean, **{**query_options(RedisCheckpointOptions, ours), **options})

    def _target(self) -> str:
        scope = "" if self.prefix == SPINEKIT_PREFIX else f", prefix {self.prefix!r}"
        return f"{self._conn.target} (namespace {self.namespace!r}{scope})"

    async def _open(self) -> None:
        self._conn.open()
        if self.namespace == ADOPTED_NAMESPACE and not is_cluster(self._conn.client):
            await adopt_spinekit(self._conn, self._keys, self._indexes, self.prefix)

    async def _close(self) -> None:
        await self._conn.close()

    async def _ping(self) -> None:
        await self._conn.run(lambda c: c.ping())

    # -- hooks (see CheckpointStoreBase) ------------------------------------------------------
    async def _read(self, session_id: str) -> bytes | None:
        key = self._keys.session(session_id)
        raw: bytes | None = await self._conn.run(lambda c: c.hget(key, "state"))
        return raw

    async def _write(
        self,
        session_id: str,
        tenant_id: str | None,
        raw: str,
        ttl: float | None,
        *,
        updated_at: datetime | None = None,
    ) -> None:
        await self._put(session_id, tenant_id, raw, ttl, "", updated_at)

    async def _write_if(
        self,
        session_id: str,
        tenant_id: str | None,
        raw: str,
        ttl: float | None,
        expected: int,
        *,
        updated_at: datetime | None = None,
    ) -> int | None:
        # The script compares and writes atomically on the server.
        return await self._put(session_id, tenant_id, raw, ttl, str(expected), updated_at)

    async def _put(
        self,
        sid: str,
        tenant_id: str | None,
        raw: str,
        ttl: float | None,
        expected: str,
        updated_at: datetime | None = None,
    ) -> int | None:
        """Run the put script; the new revision, or None when `expected` did not match."""
        keys = (self._keys.session(sid), *self._indexes)
        args = (
            raw,
            expected,
            "" if ttl is None else str(ttl_ms(ttl)),
            "0" if tenant_id is None else "1",
            tenant_id or "",
            str(to_us(utc_now() if updated_at is None else updated_at)),
            sid,
            self._keys.tenant_prefix,
            secrets.token_hex(8),
        )
        ok, revision = await self._conn.run(lambda c: CHECKPOINT_PUT(c, keys, args))
        return as_int(revision) if as_int(ok) else None

    async def _remove(self, session_id: str) -> None:
        keys = (self._keys.session(session_id), *self._indexes)
        args = (session_id, self._keys.tenant_prefix)
        await self._conn.run(lambda c: CHECKPOINT_DELETE(c, keys, args))

    async def _revision(self, session_id: str) -> int:
        key = self._keys.session(session_id)
        raw = await self._conn.run(lambda c: c.hget(key, "rev"))
        return 0 if raw is None else as_int(raw)

    async def _scan(self, tenant_id: str | None, after: str | None, n: int) -> list[ScanRow]:
        index = self._keys.sessions if tenant_id is None else self._keys.tenant(tenant_id)
        keys = (index, *self._indexes)
        start = "-" if after is None else "(" + after
        rows: list[ScanRow] = []
        # Each script call examines at most _SCAN_BUDGET index entries (bounds blocking).
        while len(rows) < n:
            args = (
                self._keys.session_prefix,
                self._keys.tenant_prefix,
                "" if tenant_id is None else "t:" + tenant_id,
                start,
                str(n - len(rows)),
                str(_SCAN_BUDGET),
            )
            found, resume = await self._conn.run(
                lambda c, args=args: CHECKPOINT_PAGE(c, keys, args)  # type: ignore[misc]
            )
            rows.extend(
                (
                    as_text(sid),
                    None if tenant is None else as_text(tenant),
                    from_us(as_int(updated)),
                    as_int(rev),
                )
                for sid, rev, tenant, updated in found
            )
            start = as_text(resume)
            if not start:
                break
        return rows

    async def _export(self, tenant_id: str | None, after: str | None, n: int) -> list[ExportRow]:
        # The listing's index walk is the keyset (it also reaps expired entries); each found
        # session's hash and remaining ttl then come in one round trip.
        listed = await self._scan(tenant_id, after, n)
        if not listed:
            return []
        keys = [self._keys.session(sid) for sid, *_ in listed]

        async def fetch(client: Any) -> list[Any]:
            pipe = client.pipeline(transaction=False)
            for key in keys:
                pipe.hmget(key, "state", "rev", "tenant", "updated")
                pipe.pttl(key)
            replies: list[Any] = await pipe.execute()
            return replies

        replies = await self._conn.run(fetch)
        now = utc_now()
        rows: list[ExportRow] = []
        for (sid, *_), i in zip(listed, range(0, len(replies), 2), strict=True):
            (state, rev, tenant, updated), pttl = replies[i], as_int(replies[i + 1])
            if state is None or pttl == -2:
                continue  # deleted or expired since it was listed
            tenant_text = None if tenant is None else as_text(tenant)
            if tenant_id is not None and tenant_text != tenant_id:
                continue  # moved to another tenant since it was listed
            rows.append(
                (
                    sid,
                    tenant_text,
                    from_us(as_int(updated)),
                    as_int(rev),
                    state,
                    None if pttl < 0 else now + timedelta(milliseconds=pttl),
                )
            )
        return rows

    async def _prune(self, before: datetime) -> int:
        keys = (self._keys.sessions, *self._indexes)
        args = (
            self._keys.session_prefix,
            self._keys.tenant_prefix,
            str(to_us(before)),
            str(_SCAN_BUDGET),
        )
        total = 0
        while True:
            deleted, examined = await self._conn.run(lambda c: CHECKPOINT_PRUNE(c, keys, args))
            total += as_int(deleted)
            if as_int(examined) < _SCAN_BUDGET:
                return total
