"""Keys spinekit's `RedisCheckpoint` wrote are adopted: every session, once.

The spinekit data is written here by plain Redis commands in spinekit's layout (a string
key `<prefix><session id>` holding the state's JSON), never through spinekit itself. Tests
use a prefix of their own (`spt_<hex>:checkpoint:`), which also scopes the Spine keys they
create, and delete exactly those keys afterwards; the one test of spinekit's default prefix
runs in a database index of its own on the kit's private Redis 8.
"""

from __future__ import annotations

import asyncio
import json
import sys
import textwrap
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
import redis.asyncio

from spine_backend_redis import RedisCheckpoint
from spine_core import ConfigError, ConflictError, DataError, State
from spine_core import _migrations as state_migrations
from spine_testing.spinekit import PAUSED_RUN

# session id -> state document as spinekit serialized it (spinekit kept no revision)
DOCS: dict[str, str] = {
    "a": '{"version":1,"session_id":"a","messages":[{"role":"user","content":"hi"}],'
    '"step":2,"status":"running"}',
    "b": '{"version":1,"session_id":"b","tenant_id":"acme","messages":[],"step":0,'
    '"usage":{"input_tokens":5,"output_tokens":7,"cost_usd":0.001},"status":"running",'
    '"depth":0,"pending":null,"scratch":{"k":[1,2,{"x":"y"}],"f":1.5e-7}}',
    "ü 🙂/*?[x]": '{"version":1,"session_id":"ü 🙂/*?[x]","messages":'
    '[{"role":"user","content":"grüß 🙂"}],"step":9,"status":"running"}',
}

PAUSED = PAUSED_RUN  # a run paused for approval, as spinekit serialized it


@pytest.fixture(params=["redis8", "redis7"])
def url(request: pytest.FixtureRequest) -> str:
    """Redis 8 (the kit's server) and the machine's Redis 7."""
    return str(request.getfixturevalue(request.param))


def _delete_matching(url: str, *patterns: str) -> None:
    with redis.Redis.from_url(url) as client:
        for pattern in patterns:
            found = list(client.scan_iter(match=pattern, count=1000))
            for start in range(0, len(found), 500):
                client.delete(*found[start : start + 500])


@pytest.fixture
def prefix(url: str, unique_prefix: str) -> Iterator[str]:
    """A spinekit prefix of this test's own; its keys and the Spine keys it scopes go after."""
    yield f"{unique_prefix}:checkpoint:"
    _delete_matching(url, f"{unique_prefix}*", f"{{spine:*:{unique_prefix}*")


def write_spinekit(url: str, prefix: str, docs: dict[str, str]) -> None:
    """Write `docs` the way spinekit's RedisCheckpoint stores them: SET prefix+id json."""
    with redis.Redis.from_url(url) as client:
        for sid, doc in docs.items():
            client.set(prefix + sid, doc)


def spinekit_keys(url: str, prefix: str) -> list[bytes]:
    with redis.Redis.from_url(url) as client:
        return [k for k in client.scan_iter(count=1000) if k.startswith(prefix.encode())]


async def assert_adopted(store: RedisCheckpoint, docs: dict[str, str], revision: int = 1) -> None:
    for sid, doc in docs.items():
        assert await store.get(sid) == State.model_validate(json.loads(doc)), sid
        assert await store.revision(sid) == revision, sid


async def test_sessions_carry_over_and_keep_being_written(url: str, prefix: str) -> None:
    write_spinekit(url, prefix, DOCS)
    async with RedisCheckpoint.from_url(url, prefix=prefix) as store:
        # spinekit kept no revision: an adopted session counts as put once.
        await assert_adopted(store, DOCS)
        page = await store.list_sessions()
        assert sorted(s.session_id for s in page.sessions) == sorted(DOCS)
        tenant = await store.list_sessions(tenant_id="acme")
        assert [s.session_id for s in tenant.sessions] == ["b"]
        state = await store.get("a")
        assert state is not None
        state.step += 1
        await store.put(state, expected_revision=1)
        assert await store.revision("a") == 2
        with pytest.raises(ConflictError):
            await store.put(state, expected_revision=1)
        assert await store.get("a") == state
    assert spinekit_keys(url, prefix) == []


