"""A file spinekit's `SQLiteCheckpoint` wrote is adopted: sessions, revisions, once.

The spinekit data is written here by plain SQL in spinekit's layout (table `checkpoints`),
never through spinekit itself.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import sqlite3
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from spine_backend_sqlite import SQLiteCheckpoint
from spine_core import ConfigError, ConflictError, State
from spine_core import _migrations as state_migrations
from spine_testing.spinekit import PAUSED_RUN

pytestmark = pytest.mark.usefixtures("sqlite_usable")

# spinekit's DDL, verbatim in its facts (names, types, defaults).
SPINEKIT_DDL = """CREATE TABLE IF NOT EXISTS checkpoints (
    session_id TEXT PRIMARY KEY,
    version    INTEGER NOT NULL,
    revision   INTEGER NOT NULL DEFAULT 1,
    data       TEXT    NOT NULL,
    updated    REAL    NOT NULL
)"""

# session id -> (state document as spinekit serialized it, spinekit's revision)
DOCS: dict[str, tuple[str, int]] = {
    "a": (
        '{"version":1,"session_id":"a","messages":[{"role":"user","content":"hi"}],'
        '"step":2,"status":"running"}',
        3,
    ),
    "b": (
        '{"version":1,"session_id":"b","tenant_id":"acme","messages":[],"step":0,'
        '"usage":{"input_tokens":5,"output_tokens":7,"cost_usd":0.001},"status":"running",'
        '"depth":0,"pending":null,"scratch":{"k":[1,2,{"x":"y"}]}}',
        1,
    ),
    "ü 🙂/ü": (
        '{"version":1,"session_id":"ü 🙂/ü","messages":[{"role":"user","content":"grüß 🙂"}],'
        '"step":9,"status":"running"}',
        7,
    ),
}

PAUSED = PAUSED_RUN  # a run paused for approval, as spinekit serialized it


def write_spinekit(path: Path, docs: dict[str, tuple[str, int]], *, updated: float = 1.7e9) -> None:
    """Write `docs` the way spinekit's SQLiteCheckpoint stores them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute(SPINEKIT_DDL)
        conn.executemany(
            "INSERT INTO checkpoints (session_id, version, revision, data, updated)"
            " VALUES (?, ?, ?, ?, ?)",
            [
                (sid, json.loads(doc).get("version", 1), rev, doc, updated)
                for sid, (doc, rev) in docs.items()
            ],
        )
    finally:
        conn.close()


