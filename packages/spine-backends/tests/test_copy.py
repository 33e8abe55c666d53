"""`spine copy` / `spine_core.copy`: every pair of backends, resume, conflicts, dry run, spinekit.

Each test fills a source of its own (a fresh SQLite file, a Redis / PostgreSQL namespace, a
Qdrant local collection), copies it, and compares both sides item by item.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from spine_core import (
    CopyProgress,
    MemoryItem,
    Message,
    State,
    copy,
    open_checkpoint,
    open_memory,
)

CHECKPOINTS = ["sqlite", "redis", "postgres"]
MEMORIES = ["sqlite", "redis", "pgvector", "qdrant"]
TENANTS = [None, "acme", "globex"]


def _pairs(names: list[str]) -> list[tuple[str, str]]:
    return [(a, b) for a in names for b in names if a != b]


def _ids(names: list[str]) -> list[str]:
    return [f"{a}-{b}" for a, b in _pairs(names)]


class Stores:
    """Opens stores of a backend, each in a namespace of its own; closes them at the end."""

    def __init__(self, request: pytest.FixtureRequest, tmp_path: Path, prefix: str) -> None:
        self.request = request
        self.tmp_path = tmp_path
        self.prefix = prefix
        self.opened: list[Any] = []
        self.count = 0

    def _namespace(self) -> str:
        self.count += 1
        return f"{self.prefix}_{self.count}"

    def checkpoint(self, backend: str) -> Any:
        ns = self._namespace()
        if backend == "sqlite":
            store = open_checkpoint(f"sqlite:///{self.tmp_path / (ns + '.db')}")
        elif backend == "redis":
            store = open_checkpoint(self.request.getfixturevalue("redis_url"), namespace=ns)
        else:
            store = open_checkpoint(self.request.getfixturevalue("postgres_url"), namespace=ns)
        self.opened.append(store)
        return store

    def memory(self, backend: str) -> Any:
        ns = self._namespace()
        if backend == "sqlite":
            store = open_memory(f"sqlite:///{self.tmp_path / (ns + '.db')}")
        elif backend == "redis":
            store = open_memory(self.request.getfixturevalue("redis_url"), namespace=ns)
        elif backend == "pgvector":
            store = open_memory(self.request.getfixturevalue("postgres_url"), namespace=ns)
        else:
            store = open_memory("qdrant+local://", namespace=ns)
        self.opened.append(store)
        return store


@pytest.fixture
async def stores(
    request: pytest.FixtureRequest, tmp_path: Path, unique_prefix: str
) -> AsyncIterator[Stores]:
    """A factory of empty stores; every one is pruned (server ones) and closed afterwards."""
    made = Stores(request, tmp_path, unique_prefix)
    yield made
    for store in made.opened:
        with contextlib.suppress(Exception):  # best effort: the namespace is unique anyway
            await store.prune(before=datetime.now(UTC) + timedelta(days=1))
        await store.aclose()


async def _fill_checkpoints(store: Any, n: int = 14) -> None:
    for i in range(n):
        tenant = TENANTS[i % 3]
        state = State(session_id=f"s{i:03d}", tenant_id=tenant, step=i)
        state.add_message(Message.user(f"hello {i} ✓"))
        ttl = 3600.0 if i % 4 == 0 else None
        await store.put(state, ttl=ttl)
        if i % 2:  # a second revision
            state.scratch["again"] = i
            await store.put(state, ttl=ttl)


async def _fill_memory(store: Any, n: int = 30) -> None:
    items = [
        MemoryItem(
            content=f"memory {i}: the {'red' if i % 2 else 'blue'} fox number {i}",
            session_id=None if i % 7 == 0 else f"sess-{i % 3}",
            metadata={"i": i, "tag": ["x", "y"][i % 2], "nested": {"ok": True}},
        )
        for i in range(n)
    ]
    for start in range(0, n, 10):
        await store.save_many(items[start : start + 10])


async def _sessions(store: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    after = None
    while True:
        page = await store.export_sessions(after=after, limit=50)
        out.update({item.session_id: item for item in page.items})
        if page.next_cursor is None:
            return out
        after = page.next_cursor


async def _records(store: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    after = None
    while True:
        page = await store.export_records(after=after, limit=50)
        out.update({item.id: item for item in page.items})
        if page.next_cursor is None:
            return out
        after = page.next_cursor


async def _assert_same_sessions(source: Any, target: Any) -> None:
    mine, theirs = await _sessions(source), await _sessions(target)
    assert sorted(mine) == sorted(theirs)
    for sid, a in mine.items():
        b = theirs[sid]
        assert b.state.model_dump(mode="json") == a.state.model_dump(mode="json"), sid
        assert b.tenant_id == a.tenant_id, sid
        assert abs((b.updated_at - a.updated_at).total_seconds()) < 0.002, sid
        assert (a.expires_at is None) == (b.expires_at is None), sid
        if a.expires_at is not None:
            assert abs((b.expires_at - a.expires_at).total_seconds()) < 60, sid


async def _assert_same_records(source: Any, target: Any) -> None:
    mine, theirs = await _records(source), await _records(target)
    assert sorted(mine) == sorted(theirs)
    for rid, a in mine.items():
        b = theirs[rid]
        assert (b.content, b.session_id, b.metadata) == (a.content, a.session_id, a.metadata)
        assert abs(b.ts - a.ts) < 2e-6, rid
        if a.vector is not None and b.vector is not None:
            assert max(abs(x - y) for x, y in zip(a.vector, b.vector, strict=True)) < 1e-3
    for session in ("sess-0", "sess-1", "sess-2"):
        assert [r.id for r in await target.load(session, limit=50)] == [
            r.id for r in await source.load(session, limit=50)
        ]


@pytest.mark.parametrize(("src", "dst"), _pairs(CHECKPOINTS), ids=_ids(CHECKPOINTS))
async def test_checkpoints_copy_between_backends(
    stores: Stores, src: str, dst: str, tmp_path: Path
) -> None:
    source, target = stores.checkpoint(src), stores.checkpoint(dst)
    await _fill_checkpoints(source)
    report = await copy(source, target, page_size=4, state_path=tmp_path / "state.json")
    assert report.ok, report.to_dict()
    [part] = report.kinds
    assert (part.kind, part.copied, part.conflicts, part.verified) == ("checkpoint", 14, 0, True)
    assert part.source_counts == part.target_counts == {"": 5, "acme": 5, "globex": 4}
    assert part.sampled > 0
    await _assert_same_sessions(source, target)


@pytest.mark.parametrize(("src", "dst"), _pairs(MEMORIES), ids=_ids(MEMORIES))
async def test_memories_copy_between_backends(
    stores: Stores, src: str, dst: str, tmp_path: Path
) -> None:
    source, target = stores.memory(src), stores.memory(dst)
    await _fill_memory(source)
    report = await copy(source, target, page_size=7, state_path=tmp_path / "state.json")
    assert report.ok, report.to_dict()
    [part] = report.kinds
    assert (part.copied, part.reembedded, part.verified) == (30, 0, True)
    assert part.sampled == 25  # read back from both sides
    assert part.source_counts == part.target_counts
    assert sum(part.source_counts.values()) == 30
    await _assert_same_records(source, target)
    hits = await target.search("the red fox number 3", k=1)
    assert hits[0].record.content == "memory 3: the red fox number 3"


async def test_reembed_and_since(stores: Stores, tmp_path: Path) -> None:
    source, target = stores.memory("sqlite"), stores.memory("sqlite")
    await _fill_memory(source, 10)
    cut = datetime.now(UTC)
    await source.save("late one", session_id="sess-0")
    report = await copy(source, target, since=cut, reembed=True, state_path=tmp_path / "s.json")
    [part] = report.kinds
    assert (part.copied, part.skipped_since, part.reembedded) == (1, 10, 1)
    assert [r.content for r in await target.load("sess-0")] == ["late one"]


async def test_a_concurrent_writer_on_the_target_is_a_conflict(
    stores: Stores, tmp_path: Path
) -> None:
    source, target = stores.checkpoint("sqlite"), stores.checkpoint("sqlite")
    await _fill_checkpoints(source)

    async def meddle(event: CopyProgress) -> None:
        # After the first page, another writer creates a session the copy has yet to reach.
        if event.phase == "copy" and event.done == 4:
            await target.put(State(session_id="s010", step=99))

    report = await copy(source, target, page_size=4, progress=meddle, state_path=tmp_path / "s")
    [part] = report.kinds
    assert not report.ok
    assert (part.conflicts, part.conflict_ids, part.copied) == (1, ["s010"], 13)
    kept = await target.get("s010")
    assert kept is not None
    assert kept.step == 99  # never overwritten silently
    # --overwrite forces it; the sessions already copied are "already there", not conflicts.
    again = await copy(source, target, overwrite=True, state_path=tmp_path / "s")
    assert again.ok
    assert again.kinds[0].copied == 14
    forced = await target.get("s010")
    assert forced is not None
    assert forced.step == 10


def _run_cli(workdir: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    return subprocess.Popen(
        [sys.executable, "-m", "spine_backends", "copy", *args],
        cwd=workdir,
        env={**os.environ, "COLUMNS": "160", **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("kind", ["checkpoint", "memory"])
def test_an_interrupted_copy_resumes_to_the_same_result(
    workdir: Path, kind: str, spine: Callable[..., Any]
) -> None:
    src_url, dst_url = f"sqlite:///{workdir / 'src.db'}", f"sqlite:///{workdir / 'dst.db'}"

    async def fill() -> None:
        async with open_checkpoint(src_url) as cp, open_memory(src_url) as mem:
            await (_fill_checkpoints(cp, 40) if kind == "checkpoint" else _fill_memory(mem, 60))

    asyncio.run(fill())
    state_file = workdir / "state.json"
    args = (src_url, dst_url, "--kind", kind, "--page-size", "3", "--state", str(state_file))
    proc = _run_cli(workdir, *args, env={"SPINE_COPY_PAGE_DELAY": "0.3"})
    try:
        while True:  # until the state file shows a few committed pages
            assert proc.poll() is None, proc.communicate()
            if state_file.exists() and json.loads(state_file.read_text())["counts"]["read"] >= 9:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    stopped = json.loads(state_file.read_text())
    assert stopped["phase"] == "copy"
    assert stopped["cursor"] is not None
    result = spine("copy", *args, "--resume", "--json")
    assert result.code == 0, result.err
    [part] = json.loads(result.out)["kinds"]
    assert part["resumed_from"] == stopped["cursor"]
    total = 40 if kind == "checkpoint" else 60
    assert part["read"] == total
    assert part["verified"] is True
    assert part["copied"] + part["unchanged"] == total

    async def compare() -> None:
        if kind == "checkpoint":
            async with open_checkpoint(src_url) as a, open_checkpoint(dst_url) as b:
                await _assert_same_sessions(a, b)
        else:
            async with open_memory(src_url) as c, open_memory(dst_url) as d:
                await _assert_same_records(c, d)

    asyncio.run(compare())


def test_dry_run_writes_nothing(workdir: Path, spine: Callable[..., Any]) -> None:
    src = f"sqlite:///{workdir / 'src.db'}"

    async def fill() -> None:
        async with open_checkpoint(src) as cp, open_memory(src) as mem:
            await _fill_checkpoints(cp, 5)
            await _fill_memory(mem, 8)

    asyncio.run(fill())
    result = spine("copy", src, f"sqlite:///{workdir / 'dst.db'}", "--dry-run")
    assert result.code == 0, result.err
    assert "checkpoint: would copy 5 sessions" in result.out
    assert "memory: would copy 8 records" in result.out
    assert not (workdir / "dst.db").exists()
    assert not (workdir / ".spine").exists()


def test_cli_conflict_exits_1_and_bad_target_exits_2(
    workdir: Path, spine: Callable[..., Any]
) -> None:
    src, dst = f"sqlite:///{workdir / 'src.db'}", f"sqlite:///{workdir / 'dst.db'}"

    async def fill() -> None:
        async with open_checkpoint(src) as a, open_checkpoint(dst) as b:
            await _fill_checkpoints(a, 3)
            await b.put(State(session_id="s001", step=42))

    asyncio.run(fill())
    result = spine("copy", src, dst, "--kind", "checkpoint")
    assert result.code == 1
    assert "1 conflict(s)" in result.out
    assert "s001" in result.out
    secret = "postgresql://u:hunter2@127.0.0.1:1/db"
    result = spine("copy", src, secret, "--kind", "checkpoint")
    assert result.code == 2
    assert "hunter2" not in result.out + result.err
    assert spine("copy", src, dst, "--page-size", "0").code == 2


@pytest.fixture
def pg_database(postgres_url: str, unique_prefix: str) -> Any:
    """A fresh database on the kit's PostgreSQL 18, dropped after the test."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(unique_prefix)))
    url = postgres_url.rsplit("/", 1)[0] + "/" + unique_prefix
    yield url
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(unique_prefix))
        )


