"""Redis-specific behaviour the conformance kit cannot know about.

Every test talks to a real server (Redis 8 via `redis8`, the machine's Redis 7 via `redis7`)
or to a port where nothing listens; nothing is faked.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
import socket
import struct
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import redis
import redis.asyncio

from spine_backend_redis import RawRedis, RedisCheckpoint, RedisMemory
from spine_backend_redis._client import Script
from spine_backend_redis._filter import filter_expression
from spine_backend_redis._scripts import CHECKPOINT_PUT
from spine_core import (
    BackendUnavailable,
    ConfigError,
    ConflictError,
    HashEmbedder,
    MemoryItem,
    State,
    open_checkpoint,
    open_memory,
)
from spine_testing import cas_across_processes

KeyLister = Callable[[str, str], list[bytes]]


# -- helpers --------------------------------------------------------------------------------------
def _crc16(data: bytes) -> int:
    """CRC-16/XMODEM, the checksum Redis Cluster hashes keys with."""
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def _slot(key: bytes) -> int:
    """The cluster slot of `key`, honouring a `{hash tag}` as Redis does."""
    start = key.find(b"{")
    if start != -1:
        end = key.find(b"}", start + 1)
        if end > start + 1:
            key = key[start + 1 : end]
    return _crc16(key) % 16384


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # closed again: connecting is refused


def _cosine(a: list[float], b: list[float]) -> float:
    dot = math.fsum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(math.fsum(x * x for x in a)) * math.sqrt(math.fsum(y * y for y in b)))


# -- packaging ------------------------------------------------------------------------------------
def test_importing_the_package_loads_no_driver() -> None:
    code = (
        "import sys, spine_backend_redis; "
        "loaded = [m for m in sys.modules if m == 'redis' or m.startswith('redis.')]; "
        "sys.exit(f'imported {sorted(loaded)}' if loaded else 0)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_entry_points_resolve_by_url(redis8: str, ns8: str) -> None:
    checkpoint = open_checkpoint(redis8, namespace=ns8)
    memory = open_memory(redis8, namespace=ns8)
    assert isinstance(checkpoint, RedisCheckpoint)
    assert isinstance(memory, RedisMemory)
    rediss = open_checkpoint("rediss://cache.example:6380/0", namespace=ns8)
    assert isinstance(rediss, RedisCheckpoint)


def test_url_query_options_are_ours_or_the_driver_s(redis8: str) -> None:
    store = RedisMemory.from_url(f"{redis8}?search_ef=123&namespace=spt_q&socket_timeout=5")
    assert store.search_ef == 123
    assert store.namespace == "spt_q"
    assert store.capabilities.details["search_ef"] == 123
    with pytest.raises(ConfigError, match="search_ef"):
        RedisMemory.from_url(f"{redis8}?search_ef=lots")
    with pytest.raises(ConfigError, match="scheme"):
        RedisCheckpoint.from_url("http://127.0.0.1:6379")


# -- the fail-loud memory check on Redis 7 --------------------------------------------------------
async def test_memory_refuses_redis_without_vector_sets(redis7: str, ns7: str) -> None:
    store = RedisMemory.from_url(redis7, namespace=ns7)
    with pytest.raises(ConfigError) as caught:
        await store.save("hello")
    message = str(caught.value)
    assert "Redis 8+" in message
    assert "vector sets" in message
    health = await store.health()
    assert not health.ok
    assert health.status == "unsupported"  # it answers; it has no vector sets
    assert health.error is not None
    assert "Redis 8+" in health.error
    await store.aclose()
    # The checkpoint store works on the very same server.
    async with RedisCheckpoint.from_url(redis7, namespace=ns7) as checkpoint:
        await checkpoint.put(State(session_id="still-works"))
        assert await checkpoint.revision("still-works") == 1


# -- unreachable server: bounded retries, then BackendUnavailable, no secret anywhere -------------
@pytest.mark.parametrize("kind", ["checkpoint", "memory"])
async def test_unreachable_server_raises_after_bounded_retries(
    kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "s3cr3t-pa55"
    url = f"redis://spine:{secret}@127.0.0.1:{_closed_port()}/0"
    store: Any = (
        RedisCheckpoint.from_url(url, retries=3)
        if kind == "checkpoint"
        else RedisMemory.from_url(url, retries=3)
    )
    operation = store.get("s1") if kind == "checkpoint" else store.search("anything")
    with (
        caplog.at_level(logging.WARNING, logger="spine"),
        pytest.raises(BackendUnavailable) as caught,
    ):
        await operation
    message = str(caught.value)
    assert "after 3 attempts" in message
    assert "127.0.0.1" in message
    retries = [r for r in caplog.records if "retrying" in r.getMessage()]
    assert len(retries) == 2  # attempts 1 and 2 were retried, attempt 3 raised
    health = await store.health()
    assert not health.ok
    shown = [message, health.error or "", repr(store), str(store.info()), caplog.text]
    for text in shown:
        assert secret not in text
    assert "***" in repr(store)
    await store.aclose()


async def test_wrong_password_is_a_config_error_without_retries(redis8: str) -> None:
    url = redis8.replace("redis://", "redis://nobody-here:wrong-pass@", 1)
    store = RedisCheckpoint.from_url(url)
    with pytest.raises(ConfigError) as caught:
        await store.get("s1")
    assert "wrong-pass" not in str(caught.value)
    await store.aclose()


# -- cluster-friendly keys ------------------------------------------------------------------------
def test_crc16_matches_redis_cluster_reference() -> None:
    assert _crc16(b"123456789") == 0x31C3  # the check value in the Redis Cluster spec
    assert _slot(b"{user1000}.following") == _slot(b"{user1000}.followers")
    assert _slot(b"foo{}{bar}") == _crc16(b"foo{}{bar}") % 16384  # empty tag: whole key


async def test_all_keys_of_a_namespace_share_one_slot(
    redis8: str, ns8: str, list_keys: KeyLister
) -> None:
    async with RedisCheckpoint.from_url(redis8, namespace=ns8) as checkpoint:
        await checkpoint.put(State(session_id="a{b}c", tenant_id="t}{"))
        await checkpoint.put(State(session_id="plain"), ttl=60)
    async with RedisMemory.from_url(redis8, namespace=ns8) as memory:
        await memory.save("one", session_id="{x}", metadata={"k": "v"})
        await memory.save("two")
    keys = list_keys(redis8, ns8)
    assert len(keys) >= 10  # session hashes, indexes, tenant set, vectors, records, meta
    assert all(key.startswith(f"{{spine:{ns8}}}:".encode()) for key in keys)
    assert {_slot(key) for key in keys} == {_slot(f"spine:{ns8}".encode())}


async def test_a_save_many_whose_batch_fails_leaves_nothing_behind(
    redis8: str, ns8: str, list_keys: KeyLister, monkeypatch: pytest.MonkeyPatch
) -> None:
    """All or none: batches already written (on other connections) are deleted again."""
    async with RedisMemory.from_url(redis8, namespace=ns8, batch_size=32) as memory:
        await memory.save("kept", session_id="k")
        before = set(list_keys(redis8, ns8))
        calls = 0
        real = memory._save_args

        def third_fails(records: Any) -> tuple[Any, ...]:
            nonlocal calls
            calls += 1
            args = real(records)
            # A timestamp the server refuses (ZADD): this save script fails midway.
            return (*args[:10], "not-a-time", *args[11:]) if calls == 3 else args

        monkeypatch.setattr(memory, "_save_args", third_fails)
        items = [MemoryItem(content=f"doomed {i}", session_id="d") for i in range(200)]
        with pytest.raises(redis.exceptions.ResponseError, match="not a valid float"):
            await memory.save_many(items)
        assert calls >= 3  # the batches before the failing one were written, then undone
        assert await memory.load("d") == []
        assert [h.record.content for h in await memory.search("doomed", k=10)] == ["kept"]
        assert set(list_keys(redis8, ns8)) - before == set()


# -- cross-process compare-and-set ----------------------------------------------------------------
async def test_cross_process_compare_and_set_loses_no_update(redis8: str, ns8: str) -> None:
    await cas_across_processes(redis8, {"namespace": ns8})


async def test_a_retried_put_is_not_reported_as_its_own_conflict(redis8: str, ns8: str) -> None:
    """The write token: re-running an applied compare-and-set (lost reply) succeeds once."""
    async with RedisCheckpoint.from_url(redis8, namespace=ns8) as store:
        await store.put(State(session_id="s"))
        client = store._conn.client
        keys = (store._keys.session("s"), *store._indexes)
        args = ["{}", "1", "", "0", "", "1", "s", store._keys.tenant_prefix, "token-1"]
        state = State(session_id="s", step=7).model_dump_json()
        args[0] = state
        assert await CHECKPOINT_PUT(client, keys, args) == [1, 2]
        assert await CHECKPOINT_PUT(client, keys, args) == [1, 2]  # the retry: no conflict
        assert await store.revision("s") == 2
        args[-1] = "token-2"  # another writer with the same stale expectation
        assert await CHECKPOINT_PUT(client, keys, args) == [0, 2]
        with pytest.raises(ConflictError):
            await store.put(State(session_id="s"), expected_revision=1)


# -- TTL index hygiene ----------------------------------------------------------------------------
async def _wait_gone(client: Any, key: str) -> None:
    for _ in range(200):
        if not await client.exists(key):
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"{key} never expired")


async def test_expired_sessions_leave_every_index(redis8: str, ns8: str) -> None:
    async with RedisCheckpoint.from_url(redis8, namespace=ns8) as store:
        client = store._conn.client
        keys = store._keys
        for i in range(3):
            await store.put(State(session_id=f"short{i}", tenant_id="t"), ttl=0.05)
        await store.put(State(session_id="kept", tenant_id="t"))
        for i in range(3):
            await _wait_gone(client, keys.session(f"short{i}"))
        # Redis expired the hashes; their index entries stay until a script meets them.
        for index in (keys.sessions, keys.updated, keys.tenant("t")):
            assert await client.zcard(index) == 4
        assert await client.hlen(keys.tenant_of) == 4
        assert await store.revision("short0") == 0
        assert await store.get("short0") is None
        # Listing all sessions reaps the expired ones from every index, the tenant's too.
        page = await store.list_sessions()
        assert [s.session_id for s in page.sessions] == ["kept"]
        for index in (keys.sessions, keys.updated, keys.tenant("t")):
            assert await client.zcard(index) == 1
        assert await client.hlen(keys.tenant_of) == 1
        # prune counts only sessions that still existed, and reaps the rest
        await store.put(State(session_id="gone", tenant_id="u"), ttl=0.05)
        await _wait_gone(client, keys.session("gone"))
        assert await store.prune(before=datetime.now(UTC)) == 1
        for index in (keys.sessions, keys.updated, keys.tenant("t"), keys.tenant("u")):
            assert await client.zcard(index) == 0
        assert await client.hlen(keys.tenant_of) == 0


async def test_tenant_listing_after_expiry_and_recreation(redis8: str, ns8: str) -> None:
    async with RedisCheckpoint.from_url(redis8, namespace=ns8) as store:
        client = store._conn.client
        await store.put(State(session_id="s", tenant_id="old"), ttl=0.05)
        await store.put(State(session_id="e", tenant_id=""))
        await _wait_gone(client, store._keys.session("s"))
        await store.put(State(session_id="s", tenant_id="new"))  # re-created elsewhere
        assert await client.zcard(store._keys.tenant("old")) == 0
        assert [s.session_id for s in (await store.list_sessions(tenant_id="old")).sessions] == []
        new = (await store.list_sessions(tenant_id="new")).sessions
        assert [(s.session_id, s.tenant_id, s.revision) for s in new] == [("s", "new", 1)]
        empty = (await store.list_sessions(tenant_id="")).sessions
        assert [(s.session_id, s.tenant_id) for s in empty] == [("e", "")]


async def test_listing_skips_many_expired_entries_across_script_calls(
    redis8: str, ns8: str
) -> None:
    """More stale entries than one bounded script call examines: pages stay complete."""
    async with RedisCheckpoint.from_url(redis8, namespace=ns8) as store:
        client = store._conn.client
        for i in range(1200):
            await store.put(State(session_id=f"a{i:04d}"), ttl=0.05)
        await store.put(State(session_id="b-live-1"))
        await store.put(State(session_id="b-live-2"))
        for i in range(1200):
            await _wait_gone(client, store._keys.session(f"a{i:04d}"))
        page = await store.list_sessions(limit=1)
        assert [s.session_id for s in page.sessions] == ["b-live-1"]
        assert page.next_cursor == "b-live-1"
        page = await store.list_sessions(limit=1, cursor=page.next_cursor)
        assert [s.session_id for s in page.sessions] == ["b-live-2"]
        assert page.next_cursor is None


# -- injected client ------------------------------------------------------------------------------
async def test_injected_client_is_used_and_not_closed(redis8: str, ns8: str) -> None:
    client = redis.asyncio.Redis.from_url(redis8, decode_responses=True)
    try:
        store = RedisCheckpoint(client=client, namespace=ns8)
        await store.put(State(session_id="inj", tenant_id="t"))
        got = await store.get("inj")
        assert got is not None
        assert got.tenant_id == "t"
        page = await store.list_sessions()
        assert [s.session_id for s in page.sessions] == ["inj"]
        await store.aclose()
        assert await client.ping()  # still open: the caller owns it
        assert "127.0.0.1" in repr(store)
        with pytest.raises(ConfigError, match="decode_responses"):
            RedisMemory(client=client, namespace=ns8)
        with pytest.raises(ConfigError, match="client options"):
            RedisCheckpoint(client=client, socket_timeout=3)
    finally:
        await client.aclose()


# -- Lua: EVALSHA with a fallback to EVAL ---------------------------------------------------------
async def test_script_falls_back_to_eval_on_noscript(redis8: str, unique_prefix: str) -> None:
    script = Script(f"-- {unique_prefix}\nreturn tonumber(ARGV[1]) + 1")
    async with redis.asyncio.Redis.from_url(redis8) as client:
        assert await client.script_exists(script.sha) == [False]
        assert await script(client, (), ("41",)) == 42  # NOSCRIPT → EVAL (which caches it)
        assert await client.script_exists(script.sha) == [True]
        assert await script(client, (), ("1",)) == 2  # EVALSHA now


# -- memory: scores, filters, sessions, options ---------------------------------------------------
_TEXTS = [
    "solar panels on the roof",
    "solar power and batteries",
    "the roof leaks when it rains",
    "mitochondria is the powerhouse of the cell",
    "completely unrelated words here",
    "zyx wvu tsr",
    "quick brown fox",
    "rain on a tin roof",
]


@pytest.mark.parametrize(
    ("exact_session_limit", "scan_share"),
    [(256, 0.02), (0, 1.0), (0, 0.0)],
    ids=["exhaustive", "linear-scan", "graph-walk"],
)
async def test_scores_are_exact_cosine(
    redis8: str, ns8: str, exact_session_limit: int, scan_share: float
) -> None:
    embedder = HashEmbedder()
    async with RedisMemory.from_url(
        redis8,
        namespace=ns8,
        embedder=embedder,
        exact_session_limit=exact_session_limit,
        scan_share=scan_share,
    ) as memory:
        records = await memory.save_many([MemoryItem(content=t, session_id="s") for t in _TEXTS])
        vectors = await embedder.embed_many(["solar roof", *_TEXTS])
        want = {r.id: _cosine(vectors[0], v) for r, v in zip(records, vectors[1:], strict=True)}
        for scope in ("s", None):
            hits = await memory.search("solar roof", k=len(_TEXTS), session_id=scope)
            assert {h.record.id for h in hits} == set(want)
            for hit in hits:
                assert hit.score == pytest.approx(want[hit.record.id], abs=1e-6)
            assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        top = await memory.search(_TEXTS[3], k=1)
        assert top[0].record.content == _TEXTS[3]
        assert top[0].score == pytest.approx(1.0, abs=1e-6)


async def test_vsim_similarity_maps_to_cosine(redis8: str, ns8: str) -> None:
    """The engine's own score s is (1 + cos) / 2 (the store re-scores, but the map holds)."""
    embedder = HashEmbedder()
    vectors = await embedder.embed_many(_TEXTS)
    key = f"{{spine:{ns8}}}:probe"
    async with redis.asyncio.Redis.from_url(redis8) as client:
        for i, vector in enumerate(vectors):
            blob = struct.pack(f"<{len(vector)}f", *vector)
            await client.execute_command("VADD", key, "FP32", blob, str(i), "NOQUANT")
        query = vectors[0]
        blob = struct.pack(f"<{len(query)}f", *query)
        reply = await client.execute_command(
            "VSIM", key, "FP32", blob, "WITHSCORES", "COUNT", len(vectors), "EF", 500
        )
    # redis-py 8 speaks RESP3 by default: WITHSCORES is then a map, not a flat list of pairs.
    pairs = reply.items() if isinstance(reply, dict) else zip(reply[::2], reply[1::2], strict=True)
    for element, score in pairs:
        cos = _cosine(query, vectors[int(element)])
        assert 2 * float(score) - 1 == pytest.approx(cos, abs=1e-5)


