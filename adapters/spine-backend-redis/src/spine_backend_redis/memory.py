"""`RedisMemory`: semantic memory on Redis 8 vector sets (VADD / VSIM / VREM).

Layout (namespace `ns`, default key prefix `spine`; see `_keys`):

- `{spine:ns}:mem:vectors`          the vector set: element = record id, attributes = digests
  of the session and of scalar metadata values (see `_filter`), for FILTER;
- `{spine:ns}:mem:record:<id>`      hash: `content`, `metadata` (JSON), `ts` (µs), `session`,
  `vector` (the exact FP32 vector: candidates are re-scored with it);
- `{spine:ns}:mem:session:<sid>`    sorted set of a session's ids scored by ts: `load` order;
- `{spine:ns}:mem:by_time`          sorted set of all ids scored by ts: `prune(before=)`;
- `{spine:ns}:mem:counts`           hash: records per (metadata key, value) pair, to plan filters;
- `{spine:ns}:mem:meta`             hash: embedder name and dimension, quantization, M;
- `{spine:ns}:mem:export`           while an export runs on a server without VRANGE: a
  snapshot of every id (sorted set, scores 0) that `export_records` pages by ZRANGEBYLEX.

Content and metadata live in the record hash, not in the vector's attributes: attributes
are parsed at every node a filtered search visits, so they stay small (digests), while
content may be megabytes. Every write is one Lua script (see `_scripts`).
"""

from __future__ import annotations

import json
import math
import operator
import secrets
import struct
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from spine_core.errors import ConfigError, DataError, UnsupportedServer
from spine_core.spi import (
    Embedder,
    Filter,
    MemoryCapabilities,
    MemoryRecord,
    MemoryStoreBase,
    PreparedRecord,
    Topology,
    matches_filter,
    option_names,
    parse_options,
    query_options,
    to_epoch_us,
    ts_from_us,
)

from ._client import (
    DEFAULT_URL,
    Connection,
    as_int,
    as_text,
    decodes_responses,
    is_cluster,
    split_url_options,
)
from ._filter import attributes, count_fields, filter_expression
from ._keys import MemoryKeys
from ._options import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_BUILD_EF,
    DEFAULT_EXACT_SESSION_LIMIT,
    DEFAULT_FILTER_EF,
    DEFAULT_OVERSAMPLE,
    DEFAULT_SCAN_SHARE,
    DEFAULT_SEARCH_EF,
    Quantization,
    RedisMemoryOptions,
)
from ._scripts import (
    MEMORY_CANDIDATES,
    MEMORY_DELETE,
    MEMORY_EXPORT_STEP,
    MEMORY_FETCH,
    MEMORY_INIT,
    MEMORY_LOAD,
    MEMORY_PLAN,
    MEMORY_SAVE,
)

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisMemory"]

_QUANT_FLAGS: dict[str, str] = {"q8": "Q8", "noquant": "NOQUANT", "bin": "BIN"}

# Used for a new namespace when the option is not given (see _options for the others, and
# README "Search parameters" for the measurements behind them).
# VADD runs inside the save script, on the server's main thread: its CAS option (graph search
# on a background thread) is ignored there, and is not used as a plain command either:
# Redis before the fix of redis/redis#15270 (8.2.3 among them) miscounts attributes a CAS
# insert sets, and an RDB save may then drop every attribute of the set.
DEFAULT_QUANTIZATION: Quantization = "q8"
DEFAULT_M = 16
_MIN_EXTRA = 10  # candidates beyond k that are always re-scored, however small k is
_FILTER_EF_FACTOR = 5  # FILTER-EF per expected node visit (measured: recall >= 0.99 at 5-50%)
_RECORDS_PER_CALL = 16  # records one save script writes: ~10-30 ms of server time at most
_INGEST_CONNECTIONS = 4  # batches of one save_many in flight at once (measured: 2-8 alike)
_EXPORT_SNAPSHOT_MS = 600_000  # an export id snapshot lives 10 min after its last page
_SNAPSHOT_STEP = 5_000  # ids one step of an export snapshot copies (a few ms of server time)