def _spinekit_state(sid: str, tenant: str | None, step: int) -> str:
    return State(session_id=sid, tenant_id=tenant, step=step).model_dump_json()


async def test_spinekit_sources_copy_without_changing_them(
    workdir: Path, pg_database: str, redis_url: str, unique_prefix: str
) -> None:
    import psycopg
    import redis

    from spine_testing.spinekit import PAUSED_RUN

    # spinekit's SQLite table, exactly as its SQLiteCheckpoint created it.
    lite = workdir / "spinekit.db"
    with sqlite3.connect(lite) as conn:
        conn.execute(
            "CREATE TABLE checkpoints (session_id TEXT PRIMARY KEY, version INTEGER NOT NULL, "
            "revision INTEGER NOT NULL DEFAULT 1, data TEXT NOT NULL, updated REAL NOT NULL)"
        )
        conn.execute(
            "INSERT INTO checkpoints VALUES ('paused', 1, 3, ?, 1700000000.5)", (PAUSED_RUN,)
        )
        conn.execute(
            "INSERT INTO checkpoints VALUES ('t1', 1, 1, ?, 1700000001)",
            (_spinekit_state("t1", "acme", 2),),
        )
    # spinekit's PostgreSQL tables (checkpoints as jsonb, memory on pgvector).
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        conn.execute(
            "CREATE TABLE spine_checkpoints (session_id TEXT PRIMARY KEY, version INTEGER NOT "
            "NULL, revision BIGINT NOT NULL DEFAULT 1, data JSONB NOT NULL, "
            "updated TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        conn.execute(
            "CREATE TABLE spine_memory (id TEXT PRIMARY KEY, session_id TEXT, content TEXT NOT "
            "NULL, metadata JSONB NOT NULL DEFAULT '{}', embedding vector(3) NOT NULL, "
            "ts TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        conn.execute(
            "INSERT INTO spine_checkpoints (session_id, version, data) VALUES (%s, 1, %s)",
            ("pg1", _spinekit_state("pg1", None, 5)),
        )
        for i in range(5):
            conn.execute(
                "INSERT INTO spine_memory (id, session_id, content, metadata, embedding, ts) "
                "VALUES (%s, %s, %s, %s, '[1,0,0]', %s)",
                (
                    f"{i:032x}",
                    "sk",
                    f"spinekit note {i}",
                    json.dumps({"n": i}),
                    datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=i),
                ),
            )
    # spinekit's Redis keys.
    prefix = f"{unique_prefix}:checkpoint:"
    with redis.Redis.from_url(redis_url) as client:
        client.set(prefix + "r1", _spinekit_state("r1", "acme", 7))
        client.set(prefix + "r2", _spinekit_state("r2", None, 8))

    target = f"sqlite:///{workdir / 'spine.db'}"
    lite_report = await copy(f"sqlite:///{lite}", target, kind="checkpoint", from_layout="spinekit")
    pg_report = await copy(pg_database, target, from_layout="spinekit")
    redis_report = await copy(
        f"{redis_url}?prefix={prefix}", target, kind="checkpoint", from_layout="spinekit"
    )
    for report in (lite_report, pg_report, redis_report):
        assert report.ok, report.to_dict()
    assert [p.copied for p in pg_report.kinds] == [1, 5]
    assert pg_report.kinds[1].reembedded == 5  # spinekit recorded no embedder: embed again
    async with open_checkpoint(target) as cp, open_memory(target) as mem:
        paused = await cp.get("paused")
        assert paused is not None
        assert paused.pending is not None
        exported = await _sessions(cp)
        assert sorted(exported) == ["paused", "pg1", "r1", "r2", "t1"]
        assert exported["paused"].updated_at == datetime.fromtimestamp(1700000000.5, UTC)
        assert exported["t1"].tenant_id == "acme"
        notes = await mem.load("sk", limit=10)
        assert [r.content for r in notes] == [f"spinekit note {i}" for i in range(5)]
        assert notes[0].metadata == {"n": 0}
        assert notes[0].id == f"{0:032x}"
    # The sources are as they were: nothing adopted, moved or deleted.
    with sqlite3.connect(lite) as conn:
        assert conn.execute("SELECT count(*) FROM checkpoints").fetchone()[0] == 2
    with psycopg.connect(pg_database) as conn:
        assert conn.execute("SELECT count(*) FROM spine_memory").fetchone()[0] == 5
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
        assert sorted(t[0] for t in tables) == ["spine_checkpoints", "spine_memory"]
    with redis.Redis.from_url(redis_url) as client:
        assert sorted(client.scan_iter(match=f"{unique_prefix}*")) == [
            (prefix + "r1").encode(),
            (prefix + "r2").encode(),
        ]
        client.delete(prefix + "r1", prefix + "r2")