_HOSTILE = [
    'x"||1',
    '" or 1 == 1 or "',
    "it's",
    "back\\slash",
    '\\"',
    "\\",
    '"',
    ".s == 1",
    "",
    "1",
    "\u00e9t\u00e9 \u2603 \U0001f600",
    "a' || .s || '",
]


async def test_filters_with_hostile_strings_match_exactly(redis8: str, ns8: str) -> None:
    async with RedisMemory.from_url(redis8, namespace=ns8, exact_session_limit=0) as memory:
        items = [
            MemoryItem(content=f"hostile value {i}", session_id="h", metadata={"v": value})
            for i, value in enumerate(_HOSTILE)
        ]
        items.append(MemoryItem(content="hostile key", metadata={'a"b || .c': 'x"||1'}))
        items.append(MemoryItem(content="numeric one", metadata={"v": 1}))
        items.append(MemoryItem(content="boolean true", metadata={"v": True}))
        items.append(MemoryItem(content="float one", metadata={"v": 1.0}))
        saved = await memory.save_many(items)
        by_content = {r.content: r.id for r in saved}
        for i, value in enumerate(_HOSTILE):
            for scope in ("h", None):
                hits = await memory.search(
                    "hostile value", k=50, session_id=scope, filter={"v": value}
                )
                assert [h.record.content for h in hits] == [f"hostile value {i}"], value
        hits = await memory.search("hostile", k=50, filter={'a"b || .c': 'x"||1'})
        assert [h.record.id for h in hits] == [by_content["hostile key"]]
        ones = await memory.search("one", k=50, filter={"v": 1})
        assert {h.record.content for h in ones} == {"numeric one", "float one"}
        trues = await memory.search("true", k=50, filter={"v": True})
        assert [h.record.content for h in trues] == ["boolean true"]
        assert await memory.search("x", k=50, filter={"v": 'x"||1', "w": 1}) == []