def _fp32(vector: Sequence[float]) -> bytes:
    """The little-endian FP32 blob VADD/VSIM take."""
    return struct.pack(f"<{len(vector)}f", *vector)


class RedisMemory(MemoryStoreBase):
    """Semantic memory on Redis 8 vector sets: HNSW search, FILTER on session and metadata.

    Needs Redis 8 or newer (vector sets); on an older server the first use raises
    `ConfigError`. Search parameters are the store's own (see the README), not the engine's
    defaults, and are reported in `capabilities.details`.
    """

    backend: ClassVar[str] = "redis"
    distribution: ClassVar[str] = "spine-backend-redis"
    topology: Topology = "server"

    def __init__(
        self,
        url: str | None = None,
        *,
        client: Redis | None = None,
        embedder: Embedder | None = None,
        namespace: str = "default",
        key_prefix: str = "spine",
        quantization: Quantization | None = None,
        m: int | None = None,
        build_ef: int = DEFAULT_BUILD_EF,
        search_ef: int = DEFAULT_SEARCH_EF,
        filter_ef: int = DEFAULT_FILTER_EF,
        oversample: int = DEFAULT_OVERSAMPLE,
        exact_session_limit: int = DEFAULT_EXACT_SESSION_LIMIT,
        scan_share: float = DEFAULT_SCAN_SHARE,
        batch_size: int = DEFAULT_BATCH_SIZE,
        retries: int = 3,
        cluster: bool = False,
        **client_options: Any,
    ) -> None:
        options = parse_options(
            RedisMemoryOptions,
            kwargs={
                "namespace": namespace,
                "key_prefix": key_prefix,
                "quantization": quantization,
                "m": m,
                "build_ef": build_ef,
                "search_ef": search_ef,
                "filter_ef": filter_ef,
                "oversample": oversample,
                "exact_session_limit": exact_session_limit,
                "scan_share": scan_share,
                "batch_size": batch_size,
                "retries": retries,
                "cluster": cluster,
            },
        )
        super().__init__(embedder=embedder, namespace=options.namespace)
        self.options = options
        self.key_prefix = options.key_prefix
        self._requested_quantization = options.quantization
        self._requested_m = options.m
        self.quantization: Quantization = options.quantization or DEFAULT_QUANTIZATION
        self.m = options.m or DEFAULT_M
        self.build_ef = options.build_ef
        self.search_ef = options.search_ef
        self.filter_ef = options.filter_ef
        self.oversample = options.oversample
        self.exact_session_limit = options.exact_session_limit
        self.scan_share = options.scan_share
        self.batch_size = options.batch_size
        # `batch_size` records in flight at most, split over up to _INGEST_CONNECTIONS chunks.
        chunk = max(_RECORDS_PER_CALL, math.ceil(self.batch_size / _INGEST_CONNECTIONS))
        self._insert_chunk = chunk
        self._insert_lanes = max(1, min(_INGEST_CONNECTIONS, self.batch_size // chunk))
        if client is not None and decodes_responses(client):
            raise ConfigError(
                "RedisMemory needs a client with decode_responses=False: it reads binary "
                "vectors back (a checkpoint store can share a decoding client)"
            )
        self._keys = MemoryKeys(self.key_prefix, self.namespace)
        self._vrange: bool | None = None
        """Whether the server has VRANGE (Redis >= 8.4); None until an export asks."""
        self._conn = Connection(
            url=DEFAULT_URL if url is None and client is None else url,
            client=client,
            client_options=client_options,
            retries=options.retries,
            cluster=options.cluster,
            spine_options=option_names(RedisMemoryOptions),
        )
        self.capabilities = self._describe()

    def _describe(self) -> MemoryCapabilities:
        return MemoryCapabilities(
            get=True,
            forget=True,
            prune=True,
            save_many=True,
            filter=True,
            persistent=True,
            approximate=True,
            export=True,
            concurrent_writers=True,
            details={
                "server": "Redis >= 8 (vector sets)",
                "index": "HNSW (vector set)",
                "metric": "cosine; VSIM candidates re-scored exactly (FP32 vector in the record)",
                "quantization": self.quantization,
                "m": self.m,
                "build_ef": self.build_ef,
                "search_ef": self.search_ef,
                "filter_ef": self.filter_ef,
                "oversample": self.oversample,
                "exact_session_limit": self.exact_session_limit,
                "scan_share": self.scan_share,
                "batch_size": self.batch_size,
                "filter": "metadata equality via digest attributes + FILTER; re-checked",
                "export": "ids in byte order by VRANGE (Redis >= 8.4), else from a snapshot "
                "of the id index (a sorted set of scores 0) built in ZSCAN steps when an "
                "export starts and paged by ZRANGEBYLEX; the exact FP32 vectors",
            },
        )

    @classmethod
    def from_url(cls, url: str, **options: Any) -> RedisMemory:
        """A store for `url`; store options may also be given as query parameters."""
        clean, ours = split_url_options(url, option_names(RedisMemoryOptions))
        return cls(clean, **{**query_options(RedisMemoryOptions, ours), **options})

    def _target(self) -> str:
        return f"{self._conn.target} (namespace {self.namespace!r})"

    # -- lifecycle ---------------------------------------------------------------------------
    async def _open(self) -> None:
        self._conn.open()
        try:
            await self._check_server()
        except BaseException:
            await self._conn.close()
            raise

    async def _claim(self, dimension: int) -> None:
        await self._check_meta(dimension)

    async def _check_server(self) -> None:
        from redis.exceptions import ResponseError

        key = self._keys.vectors
        try:
            await self._conn.run(lambda c: c.execute_command("VCARD", key))
        except ResponseError as exc:
            message = str(exc)
            if "unknown command" not in message.lower():
                raise UnsupportedServer(
                    f"{self._conn.what} refused the vector-set command VCARD ({message}); "
                    "RedisMemory needs the vector-set commands VADD, VSIM, VREM and VCARD"
                ) from None
            version = await self._server_version()
            raise UnsupportedServer(
                f"RedisMemory needs Redis 8+ (vector sets: VADD/VSIM); {self._conn.what} "
                f"runs Redis {version} without them. Use a Redis 8 server for memory (the "
                "checkpoint store works on Redis 6.2+)."
            ) from None

    async def _server_version(self) -> str:
        try:
            info = await self._conn.run(lambda c: c.info("server"))
            return str(info.get("redis_version", "?"))
        except Exception:  # best effort: the version only decorates the message
            return "?"

    async def _check_meta(self, dimension: int) -> None:
        """Record the embedder and index options for a new namespace, else check them."""
        wanted = {
            "embedder": self.embedder_name,
            "dimension": str(dimension),
            "quantization": self.quantization,
            "m": str(self.m),
        }
        args = [part for pair in wanted.items() for part in pair]
        key = self._keys.meta
        reply = await self._conn.run(lambda c: MEMORY_INIT(c, (key,), args))
        if isinstance(reply, dict):
            items = list(reply.items())
        else:
            items = list(zip(reply[::2], reply[1::2], strict=True))
        stored = {as_text(k): as_text(v) for k, v in items}
        try:
            stored_dimension = int(stored["dimension"])
            name = stored["embedder"]
        except (KeyError, ValueError):
            raise DataError(
                f"RedisMemory namespace {self.namespace!r}: meta hash {key!r} is corrupt"
            ) from None
        self._check_embedder(name, stored_dimension, dimension)
        for option, requested in (
            ("quantization", self._requested_quantization),
            ("m", None if self._requested_m is None else str(self._requested_m)),
        ):
            have = stored.get(option)
            if have is None:
                continue
            if requested is not None and requested != have:
                raise ConfigError(
                    f"RedisMemory namespace {self.namespace!r} was created with "
                    f"{option}={have}; a vector set cannot change it (asked for {requested}). "
                    "Omit the option or use another namespace."
                )
        self.quantization = stored.get("quantization", self.quantization)  # type: ignore[assignment]
        self.m = int(stored.get("m", self.m))
        self.capabilities = self._describe()

    async def _close(self) -> None:
        await self._conn.close()

    async def _ping(self) -> None:
        await self._conn.run(lambda c: c.ping())

    # -- writes ------------------------------------------------------------------------------
    async def _insert(self, records: list[PreparedRecord], *, replace: bool = False) -> None:
        """Store one chunk of validated records (at most `_insert_chunk`, set from `batch_size`).

        Each script call writes `_RECORDS_PER_CALL` records atomically (short enough not to
        stall the server for other clients); a retried chunk rewrites the same ids, so a
        retry never duplicates. The script replaces a record whose id exists (its session
        and value counts too), which is what a restore (`replace`) needs. The base keeps up
        to `_INGEST_CONNECTIONS` chunks in flight (`_insert_lanes`), so the server works on
        one while the client packs the next, and no call waits behind more than `batch_size`
        records (which keeps it within the per-call timeout). When a chunk fails for good,
        the base deletes the records of the call again (`_discard`) before raising.
        """
        calls = [
            self._save_args(records[i : i + _RECORDS_PER_CALL])
            for i in range(0, len(records), _RECORDS_PER_CALL)
        ]
        await self._conn.run(lambda c: self._save_calls(c, calls))

    async def _discard(self, ids: list[str]) -> None:
        """Delete what a failed `save_many` may have written (ids are new: nothing else goes)."""
        for start in range(0, len(ids), self.batch_size):
            await self._delete(ids[start : start + self.batch_size])

    async def _save_calls(self, client: Any, calls: list[tuple[Any, ...]]) -> None:
        from redis.exceptions import NoScriptError

        keys = self._save_keys
        if is_cluster(client):
            # A cluster pipeline cannot carry EVALSHA; the calls share one slot anyway.
            for args in calls:
                await MEMORY_SAVE(client, keys, args)
            return
        for _ in range(2):
            pipe = client.pipeline(transaction=False)
            for args in calls:
                pipe.evalsha(MEMORY_SAVE.sha, len(keys), *keys, *args)
            try:
                await pipe.execute()
                return
            except NoScriptError:  # the server lost its script cache: load it, run again
                await client.script_load(MEMORY_SAVE.source)
        raise AssertionError("the save script vanished twice")  # pragma: no cover

    @property
    def _save_keys(self) -> tuple[str, str, str]:
        return (self._keys.vectors, self._keys.by_time, self._keys.counts)

    def _save_args(self, records: Sequence[PreparedRecord]) -> tuple[Any, ...]:
        args: list[Any] = [
            self._keys.record_prefix,
            self._keys.session_prefix,
            _QUANT_FLAGS[self.quantization],
            str(self.build_ef),
            str(self.m),
        ]
        for record in records:
            args += (
                record.id,
                _fp32(record.vector),
                attributes(record.session_id, record.metadata),
                record.content,
                record.metadata_json,
                str(to_epoch_us(record.ts)),
                record.session_id or "",
                "0" if record.session_id is None else "1",
            )
        return tuple(args)

    async def _delete(self, ids: Sequence[Any], session_key: str = "") -> int:
        keys = (self._keys.vectors, self._keys.by_time, self._keys.counts)
        args = (self._keys.record_prefix, self._keys.session_prefix, session_key, *ids)
        return as_int(await self._conn.run(lambda c: MEMORY_DELETE(c, keys, args)))

    async def _forget(self, record_id: str) -> bool:
        return await self._delete([record_id]) == 1

    async def _prune(self, session_id: str | None, before: float | None) -> int:
        sid = session_id
        index = self._keys.by_time if sid is None else self._keys.session(sid)
        upper = "+inf" if before is None else f"({to_epoch_us(before)}"
        batch = self.batch_size
        total = 0
        while True:
            ids = await self._conn.run(
                lambda c: c.zrangebyscore(index, "-inf", upper, start=0, num=batch)
            )
            if not ids:
                return total
            total += await self._delete(ids, "" if sid is None else index)

    # -- export --------------------------------------------------------------------------------
    async def _export(
        self, after: str | None, n: int
    ) -> Sequence[tuple[MemoryRecord, list[float] | None]]:
        out: list[tuple[MemoryRecord, list[float] | None]] = []
        start = after
        while len(out) < n:
            ids = await self._export_ids(start, n - len(out), fresh=start is None)
            if not ids:
                break
            out += await self._export_rows(ids)  # ids forgotten meanwhile drop out
            start = ids[-1]
        return out

    async def _export_ids(self, after: str | None, n: int, *, fresh: bool) -> list[str]:
        """Up to `n` record ids > `after` in byte (= code point) order."""
        from redis.exceptions import RedisError

        low = "-" if after is None else "(" + after
        vectors = self._keys.vectors
        if self._vrange is not False:
            try:
                ids = await self._conn.run(
                    lambda c: c.execute_command("VRANGE", vectors, low, "+", n)
                )
                self._vrange = True
                return [as_text(i) for i in ids or []]
            except RedisError as exc:
                # The server says "unknown command"; a cluster client, which routes by the
                # server's command table, says the command "doesn't exist".
                message = str(exc).lower()
                if self._vrange or not ("unknown command" in message or "exist" in message):
                    raise
                self._vrange = False  # before Redis 8.4: page a snapshot of the id index
        snapshot = self._keys.tag + ":mem:export"
        if fresh or not await self._conn.run(lambda c: c.exists(snapshot)):
            await self._snapshot_ids(snapshot)
        ids = await self._conn.run(lambda c: c.zrangebylex(snapshot, low, "+", start=0, num=n))
        if len(ids) < n:
            # The last page: the snapshot has served its export (a concurrent one that still
            # pages it rebuilds it on its next page, keyed by its cursor).
            await self._conn.run(lambda c: c.unlink(snapshot))
        else:
            await self._conn.run(lambda c: c.pexpire(snapshot, _EXPORT_SNAPSHOT_MS))
        return [as_text(i) for i in ids]

    async def _snapshot_ids(self, snapshot: str) -> None:
        """Copy every id of the by-time index, scored 0 (so in byte order), to `snapshot`.

        In bounded server-side steps (a script: ZSCAN, then ZADD of what it found), so the
        server never blocks for long however many records there are and no id crosses the
        network; SCAN returns every id present throughout at least once, and a zset ignores
        the repeats. Built aside, then renamed into place.
        """
        by_time = self._keys.by_time
        scratch = f"{snapshot}:{secrets.token_hex(8)}"
        try:
            cursor = 0
            while True:
                cursor = await self._snapshot_step(by_time, scratch, cursor)
                if not cursor:
                    break

            async def publish(client: Any) -> None:
                await client.unlink(snapshot)  # freed in the background, however large
                if await client.exists(scratch):
                    # Atomic: a concurrent export pages either the old snapshot or this one.
                    await client.rename(scratch, snapshot)

            await self._conn.run(publish)
        finally:
            await self._conn.run(lambda c: c.unlink(scratch))

    async def _snapshot_step(self, by_time: str, scratch: str, cursor: int) -> int:
        """One ZSCAN step of `by_time` added to `scratch` (scores 0); the next cursor."""
        keys = (by_time, scratch)
        args = (str(cursor), str(_SNAPSHOT_STEP), str(_EXPORT_SNAPSHOT_MS))
        return as_int(await self._conn.run(lambda c: MEMORY_EXPORT_STEP(c, keys, args)))

    async def _export_rows(self, ids: list[str]) -> list[tuple[MemoryRecord, list[float] | None]]:
        keys = [self._keys.record(i) for i in ids]

        async def fetch(client: Any) -> list[Any]:
            pipe = client.pipeline(transaction=False)
            for key in keys:
                pipe.hmget(key, "content", "session", "metadata", "ts", "vector")
            replies: list[Any] = await pipe.execute()
            return replies

        rows = await self._conn.run(fetch)
        out: list[tuple[MemoryRecord, list[float] | None]] = []
        for rid, (*row, blob) in zip(ids, rows, strict=True):
            record = self._record(rid, row)
            if record is None or blob is None:
                continue
            if len(blob) % 4:
                raise DataError(
                    f"RedisMemory namespace {self.namespace!r}: record {rid!r} has a corrupt vector"
                )
            out.append((record, list(struct.unpack(f"<{len(blob) // 4}f", blob))))
        return out

    # -- reads -------------------------------------------------------------------------------
    async def _fetch(self, ids: Sequence[Any]) -> list[MemoryRecord | None]:
        """The records with these ids, in order (`None` where one has vanished)."""
        if not ids:
            return []
        texts = [as_text(i) for i in ids]
        keys = (self._keys.vectors,)
        args = (self._keys.record_prefix, *texts)
        rows = await self._conn.run(lambda c: MEMORY_FETCH(c, keys, args))
        return [self._record(rid, row) for rid, row in zip(texts, rows, strict=True)]

    def _record(self, record_id: str, row: Sequence[Any]) -> MemoryRecord | None:
        content, session, metadata, ts = row
        if content is None:
            return None
        try:
            return MemoryRecord(
                id=record_id,
                content=as_text(content),
                session_id=None if session is None else as_text(session),
                metadata=json.loads(as_text(metadata)),
                ts=ts_from_us(as_int(ts)),
            )
        except (ValueError, TypeError) as exc:
            raise DataError(
                f"RedisMemory namespace {self.namespace!r}: record {record_id!r} is corrupt: "
                f"{type(exc).__name__}"
            ) from None

    async def _lookup(self, record_id: str) -> MemoryRecord | None:
        (record,) = await self._fetch([record_id])
        return record

    async def _recent(self, session_id: str, limit: int) -> list[MemoryRecord]:
        key = self._keys.session(session_id)
        args = (self._keys.record_prefix, str(limit))
        ids, rows = await self._conn.run(lambda c: MEMORY_LOAD(c, (key,), args))
        records = [self._record(as_text(i), r) for i, r in zip(ids, rows, strict=True)]
        records.reverse()  # oldest first
        return [r for r in records if r is not None]

    async def _query(
        self, vector: list[float], k: int, session_id: str | None, filter: Filter | None
    ) -> list[tuple[MemoryRecord, float]]:
        """VSIM candidates re-scored with their exact vectors: (record, exact cosine), best first.

        The quantized index only has to get the right records into the candidate pool. How
        candidates are found depends on the scope (see the README): a small session is scored
        exhaustively; a session or filter that matches a small share of the namespace by the
        server's linear scan; anything else by the graph walk.
        """
        count = max(k * self.oversample, k + _MIN_EXTRA)
        if session_id is None and not filter:
            found = await self._candidates(vector, count, None, None, filter_ef=0)
            scored = self._score(vector, ((rid, blob, None) for rid, blob in found))
        else:
            total, estimate, members, rows = await self._plan(session_id, filter)
            if estimate == 0:
                return []  # no record in the session, or none with one of the filter's pairs
            if members is None:
                # A rare scope is scanned linearly (exact); a common one walks the graph. The
                # estimate is an upper bound (pairs are counted one by one), so a scope judged
                # common may still match few: then the walk falls back to the scan.
                share = estimate / max(total, 1)
                # A filtered walk must visit about count / share nodes to meet `count`
                # matches; it is given a few times that, up to `filter_ef`. Below
                # `scan_share`, the linear scan is the cheaper (and exact) way.
                effort = 0 if share <= self.scan_share else self._filter_effort(count, share)
                found = await self._candidates(vector, count, session_id, filter, filter_ef=effort)
                scored = self._score(vector, ((rid, blob, None) for rid, blob in found))
            else:  # the whole session, scored exactly
                triples = (
                    (rid, row[0], row[1] if filter else None)
                    for rid, row in zip(members, rows, strict=True)
                )
                scored = self._score(vector, triples)
                if filter:
                    scored = [
                        (s, rid, md) for s, rid, md in scored if matches_filter(md or {}, filter)
                    ]
        scored.sort(key=lambda row: (-row[0], row[1]))
        best = scored[:k]
        records = await self._fetch([rid for _, rid, _ in best])
        return [
            (record, score)
            for (score, _, _), record in zip(best, records, strict=True)
            if record is not None
            and (session_id is None or record.session_id == session_id)
            and matches_filter(record.metadata, filter)
        ]

    async def _candidates(
        self,
        vector: list[float],
        count: int,
        session_id: str | None,
        flt: Filter | None,
        *,
        filter_ef: int,
    ) -> list[tuple[str, Any]]:
        """(id, exact vector) of the `count` records VSIM proposes (re-scored by the caller).

        With a scope, `filter_ef` > 0 walks the graph with that FILTER-EF; 0 scans linearly.
        """
        base: list[Any] = [_fp32(vector), "COUNT", count, "EF", max(self.search_ef, count)]
        expression = filter_expression(session_id, flt)
        if expression is None:
            return await self._vsim(["FP32", *base])
        base += ["FILTER", expression]
        if filter_ef > 0:
            found = await self._vsim(["FP32", *base, "FILTER-EF", filter_ef])
            if len(found) >= count:
                return found
            # Fewer matches than asked for: either there are no more, or the graph walk gave
            # up before meeting them (a rare filter). A linear scan settles it exactly.
        return await self._vsim(["FP32", *base, "TRUTH"])

    def _filter_effort(self, count: int, share: float) -> int:
        """FILTER-EF for a filter matching about `share` of the namespace."""
        return min(self.filter_ef, max(count, math.ceil(count / share * _FILTER_EF_FACTOR)))

    async def _vsim(self, vsim_args: list[Any]) -> list[tuple[str, Any]]:
        keys = (self._keys.vectors,)
        args = (self._keys.record_prefix, *vsim_args)
        ids, vectors = await self._conn.run(lambda c: MEMORY_CANDIDATES(c, keys, args))
        return [(as_text(rid), blob) for rid, blob in zip(ids, vectors, strict=True)]

    async def _plan(
        self, session_id: str | None, flt: Filter | None
    ) -> tuple[int, int, list[str] | None, list[Any]]:
        """(namespace size, upper bound on matches, the session's ids and rows if small)."""
        keys = (self._keys.vectors, self._keys.counts)
        args = (
            "" if session_id is None else self._keys.session(session_id),
            str(self.exact_session_limit),
            self._keys.record_prefix,
            "1" if flt else "0",
            *count_fields(flt),
        )
        total, estimate, ids, rows = await self._conn.run(lambda c: MEMORY_PLAN(c, keys, args))
        if ids is None:
            return as_int(total), as_int(estimate), None, []
        padded = [(row[0], row[1] if len(row) > 1 else None) for row in rows]
        return as_int(total), as_int(estimate), [as_text(rid) for rid in ids], padded

    def _score(
        self, vector: list[float], rows: Iterable[tuple[str, Any, Any]]
    ) -> list[tuple[float, str, dict[str, Any] | None]]:
        """(exact cosine, id, decoded metadata or None) for each row that has a vector."""
        unpack = struct.Struct(f"<{len(vector)}f").unpack
        out: list[tuple[float, str, dict[str, Any] | None]] = []
        for rid, blob, metadata in rows:
            if blob is None:
                continue  # forgotten between VSIM and now
            try:
                stored = unpack(blob)
            except (struct.error, TypeError):
                raise DataError(
                    f"RedisMemory namespace {self.namespace!r}: record {rid!r} has a corrupt vector"
                ) from None
            # Both vectors are unit length (the stored one up to float32 rounding).
            score = max(-1.0, min(1.0, sum(map(operator.mul, vector, stored))))
            out.append((score, rid, None if metadata is None else json.loads(as_text(metadata))))
        return out

    async def _footprint(self) -> int | None:
        """Bytes of memory the server uses now (INFO used_memory), for `spine bench`.

        Server-wide: the bench counts the growth over the store's own writes. None on a
        cluster, where the figure would be one node's.
        """
        await self._ensure_ready()

        async def used(client: Any) -> Any:
            return None if is_cluster(client) else await client.info("memory")

        info = await self._conn.run(used)
        value = info.get("used_memory") if isinstance(info, dict) else None
        return value if isinstance(value, int) else None

    async def _drop_namespace(self) -> None:
        """Delete the namespace: every record and its meta hash (for `spine check`).

        Private: the conformance kit calls it on the namespaces it made, to leave nothing.
        """
        await self._ensure_ready()
        await self._prune(None, None)  # every record, through the delete script
        k = self._keys
        # One hash tag: a single-slot DEL, also on a cluster.
        keys = (k.vectors, k.by_time, k.counts, k.meta, k.tag + ":mem:export")
        await self._conn.run(lambda c: c.delete(*keys))
        await self.aclose()