async def test_reopening_adopts_nothing_more(url: str, prefix: str) -> None:
    write_spinekit(url, prefix, DOCS)
    async with RedisCheckpoint.from_url(url, prefix=prefix) as store:
        await store.put(State(session_id="a", step=40), expected_revision=1)
    # Keys spinekit writes after the adoption are not moved: it ran once, to the end.
    write_spinekit(url, prefix, {"late": DOCS["a"]})
    async with RedisCheckpoint.from_url(url, prefix=prefix) as store:
        assert await store.get("a") == State(session_id="a", step=40)
        assert await store.revision("a") == 2
        await assert_adopted(store, {k: v for k, v in DOCS.items() if k != "a"})
        assert await store.get("late") is None
    assert spinekit_keys(url, prefix) == [(prefix + "late").encode()]


async def test_stores_spinekit_kept_apart_by_prefix_stay_apart(url: str, prefix: str) -> None:
    # Not nested: under `app:` spinekit itself saw the keys of `app:v2:` (as ids "v2:...").
    other = prefix.replace(":checkpoint:", ":other:")
    write_spinekit(url, prefix, {"a": DOCS["a"]})
    write_spinekit(url, other, {"a": DOCS["a"].replace('"step":2', '"step":5')})
    async with (
        RedisCheckpoint.from_url(url, prefix=prefix) as one,
        RedisCheckpoint.from_url(url, prefix=other) as two,
    ):
        got_one, got_two = await one.get("a"), await two.get("a")
        assert got_one is not None
        assert got_two is not None
        assert (got_one.step, got_two.step) == (2, 5)
        await one.delete("a")
        assert await two.get("a") is not None


async def test_a_session_spine_already_holds_keeps_both_copies(url: str, prefix: str) -> None:
    async with RedisCheckpoint.from_url(url, prefix=prefix) as store:
        await store.put(State(session_id="a", step=100))
    with redis.Redis.from_url(url) as client:  # as if adoption had never run
        client.delete(f"{{spine:default:{prefix}}}:cp:adopted")
    write_spinekit(url, prefix, DOCS)
    async with RedisCheckpoint.from_url(url, prefix=prefix) as store:
        assert await store.get("a") == State(session_id="a", step=100)
        await assert_adopted(store, {k: v for k, v in DOCS.items() if k != "a"})
    assert spinekit_keys(url, prefix) == [(prefix + "a").encode()]


async def test_what_is_not_a_spinekit_session_is_left_alone_or_reported(
    url: str, prefix: str
) -> None:
    with redis.Redis.from_url(url) as client:
        client.hset(prefix + "a-hash", "x", "1")  # not a string: not spinekit's
        client.set(prefix + "broken", "{not json")
    async with RedisCheckpoint.from_url(url, prefix=prefix) as store:
        assert await store.get("a-hash") is None
        with pytest.raises(DataError, match="'broken'"):
            await store.get("broken")
    assert spinekit_keys(url, prefix) == [(prefix + "a-hash").encode()]


async def test_ids_spine_refuses_are_left_where_they_are(url: str, prefix: str) -> None:
    refused = ["", "x" * 257, "nul\x00id"]
    write_spinekit(url, prefix, {**dict.fromkeys(refused, DOCS["a"]), "b": DOCS["b"]})
    async with RedisCheckpoint.from_url(url, prefix=prefix) as store:
        await assert_adopted(store, {"b": DOCS["b"]})
        assert [s.session_id for s in (await store.list_sessions()).sessions] == ["b"]
    assert sorted(spinekit_keys(url, prefix)) == sorted((prefix + sid).encode() for sid in refused)


async def test_only_the_default_namespace_adopts(url: str, prefix: str) -> None:
    write_spinekit(url, prefix, {"a": DOCS["a"]})
    async with RedisCheckpoint.from_url(url, prefix=prefix, namespace="spt_elsewhere") as store:
        assert await store.get("a") is None
    assert spinekit_keys(url, prefix) == [(prefix + "a").encode()]


async def test_an_injected_client_adopts_too(url: str, prefix: str) -> None:
    write_spinekit(url, prefix, DOCS)
    client = redis.asyncio.Redis.from_url(url, decode_responses=True)  # as spinekit built it
    try:
        async with RedisCheckpoint(client=client, prefix=prefix) as store:
            await assert_adopted(store, DOCS)
    finally:
        await client.aclose()