def test_filter_expressions_never_contain_user_text() -> None:
    shape = re.compile(
        r'^\.(s|m[0-9a-f]{16}) == "[0-9a-f]{16}"( and \.(m[0-9a-f]{16}) == "[0-9a-f]{16}")*$'
    )
    for value in [*_HOSTILE, 1, 1.5, True, -0.0, 10**30]:
        expression = filter_expression('s"||1', {'k" or 1 or "': value, "x": value})
        assert expression is not None
        assert shape.fullmatch(expression), expression


@pytest.mark.parametrize("scan_share", [0.0, 1.0], ids=["graph-walk", "linear-scan"])
async def test_large_sessions_search_like_small_ones(
    redis8: str, ns8: str, scan_share: float
) -> None:
    """Every way of searching a session finds the same records as the exhaustive one."""
    items = [MemoryItem(content=f"shared words {i}", session_id=f"s{i % 3}") for i in range(90)]
    async with RedisMemory.from_url(redis8, namespace=ns8) as exhaustive:
        await exhaustive.save_many(items)
        want = await exhaustive.search("shared words 4", k=5, session_id="s1")
    assert want[0].record.content == "shared words 4"
    async with RedisMemory.from_url(
        redis8, namespace=ns8, exact_session_limit=3, scan_share=scan_share
    ) as memory:
        got = await memory.search("shared words 4", k=5, session_id="s1")
        assert [h.score for h in got] == [h.score for h in want]
        last = want[-1].score  # records tied with the last hit may be swapped for each other
        assert [h.record.id for h in got if h.score > last] == [
            h.record.id for h in want if h.score > last
        ]
        everything = await memory.search("shared words", k=50, session_id="s1")
        assert sorted(h.record.content for h in everything) == sorted(
            f"shared words {i}" for i in range(90) if i % 3 == 1
        )