def tables(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        conn.close()


def schema_version(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        row = conn.execute("SELECT version FROM spine_schema WHERE component='checkpoint'")
        return int(row.fetchone()[0])
    finally:
        conn.close()


async def assert_adopted(store: SQLiteCheckpoint, docs: dict[str, tuple[str, int]]) -> None:
    for sid, (doc, rev) in docs.items():
        assert await store.get(sid) == State.model_validate(json.loads(doc)), sid
        assert await store.revision(sid) == rev, sid


async def test_sessions_and_revisions_carry_over(db_path: Path) -> None:
    write_spinekit(db_path, DOCS)
    async with SQLiteCheckpoint(db_path) as store:
        await assert_adopted(store, DOCS)
        page = await store.list_sessions()
        assert sorted(s.session_id for s in page.sessions) == sorted(DOCS)
        assert {s.session_id: s.revision for s in page.sessions} == {
            sid: rev for sid, (_, rev) in DOCS.items()
        }
        assert [s.session_id for s in (await store.list_sessions(tenant_id="acme")).sessions] == [
            "b"
        ]
        assert all(s.updated_at.timestamp() == 1.7e9 for s in page.sessions)
        # spinekit's revision 3 is the one a compare-and-set names.
        state = await store.get("a")
        assert state is not None
        state.step += 1
        await store.put(state, expected_revision=3)
        assert await store.revision("a") == 4
        with pytest.raises(ConflictError):
            await store.put(state, expected_revision=3)
        await store.put(State(session_id="b"))
        assert await store.revision("b") == 2
    assert "checkpoints" not in tables(db_path)
    assert schema_version(db_path) == 2


async def test_reopening_adopts_nothing_more(db_path: Path) -> None:
    write_spinekit(db_path, DOCS)
    async with SQLiteCheckpoint(db_path) as store:
        await store.put(State(session_id="a", step=40), expected_revision=3)
    # Rows spinekit writes after the adoption are not moved again: adoption is a one-time
    # schema migration, and reopening runs none.
    write_spinekit(db_path, {"late": DOCS["a"]})
    async with SQLiteCheckpoint(db_path) as store:
        assert (await store.get("a")) == State(session_id="a", step=40)
        assert await store.revision("a") == 4
        await assert_adopted(store, {k: v for k, v in DOCS.items() if k != "a"})
        assert await store.get("late") is None
    assert "checkpoints" in tables(db_path)
    assert schema_version(db_path) == 2


async def test_a_session_spine_already_holds_keeps_spines_copy_and_loses_nothing(
    db_path: Path,
) -> None:
    async with SQLiteCheckpoint(db_path) as store:
        await store.put(State(session_id="a", step=100))
    # A file Spine had at schema version 1 that spinekit also wrote into.
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("UPDATE spine_schema SET version = 1 WHERE component = 'checkpoint'")
    conn.close()
    write_spinekit(db_path, DOCS)
    async with SQLiteCheckpoint(db_path) as store:
        assert await store.get("a") == State(session_id="a", step=100)
        await assert_adopted(store, {k: v for k, v in DOCS.items() if k != "a"})
    conn = sqlite3.connect(db_path)
    left = conn.execute("SELECT session_id, revision, data FROM checkpoints").fetchall()
    conn.close()
    assert left == [("a", 3, DOCS["a"][0])]


async def test_ids_spine_refuses_stay_in_spinekits_table(db_path: Path) -> None:
    refused = {"": DOCS["a"], "x" * 257: DOCS["a"], "nul\x00id": DOCS["a"]}
    write_spinekit(db_path, {**refused, "b": DOCS["b"]})
    async with SQLiteCheckpoint(db_path) as store:
        await assert_adopted(store, {"b": DOCS["b"]})
        assert [s.session_id for s in (await store.list_sessions()).sessions] == ["b"]
    conn = sqlite3.connect(db_path)
    left = conn.execute("SELECT session_id FROM checkpoints").fetchall()
    conn.close()
    assert sorted(r[0] for r in left) == sorted(refused)


async def test_an_older_state_version_goes_through_migrate(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def upgrade(doc: dict[str, Any]) -> dict[str, Any]:
        steps = doc.pop("steps")
        return {**doc, "version": 1, "step": steps}

    monkeypatch.setitem(state_migrations._MIGRATIONS, 0, upgrade)
    write_spinekit(db_path, {"old": ('{"version":0,"session_id":"old","steps":5}', 2)})
    async with SQLiteCheckpoint(db_path) as store:
        assert await store.get("old") == State(session_id="old", step=5)
        assert await store.revision("old") == 2


async def test_a_run_paused_for_approval_resumes(db_path: Path) -> None:
    write_spinekit(db_path, {"paused": (PAUSED, 5)})
    async with SQLiteCheckpoint(db_path) as store:
        await assert_adopted(store, {"paused": (PAUSED, 5)})
        state = await store.get("paused")
        assert state is not None
        await store.put(state, expected_revision=5)


async def test_a_foreign_table_under_spines_name_is_a_config_error(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("CREATE TABLE spine_checkpoints (id INTEGER PRIMARY KEY, blob BLOB)")
    conn.close()
    with pytest.raises(ConfigError, match=r"'spine_checkpoints' with columns \(id, blob\)"):
        async with SQLiteCheckpoint(db_path) as store:
            await store.get("a")
    # Refused inside the migration's transaction: nothing was created beside it.
    assert tables(db_path) == {"spine_checkpoints"}


async def test_a_checkpoints_table_of_another_layout_is_left_alone(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("CREATE TABLE checkpoints (session_id TEXT, note TEXT)")
    conn.execute("INSERT INTO checkpoints VALUES ('a', 'mine')")
    conn.close()
    async with SQLiteCheckpoint(db_path) as store:
        assert await store.get("a") is None
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT * FROM checkpoints").fetchall() == [("a", "mine")]
    conn.close()


async def test_the_default_store_is_the_file_spine_db_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_spinekit(tmp_path / "spine.db", {"a": DOCS["a"]})
    store = SQLiteCheckpoint()
    assert store.path == "spine.db"
    assert store.capabilities.durable
    async with store:
        await assert_adopted(store, {"a": DOCS["a"]})
        await store.put(State(session_id="new"))
    async with SQLiteCheckpoint(tmp_path / "spine.db") as again:
        assert await again.get("new") == State(session_id="new")


async def test_sqlite_url_without_a_path_stays_in_memory(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    async with SQLiteCheckpoint.from_url("sqlite://") as store:
        assert store.path is None
        await store.put(State(session_id="a"))
    assert not await asyncio.to_thread(lambda: list(tmp_path.iterdir()))


# -- processes opening a spinekit file together ----------------------------------------------


@pytest.fixture
def mp_workers(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The helper module, importable by name in spawned processes (they inherit sys.path)."""
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    import spine_sqlite_mp

    return spine_sqlite_mp


def _run_together(target: Any, args: tuple[Any, ...], processes: int) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(processes)
    procs = [ctx.Process(target=target, args=(*args, barrier)) for _ in range(processes)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=180)
    codes = [p.exitcode for p in procs]
    for p in procs:
        if p.is_alive():
            p.kill()
    assert codes == [0] * processes, f"child exit codes {codes}"


async def test_processes_opening_a_spinekit_file_together_adopt_it_once(
    db_path: Path, mp_workers: ModuleType
) -> None:
    docs = {**DOCS, **{f"s{i}": (DOCS["a"][0].replace('"a"', f'"s{i}"'), i) for i in range(1, 200)}}
    write_spinekit(db_path, docs)
    expected = {sid: rev for sid, (_, rev) in docs.items()}
    await asyncio.to_thread(_run_together, mp_workers.adopt_open, (str(db_path), expected), 4)
    assert "checkpoints" not in tables(db_path)
    assert schema_version(db_path) == 2
    async with SQLiteCheckpoint(db_path) as store:
        counted = await store.get("a")
        assert counted is not None
        assert (counted.step, await store.revision("a")) == (2 + 4, 3 + 4)
        await assert_adopted(store, {k: v for k, v in docs.items() if k != "a"})
        sessions = []
        cursor = None
        while True:
            page = await store.list_sessions(limit=100, cursor=cursor)
            sessions += [s.session_id for s in page.sessions]
            if (cursor := page.next_cursor) is None:
                break
        assert sorted(sessions) == sorted(docs)