class _Stop(Exception):
    pass


async def test_resume_after_a_failure_continues_after_the_cursor(tmp_path: Path) -> None:
    from spine_core import InMemoryCheckpointStore

    source, target = InMemoryCheckpointStore(), InMemoryCheckpointStore()
    await _fill_checkpoints(source, 10)
    calls = 0

    def fail_on_third_page(event: CopyProgress) -> None:
        nonlocal calls
        calls += 1
        if event.phase == "copy" and event.done == 6:
            raise _Stop

    state = tmp_path / "state.json"
    with pytest.raises(_Stop):
        await copy(source, target, page_size=3, state_path=state, progress=fail_on_third_page)
    assert json.loads(state.read_text())["cursor"] == "s005"
    # The target gets a session of its own meanwhile: the resumed copy reports it.
    await target.put(State(session_id="s008", step=-1))
    report = await copy(source, target, page_size=3, state_path=state, resume=True)
    [part] = report.kinds
    assert part.resumed_from == "s005"
    assert (part.read, part.copied, part.conflicts, part.conflict_ids) == (10, 9, 1, ["s008"])
    assert not report.ok
    # Without resume, a second run starts over: what it wrote before is "already there".
    again = await copy(source, target, page_size=3, state_path=state)
    assert (again.kinds[0].unchanged, again.kinds[0].conflicts) == (9, 1)