async def test_value_counts_follow_saves_and_deletes(redis8: str, ns8: str) -> None:
    """The per-pair counts that plan filtered searches stay exact through forget and prune."""
    async with RedisMemory.from_url(redis8, namespace=ns8) as memory:
        client = memory._conn.client
        saved = await memory.save_many(
            [
                MemoryItem(content=f"n{i}", session_id="s", metadata={"even": i % 2 == 0})
                for i in range(10)
            ]
        )
        await memory.save("other", metadata={"even": "yes", "nested": {"a": 1}})
        counts = {
            k.decode(): int(v) for k, v in (await client.hgetall(memory._keys.counts)).items()
        }
        assert sorted(counts.values()) == [1, 5, 5]  # true, false, "yes"; objects are not counted
        assert await memory.forget(saved[0].id)
        assert sorted((await client.hgetall(memory._keys.counts)).values()) == [b"1", b"4", b"5"]
        assert await memory.search("n", k=5, filter={"even": 2}) == []  # counted 0: no scan at all
        assert await memory.prune(session_id="s") == 9
        assert await memory.prune(before=datetime.now(UTC)) == 1
        assert not await client.exists(
            memory._keys.counts, memory._keys.vectors, memory._keys.by_time
        )


async def test_index_options_are_fixed_per_namespace(redis8: str, ns8: str) -> None:
    async with RedisMemory.from_url(redis8, namespace=ns8, quantization="noquant", m=8) as first:
        await first.save("hello")
    with pytest.raises(ConfigError, match="quantization=noquant"):
        async with RedisMemory.from_url(redis8, namespace=ns8, quantization="q8") as second:
            await second.save("again")
    async with RedisMemory.from_url(redis8, namespace=ns8) as adopted:
        await adopted.save("adopts the stored options")
        assert adopted.capabilities.details["quantization"] == "noquant"
        assert adopted.capabilities.details["m"] == 8
        hits = await adopted.search("hello", k=1)
        assert hits[0].score == pytest.approx(1.0, abs=1e-6)