async def test_an_older_state_version_goes_through_migrate(
    url: str, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def upgrade(doc: dict[str, Any]) -> dict[str, Any]:
        steps = doc.pop("steps")
        return {**doc, "version": 1, "step": steps}

    monkeypatch.setitem(state_migrations._MIGRATIONS, 0, upgrade)
    write_spinekit(url, prefix, {"old": '{"version":0,"session_id":"old","steps":5}'})
    async with RedisCheckpoint.from_url(url, prefix=prefix) as store:
        assert await store.get("old") == State(session_id="old", step=5)


async def test_a_run_paused_for_approval_resumes(url: str, prefix: str) -> None:
    write_spinekit(url, prefix, {"paused": PAUSED})
    async with RedisCheckpoint.from_url(url, prefix=prefix) as store:
        await assert_adopted(store, {"paused": PAUSED})
        state = await store.get("paused")
        assert state is not None
        await store.put(state, expected_revision=1)


def test_constructor_keywords_are_spinekits() -> None:
    store = RedisCheckpoint("redis://localhost:6379", prefix="app:cp:")
    assert store.prefix == "app:cp:"
    assert RedisCheckpoint().prefix == "spine:checkpoint:"
    assert RedisCheckpoint.from_url("redis://h:1/0?prefix=x:").prefix == "x:"
    for bad in ("", "a{b}", 3):
        with pytest.raises(ConfigError, match="prefix"):
            RedisCheckpoint(prefix=bad)  # type: ignore[arg-type]


async def test_spinekits_default_prefix(redis8: str, unique_prefix: str) -> None:
    # spinekit's default keys and Spine's default namespace are server-wide names, so this
    # runs in a database index of its own (15) and deletes exactly what it wrote.
    parts = urlsplit(redis8)
    url = urlunsplit(parts._replace(path="/15"))
    sid = f"{unique_prefix}-s"
    write_spinekit(url, "spine:checkpoint:", {sid: DOCS["a"].replace('"a"', f'"{sid}"')})
    try:
        async with RedisCheckpoint.from_url(url) as store:
            got = await store.get(sid)
            assert got is not None
            assert got.step == 2
        with redis.Redis.from_url(url) as client:
            assert client.exists(f"{{spine:default}}:cp:session:{sid}")
            assert not client.exists(f"spine:checkpoint:{sid}")
    finally:
        async with RedisCheckpoint.from_url(url) as store:
            await store.delete(sid)
        _delete_matching(url, "{spine:default}:cp:adopted", f"spine:checkpoint:{sid}")


_OPENER = textwrap.dedent(
    """
    import asyncio, json, sys, time
    from spine_backend_redis import RedisCheckpoint
    from spine_core import ConflictError

    url, prefix, start, expected = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]

    async def main():
        time.sleep(max(0.0, start - time.time()))
        async with RedisCheckpoint.from_url(url, prefix=prefix) as store:
            # Count on session "a" at once: an adoption that moved it twice would reset it.
            while True:
                revision = await store.revision("a")  # first: then the state is at least as new
                state = await store.get("a")
                state.step += 1
                try:
                    await store.put(state, expected_revision=revision)
                    break
                except ConflictError:
                    pass
            for sid in json.loads(expected):
                assert await store.get(sid) is not None, sid
        print("ok")

    asyncio.run(main())
    """
)


async def test_processes_opening_spinekit_keys_together_adopt_each_once(
    redis8: str, unique_prefix: str
) -> None:
    url, prefix = redis8, f"{unique_prefix}:checkpoint:"
    docs = {**DOCS, **{f"s{i}": DOCS["a"].replace('"a"', f'"s{i}"') for i in range(300)}}
    write_spinekit(url, prefix, docs)
    start = time.time() + 3.0  # every process imports first, then all open at once
    try:
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                _OPENER,
                url,
                prefix,
                str(start),
                json.dumps(sorted(docs)),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            for _ in range(4)
        ]
        try:
            async with asyncio.timeout(120):
                outputs = await asyncio.gather(*(p.communicate() for p in procs))
        finally:
            for p in procs:
                if p.returncode is None:
                    p.kill()
        for proc, (out, err) in zip(procs, outputs, strict=True):
            assert proc.returncode == 0, err.decode()[-2000:]
            assert out.decode().strip() == "ok"
        assert spinekit_keys(url, prefix) == []
        async with RedisCheckpoint.from_url(url, prefix=prefix) as store:
            counted = await store.get("a")
            assert counted is not None
            assert (counted.step, await store.revision("a")) == (2 + 4, 1 + 4)
            await assert_adopted(store, {k: v for k, v in docs.items() if k != "a"})
            sessions: list[str] = []
            cursor = None
            while True:
                page = await store.list_sessions(limit=100, cursor=cursor)
                sessions += [s.session_id for s in page.sessions]
                if (cursor := page.next_cursor) is None:
                    break
            assert sorted(sessions) == sorted(docs)
    finally:
        _delete_matching(url, f"{unique_prefix}*", f"{{spine:*:{unique_prefix}*")
