"""SQLite-specific behaviour the conformance kit does not cover."""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from spine_backend_sqlite import RawSQLite, SQLiteCheckpoint, SQLiteMemory
from spine_core import (
    BackendUnavailable,
    ConfigError,
    DataError,
    HashEmbedder,
    InvalidInput,
    MemoryItem,
    State,
    open_checkpoint,
    open_memory,
)
from spine_core.spi import matches_filter
from spine_testing import cas_across_processes

pytestmark = pytest.mark.usefixtures("sqlite_usable")


@pytest.fixture
def mp_workers(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The helper module, importable by name in spawned processes (they inherit sys.path)."""
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    import spine_sqlite_mp

    return spine_sqlite_mp


def _raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def _run_processes(target: Any, args_for: list[tuple[Any, ...]]) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=target, args=args) for args in args_for]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=180)
    codes = [p.exitcode for p in procs]
    for p in procs:
        if p.is_alive():
            p.kill()
    assert codes == [0] * len(procs), f"child exit codes {codes}"


# -- across processes ----------------------------------------------------------------------


async def test_compare_and_set_across_processes_loses_no_update(db_path: Path) -> None:
    await cas_across_processes(f"sqlite:///{db_path}", {"busy_timeout": 30})


async def test_processes_opening_a_fresh_file_together_migrate_it_once(
    db_path: Path, mp_workers: ModuleType
) -> None:
    processes = 6
    barrier = multiprocessing.get_context("spawn").Barrier(processes)
    await asyncio.to_thread(
        _run_processes,
        mp_workers.first_open,
        [(str(db_path), i, barrier) for i in range(processes)],
    )
    conn = _raw(db_path)
    versions = dict(conn.execute("SELECT component, version FROM spine_schema").fetchall())
    assert versions == {"checkpoint": 2, "memory": 1}
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    async with SQLiteCheckpoint(db_path) as store:
        page = await store.list_sessions()
        assert sorted(s.session_id for s in page.sessions) == [
            f"opener-{i}" for i in range(processes)
        ]
    async with SQLiteMemory(db_path) as memory:
        assert len(await memory.load("openers")) == processes


# -- schema versions and corrupt data --------------------------------------------------------


@pytest.mark.parametrize(
    ("component", "cls"), [("checkpoint", SQLiteCheckpoint), ("memory", SQLiteMemory)]
)
async def test_a_newer_schema_is_refused(db_path: Path, component: str, cls: Any) -> None:
    async with cls(db_path) as store:
        await store.health()
    conn = _raw(db_path)
    conn.execute("UPDATE spine_schema SET version = 99 WHERE component = ?", (component,))
    conn.close()
    store = cls(db_path)
    with pytest.raises(ConfigError, match=r"schema version 99, newer than version \d"):
        await store._ensure_ready()
    health = await store.health()
    assert not health.ok
    assert "newer" in (health.error or "")


async def test_corrupt_state_raises_data_error_naming_the_session(db_path: Path) -> None:
    async with SQLiteCheckpoint(db_path) as store:
        await store.put(State(session_id="broken"))
        await store.put(State(session_id="fine", step=3))
        conn = _raw(db_path)
        conn.execute("UPDATE spine_checkpoints SET state = '{not json' WHERE session_id = 'broken'")
        conn.close()
        with pytest.raises(DataError, match="'broken'") as info:
            await store.get("broken")
        assert info.value.session_id == "broken"
        fine = await store.get("fine")
        assert fine is not None
        assert fine.step == 3


async def test_a_corrupt_vector_raises_data_error(db_path: Path) -> None:
    async with SQLiteMemory(db_path) as memory:
        await memory.save("a record with a damaged vector")
    conn = _raw(db_path)
    conn.execute("UPDATE spine_memory SET vector = x'0001'")
    conn.close()
    async with SQLiteMemory(db_path) as memory:
        with pytest.raises(DataError, match="float32"):
            await memory.search("anything")


async def test_corrupt_metadata_raises_data_error_naming_the_record(db_path: Path) -> None:
    async with SQLiteMemory(db_path) as memory:
        record = await memory.save("metadata goes bad", metadata={"k": 1})
        conn = _raw(db_path)
        conn.execute("UPDATE spine_memory SET metadata = '[1, 2]'")
        conn.close()
        with pytest.raises(DataError, match=record.id):
            await memory.get(record.id)


def test_importing_the_package_loads_no_driver() -> None:
    code = (
        "import sys, spine_backend_sqlite; "
        "loaded = {'numpy', 'sqlite3', 'spine_backend_sqlite.memory'} & set(sys.modules); "
        "sys.exit(f'imported {sorted(loaded)}' if loaded else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


async def test_a_file_that_is_not_a_database_is_refused(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"not a SQLite database, just some bytes " * 100)  # noqa: ASYNC240
    with pytest.raises(DataError, match="not a SQLite database"):
        await SQLiteCheckpoint(db_path)._ensure_ready()


@pytest.mark.parametrize(
    "other",
    [HashEmbedder(128), type("Renamed", (HashEmbedder,), {"name": property(lambda s: "other")})()],
    ids=["dimension", "name"],
)
async def test_reopening_with_another_embedder_fails_loud(
    db_path: Path, other: HashEmbedder
) -> None:
    async with SQLiteMemory(db_path, embedder=HashEmbedder(256)) as memory:
        await memory.save("written with hash-v1-256")
    with pytest.raises(ConfigError, match="hash-v1-256"):
        async with SQLiteMemory(db_path, embedder=other):
            pass
    # Another namespace in the same file may use another embedder.
    async with SQLiteMemory(db_path, embedder=other, namespace="other") as memory:
        await memory.save("fine")


# -- not blocking the loop ---------------------------------------------------------------------


async def test_the_event_loop_runs_while_a_store_waits_on_sqlite(db_path: Path) -> None:
    # Another connection holds the write lock, so each write below waits inside SQLite
    # until the test releases it - which the test can only do if the loop keeps running.
    # A store that called sqlite3 on the loop thread would block the loop until its
    # busy_timeout expired and fail with "locked" before the lock could be released.
    async with (
        SQLiteCheckpoint(db_path, busy_timeout=60) as store,
        SQLiteMemory(db_path, busy_timeout=60) as memory,
    ):
        await store.put(State(session_id="waiting", step=0))
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.001)

        blocker = _raw(db_path)
        blocker.execute("BEGIN IMMEDIATE")
        tick_task = asyncio.create_task(ticker())
        try:
            put = asyncio.create_task(store.put(State(session_id="waiting", step=1)))
            save = asyncio.create_task(memory.save_many(["a", "b", "c"]))
            await asyncio.sleep(0.2)
            before = ticks
            await asyncio.sleep(0.05)
            assert ticks > before, "the loop stopped while the stores waited"
            assert not put.done()
            assert not save.done()
            # Reads are not blocked by the writer (WAL) and do not queue behind the loop.
            async with SQLiteCheckpoint(db_path) as reader:
                got = await reader.get("waiting")
            assert got is not None
            assert got.step == 0
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        await put
        assert len(await save) == 3
        tick_task.cancel()
        final = await store.get("waiting")
        assert final is not None
        assert final.step == 1


# -- the search cache ------------------------------------------------------------------------


async def test_search_sees_other_connections_writes(db_path: Path) -> None:
    async with SQLiteMemory(db_path) as mine, SQLiteMemory(db_path) as theirs:
        await mine.save("alpha bravo charlie")
        assert [h.content for h in await mine.search("alpha bravo charlie", k=5)] == [
            "alpha bravo charlie"
        ]  # the cache is loaded now

        theirs_record = await theirs.save("delta echo foxtrot")  # an insert elsewhere
        hits = await mine.search("delta echo foxtrot", k=1)
        assert hits[0].id == theirs_record.id

        await theirs.save("golf hotel india")
        own = await mine.save("juliet kilo lima")  # own write while the cache is behind
        contents = {h.content for h in await mine.search("golf hotel india juliet kilo", k=10)}
        assert {"golf hotel india", "juliet kilo lima"} <= contents

        assert await theirs.forget(theirs_record.id)  # a delete elsewhere
        assert theirs_record.id not in {h.id for h in await mine.search("delta echo", k=10)}

        assert await theirs.prune(session_id=None, before=own.ts) >= 1
        remaining = {h.content for h in await mine.search("alpha golf juliet", k=10)}
        assert remaining == {"juliet kilo lima"}


async def test_own_deletes_and_compaction_keep_search_exact(db_path: Path) -> None:
    async with SQLiteMemory(db_path) as memory:
        records = await memory.save_many(
            [MemoryItem(content=f"item number {i}", session_id=f"s{i % 3}") for i in range(3000)]
        )
        await memory.search("item")  # load the cache, then delete through it
        for r in records[:2000]:
            if int(r.content.split()[-1]) % 2 == 0:
                assert await memory.forget(r.id)
        assert await memory.prune(session_id="s1") > 0
        hits = await memory.search("item number 2999", k=3)
        assert hits[0].content == "item number 2999"
        live = {r.id for r in records[2000:]} | {
            r.id for r in records[:2000] if int(r.content.split()[-1]) % 2 == 1
        }
        expected = [r for r in records if r.id in live and r.session_id != "s1"]
        got = await memory.search("item number", k=len(expected) + 10)
        assert sorted(h.id for h in got) == sorted(r.id for r in expected)
        fresh = SQLiteMemory(db_path)  # a cold cache must agree with the incremental one
        try:
            cold = await fresh.search("item number 2999", k=3)
            assert [h.id for h in cold] == [h.id for h in hits]
        finally:
            await fresh.aclose()


async def test_filter_follows_json_equality(db_path: Path) -> None:
    metadatas: list[dict[str, Any]] = [
        {"n": 1},
        {"n": 1.0},
        {"n": True},
        {"n": "1"},
        {"n": 2},
        {"n": None},
        {"n": [1]},
        {"flag": False},
        {"flag": 0},
        {"a.b": "dotted"},
        {'quo"te': "q"},
        {"back\\slash": "b"},
        {"ключ": "значение"},
        {"big": 2**70},
        {},
    ]
    filters: list[dict[str, Any]] = [
        {"n": 1},
        {"n": 1.0},
        {"n": True},
        {"n": "1"},
        {"flag": False},
        {"flag": 0},
        {"a.b": "dotted"},
        {'quo"te': "q"},
        {"back\\slash": "b"},
        {"ключ": "значение"},
        {"big": 2**70},
        {"n": 1, "flag": False},
        {"missing": 1},
    ]
    async with SQLiteMemory(db_path) as memory:
        saved = await memory.save_many(
            [MemoryItem(content=f"same text {i}", metadata=m) for i, m in enumerate(metadatas)]
        )
        for flt in filters:
            hits = await memory.search("same text", k=100, filter=flt)
            expected = {r.id for r in saved if matches_filter(r.metadata, flt)}
            assert {h.id for h in hits} == expected, flt
        assert len(await memory.search("same text", k=100, filter={})) == len(saved)


# -- transactions, contention and expiry ----------------------------------------------------


async def test_save_many_is_all_or_nothing(db_path: Path) -> None:
    async with SQLiteMemory(db_path) as memory:
        batch = [
            MemoryItem(content="first", session_id="batch"),
            # A lone surrogate passes validation but cannot be encoded for SQLite: the
            # statement fails in the middle of the batch, after "first" was inserted.
            MemoryItem(content="second", session_id="batch", metadata={"k": "\ud800"}),
        ]
        with pytest.raises(InvalidInput):
            await memory.save_many(batch)
        assert await memory.load("batch") == []
        assert await memory.search("first") == []


async def test_a_held_write_lock_becomes_backend_unavailable(db_path: Path) -> None:
    async with SQLiteCheckpoint(db_path, busy_timeout=0.05) as store:
        await store.put(State(session_id="locked"))
        blocker = _raw(db_path)
        blocker.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(BackendUnavailable, match="locked"):
                await store.put(State(session_id="locked", step=1))
            got = await store.get("locked")  # WAL: readers are not blocked by the writer
            assert got is not None
            assert got.step == 0
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        await store.put(State(session_id="locked", step=2))
        got = await store.get("locked")
        assert got is not None
        assert got.step == 2


async def test_expired_sessions_are_deleted_lazily_and_by_prune(db_path: Path) -> None:
    async with SQLiteCheckpoint(db_path) as store:
        await store.put(State(session_id="short-1"), ttl=0.05)
        await store.put(State(session_id="short-2"), ttl=0.05)
        await store.put(State(session_id="long"))
        await asyncio.sleep(0.1)
        conn = _raw(db_path)

        def stored() -> set[str]:
            return {r[0] for r in conn.execute("SELECT session_id FROM spine_checkpoints")}

        assert stored() == {"short-1", "short-2", "long"}
        assert await store.get("short-1") is None
        assert stored() == {"short-2", "long"}
        assert await store.revision("short-2") == 0
        from datetime import UTC, datetime, timedelta

        assert await store.prune(before=datetime.now(UTC) - timedelta(days=1)) == 0
        assert stored() == {"long"}
        conn.close()


# -- configuration ------------------------------------------------------------------------------


def test_urls_map_to_paths_and_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    rel = SQLiteCheckpoint.from_url("sqlite:///rel/dir/x.db")
    assert rel.path == "rel/dir/x.db"
    absolute = SQLiteMemory.from_url(f"sqlite:///{tmp_path}/abs.db")
    assert absolute.path == f"{tmp_path}/abs.db"
    for url in ("sqlite://", "sqlite:///:memory:"):
        mem = SQLiteCheckpoint.from_url(url)
        assert mem.path is None
        assert not mem.capabilities.durable
        assert not mem.capabilities.concurrent_writers
    store = SQLiteCheckpoint.from_url(
        "sqlite:///x.db?busy_timeout=2&namespace=ns1&default_ttl=30", namespace="ns2"
    )
    assert store.namespace == "ns2"  # keyword options win over the URL
    assert store.default_ttl == 30.0
    assert store.capabilities.details["busy_timeout_s"] == 2.0
    memory = SQLiteMemory.from_url("sqlite:///x.db?busy_timeout=0.5")
    assert memory.capabilities.details["busy_timeout_s"] == 0.5
    assert memory.capabilities.persistent
    with pytest.raises(ConfigError, match="unknown option 'password'"):
        SQLiteCheckpoint.from_url("sqlite:///x.db?password=hunter2")
    with pytest.raises(ConfigError, match="busy_timeout"):
        SQLiteCheckpoint.from_url("sqlite:///x.db?busy_timeout=soon")
    with pytest.raises(ConfigError, match="no host"):
        SQLiteCheckpoint.from_url("sqlite://host/x.db")
    with pytest.raises(ConfigError, match="not a sqlite"):
        SQLiteMemory.from_url("redis://localhost/0")
    with pytest.raises(ConfigError, match="busy_timeout"):
        SQLiteCheckpoint("x.db", busy_timeout=-1)
    with pytest.raises(ConfigError, match="empty"):
        SQLiteCheckpoint("")
    assert not (tmp_path / "rel").exists()  # constructors do no I/O


async def test_relative_paths_and_missing_directories_are_created_on_first_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_checkpoint("sqlite:///.spine/spine.db")
    memory = open_memory("sqlite:///.spine/spine.db")
    assert isinstance(store, SQLiteCheckpoint)
    assert isinstance(memory, SQLiteMemory)
    async with store, memory:  # both kinds share the default file
        await store.put(State(session_id="s"))
        await memory.save("hello", session_id="s")
    assert (tmp_path / ".spine" / "spine.db").is_file()
    async with SQLiteCheckpoint(tmp_path / ".spine" / "spine.db") as again:
        assert await again.get("s") is not None


async def test_in_memory_stores_are_private_to_their_object() -> None:
    async with SQLiteCheckpoint(":memory:") as one, SQLiteCheckpoint.from_url("sqlite://") as two:
        await one.put(State(session_id="only-in-one"))
        assert await two.get("only-in-one") is None
    async with SQLiteMemory() as memory:
        assert not memory.capabilities.persistent
        await memory.save("kept while the store is open")
        assert len(await memory.search("kept")) == 1


def test_repr_and_info_name_the_file_and_nothing_else(tmp_path: Path) -> None:
    store = SQLiteCheckpoint.from_url(f"sqlite:///{tmp_path}/x.db?busy_timeout=2&namespace=ns")
    text = repr(store)
    assert text == f"<SQLiteCheckpoint 'sqlite:///{tmp_path}/x.db?namespace=ns'>"
    assert store.info().target == f"sqlite:///{tmp_path}/x.db?namespace=ns"
    memory = SQLiteMemory(":memory:", embedder=HashEmbedder(64))
    assert repr(memory) == "<SQLiteMemory 'sqlite://?namespace=default'>"
    assert memory.info().topology == "embedded"


async def test_aclose_ends_the_worker_thread(db_path: Path) -> None:
    def workers() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name.startswith("spine-sqlite-")}

    baseline = workers()
    store = SQLiteCheckpoint(db_path)
    await store.put(State(session_id="t"))
    (mine,) = workers() - baseline
    await store.aclose()
    await asyncio.to_thread(mine.join, 30)
    assert not mine.is_alive()
    got = await store.get("t")  # a closed store reopens on use
    assert got is not None
    await store.aclose()


async def test_a_dropped_store_releases_its_thread_and_file(db_path: Path) -> None:
    def workers() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name.startswith("spine-sqlite-")}

    baseline = workers()
    store = SQLiteMemory(db_path)
    await store.save("never closed")
    (mine,) = workers() - baseline
    del store
    gc.collect()
    await asyncio.to_thread(mine.join, 30)
    assert not mine.is_alive()


async def test_raw_floor_round_trips_and_cleans_up(db_path: Path) -> None:
    raw = RawSQLite(f"sqlite:///{db_path}")
    await raw.open()
    try:
        await raw.put("k", "one")
        assert await raw.get("k") == "one"
        assert await raw.get("missing") is None
        assert await raw.cas_put("k", "two", 1)
        assert not await raw.cas_put("k", "stale", 1)
        assert await raw.get("k") == "two"
        assert await raw.cas_put("new", "v", 0)
        assert not await raw.cas_put("new", "again", 0)
    finally:
        await raw.cleanup()
        await raw.close()
    conn = _raw(db_path)
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master")]
    conn.close()
    assert not [t for t in tables if t.startswith("spine_raw_")]


@pytest.mark.parametrize("rows", [1_000, 20_000], ids=["einsum-route", "blas-route"])
def test_top_k_is_exact_on_both_product_routes(rows: int) -> None:
    import numpy as np

    from spine_backend_sqlite._cache import _SMALL_PRODUCT, VectorCache

    dim = 256
    assert (rows * dim <= _SMALL_PRODUCT) == (rows == 1_000)
    rng = np.random.default_rng(rows)
    vectors = rng.standard_normal((rows, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors[7] = vectors[3]  # an exact tie: the older row (lower seq) ranks first
    seqs = list(range(10, 10 + rows))
    sessions = [f"s{i % 5}" if i % 7 else None for i in range(rows)]
    cache = VectorCache(dim)
    cache.append(seqs, sessions, vectors)
    cache.remove([seqs[i] for i in range(0, rows, 11)])  # tombstones
    query = vectors[3].copy()
    exact = vectors.astype(np.float64) @ query.astype(np.float64)
    alive = np.ones(rows, bool)
    alive[::11] = False
    allowed = [p for p in range(rows) if p % 3 == 0]

    def expected(mask: Any, k: int) -> list[int]:
        candidates = [i for i in range(rows) if mask[i]]
        candidates.sort(key=lambda i: (-round(float(exact[i]), 5), seqs[i]))
        return [seqs[i] for i in candidates[:k]]

    in_s1 = np.array([s == "s1" for s in sessions])
    only = np.zeros(rows, bool)
    only[allowed] = True
    for session, allow, mask in [
        (None, None, alive),
        ("s1", None, alive & in_s1),
        (None, allowed, alive & only),
        ("s1", allowed, alive & in_s1 & only),
    ]:
        got = cache.top_k(query, 10, session, allow)
        assert [seq for seq, _ in got] == expected(mask, 10)
        assert all(-1.0 <= score <= 1.0 for _, score in got)
    best = cache.top_k(query, 2, None, None)
    assert [seq for seq, _ in best] == [seqs[3], seqs[7]]
    assert best[0][1] == pytest.approx(1.0, abs=1e-5)