async def test_bad_arguments_raise_before_any_io() -> None:
    from spine_core import InMemoryCheckpointStore, InvalidInput

    store = InMemoryCheckpointStore()
    with pytest.raises(InvalidInput):
        await copy(store, store)
    with pytest.raises(InvalidInput):
        await copy("memory", "sqlite:///x.db", page_size=0)
    with pytest.raises(InvalidInput):
        await copy("memory", "sqlite:///x.db", since=datetime(2024, 1, 1))  # naive


def test_cli_tenant_and_since_select_sessions(workdir: Path, spine: Callable[..., Any]) -> None:
    src, dst = f"sqlite:///{workdir / 'src.db'}", f"sqlite:///{workdir / 'dst.db'}"

    async def fill() -> datetime:
        async with open_checkpoint(src) as store:
            await _fill_checkpoints(store, 6)
            cut = datetime.now(UTC)
            await store.put(State(session_id="late", tenant_id="acme"))
            return cut

    cut = asyncio.run(fill())
    args = ("copy", src, dst, "--kind", "checkpoint", "--tenant", "acme", "--json")
    result = spine(*args, "--since", cut.isoformat())
    assert result.code == 0, result.err
    [part] = json.loads(result.out)["kinds"]
    assert (part["read"], part["copied"], part["skipped_since"]) == (3, 1, 2)
    assert part["source_counts"] == part["target_counts"] == {"acme": 1}

    async def listed() -> list[str]:
        async with open_checkpoint(dst) as store:
            return sorted(await _sessions(store))

    assert asyncio.run(listed()) == ["late"]
    assert spine(*args, "--since", "yesterday").code == 2