async def test_record_layout_keeps_attributes_small(redis8: str, ns8: str) -> None:
    """Content and metadata live in the record hash; attributes hold fixed-size digests."""
    async with RedisMemory.from_url(redis8, namespace=ns8) as memory:
        big = "word " * 50_000
        record = await memory.save(big, session_id="s", metadata={"note": big[:10_000], "n": 2})
        client = memory._conn.client
        attrs = await client.execute_command("VGETATTR", memory._keys.vectors, record.id)
        assert len(attrs) < 200
        names = set(json.loads(attrs))
        assert "s" in names
        assert all(re.fullmatch(r"s|m[0-9a-f]{16}", name) for name in names)
        got = await memory.get(record.id)
        assert got is not None
        assert got.content == big
        assert got.metadata["n"] == 2


# -- raw floor ------------------------------------------------------------------------------------
async def test_raw_floor_round_trips_and_cleans_up(redis8: str) -> None:
    raw = RawRedis(redis8)
    await raw.open()
    try:
        await raw.put("k", "payload")
        assert await raw.get("k") == "payload"
        assert await raw.get("missing") is None
        assert await raw.cas_put("c", "v1", 0)
        assert not await raw.cas_put("c", "v2", 0)
        assert await raw.cas_put("c", "v2", 1)
        written = sorted(raw._written)
        await raw.cleanup()
        async with redis.asyncio.Redis.from_url(redis8) as client:
            assert await client.exists(*written) == 0
    finally:
        await raw.close()
