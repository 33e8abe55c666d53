"""`spine check` respects the user's data and time: a bounded probe, one line, no residue."""

from __future__ import annotations

import json
import socket
import sqlite3
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import redis

DEAD = ("redis://127.0.0.1:1/0", "postgresql://postgres:hunter2@127.0.0.1:1/x")


@pytest.mark.parametrize("target", DEAD)
def test_unreachable_target_is_one_line_and_exit_2_within_5_s(spine_subprocess, target) -> None:
    start = time.perf_counter()
    result = spine_subprocess("check", target)
    elapsed = time.perf_counter() - start
    assert result.code == 2, (result.out, result.err)
    assert elapsed < 5, elapsed
    assert result.out == ""
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("error: cannot reach ")
    assert "127.0.0.1:1" in lines[0]
    assert "Connect" in lines[0] or "connect" in lines[0]
    assert "hunter2" not in result.err
    assert "retrying" not in result.err


@pytest.mark.parametrize("scheme", ["redis", "postgresql"])
def test_a_server_that_never_answers_is_bounded(spine_subprocess, scheme: str) -> None:
    with socket.socket() as silent:  # the kernel completes connections; nothing ever answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)
        port = silent.getsockname()[1]
        start = time.perf_counter()
        result = spine_subprocess("check", f"{scheme}://postgres@127.0.0.1:{port}/0")
        elapsed = time.perf_counter() - start
    assert result.code == 2, (result.out, result.err)
    assert result.err.strip().splitlines() == [
        f"error: cannot reach {scheme}://postgres@127.0.0.1:{port}/0 (checkpoint store): "
        "no answer within 3 s"
    ]
    assert elapsed < 7, elapsed  # 3 s probe + 1 s close + interpreter start on a busy machine


def test_retry_warnings_show_only_with_verbose(spine_subprocess) -> None:
    quiet = spine_subprocess("check", DEAD[0])
    loud = spine_subprocess("check", DEAD[0], "-v")
    assert quiet.code == loud.code == 2
    assert "retrying" not in quiet.err
    assert "retrying" in loud.err


def _verdicts(report: dict) -> dict[str, str]:
    return {kind: facts["level"] for kind, facts in report["kinds"].items()}


def test_redis_7_checkpoint_full_memory_unsupported_once(spine, legacy_redis_url: str) -> None:
    result = spine("check", legacy_redis_url)
    assert result.code == 0, result.err
    assert "checkpoint: level FULL" in result.out
    unsupported = [line for line in result.out.splitlines() if "unsupported" in line]
    assert len(unsupported) == 1, unsupported
    assert unsupported[0].startswith("memory: unsupported — RedisMemory needs Redis 8+")
    assert "level NONE" not in result.out
    report = json.loads(spine("check", legacy_redis_url, "--json").out)
    assert _verdicts(report) == {"checkpoint": "full"}
    assert list(report["unsupported"]) == ["memory"]


def test_postgres_15_memory_unsupported_alone_is_exit_2(spine, legacy_postgres_url: str) -> None:
    result = spine("check", legacy_postgres_url, "--kind", "memory")
    assert result.code == 2
    assert result.out == ""
    assert len(result.err.strip().splitlines()) == 1
    assert "cannot serve memory: PgVectorMemory needs the pgvector extension" in result.err


# -- residue: counts before and after on every backend -------------------------------------------
# Everything `spine check` writes goes to namespaces of its own (spk_<12 hex>) and is deleted at
# the end: sessions and records through the stores' public API (delete, prune), and each memory
# namespace's registration (its embedder: a Redis key, a meta row, a Qdrant collection) through
# the stores' private `_drop_namespace` hook (PostgreSQL's also drops a vector table of a
# dimension no namespace uses any more). So every count below is equal, exactly. A first run on
# a fresh database creates the stores' shared tables (and pgvector); those stay, empty, as they
# would for the application, and are counted from then on.


def _redis_keys(url: str) -> Counter[str]:
    client = redis.Redis.from_url(url)
    try:
        return Counter(k.decode() for k in client.scan_iter(count=1000))
    finally:
        client.close()


def _pg_counts(url: str) -> dict[str, int]:
    """Rows of every table of the database (a database of the test's own)."""
    with psycopg.connect(url, autocommit=True) as conn:
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
        return {
            f"{schema}.{table}": conn.execute(
                f'SELECT count(*) FROM "{schema}"."{table}"'
            ).fetchone()[0]
            for schema, table in tables
        }


@pytest.fixture(params=["postgres_url", "legacy_postgres_url"])
def fresh_database(request: pytest.FixtureRequest) -> Iterator[str]:
    """A new, empty database on the server: the machine's PostgreSQL 15 is shared by others."""
    url = request.getfixturevalue(request.param)
    name = f"spine_hygiene_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def empty_redis_7_db(legacy_redis_url: str) -> str:
    """A logical database of the machine's (shared) Redis 7 that holds no key."""
    for db in range(15, 0, -1):
        url = urlunsplit(urlsplit(legacy_redis_url)._replace(path=f"/{db}"))
        client = redis.Redis.from_url(url)
        try:
            if client.dbsize() == 0:
                return url
        finally:
            client.close()
    pytest.skip("every logical database of the shared Redis 7 holds keys")


def _sqlite_counts(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    finally:
        conn.close()


def _qdrant_counts(path: Path) -> dict[str, int]:
    """Collection → points, in a local-mode Qdrant directory (nothing when it has none).

    Either engine's layout: qdrant-edge keeps a shard per collection under `edge/`,
    qdrant-client its own `collection/` folder.
    """
    if not path.exists():
        return {}
    edge = path / "edge"
    if edge.is_dir():
        from qdrant_edge import CountRequest, EdgeShard

        counts = {}
        for shard_dir in sorted(edge.glob("*/shard")):
            shard = EdgeShard.load(str(shard_dir))
            try:
                counts[shard_dir.parent.name] = shard.count(CountRequest(exact=True))
            finally:
                shard.close()
        return counts
    from qdrant_client import QdrantClient

    client = QdrantClient(path=str(path))
    try:
        names = [c.name for c in client.get_collections().collections]
        return {name: client.count(name, exact=True).count for name in names}
    finally:
        client.close()


def _passes(spine, target: str) -> None:
    result = spine("check", target, "--json")
    report = json.loads(result.out)
    failed = [r for r in report["results"] if r["status"] == "failed"]
    assert result.code == 0, failed


def test_check_leaves_no_redis_key(spine, redis_url: str) -> None:
    """Redis 8 (checkpoints and memory), a server of this test run: every key counts."""
    before = _redis_keys(redis_url)
    _passes(spine, redis_url)
    assert _redis_keys(redis_url) == before


def test_check_leaves_no_key_on_redis_7(spine, empty_redis_7_db: str) -> None:
    """Redis 7 (checkpoints only; memory unsupported)."""
    _passes(spine, empty_redis_7_db)
    assert _redis_keys(empty_redis_7_db) == Counter()


def test_check_leaves_no_postgres_row(spine, fresh_database: str) -> None:
    assert _pg_counts(fresh_database) == {}
    _passes(spine, fresh_database)  # creates the stores' shared tables, and leaves them empty
    before = _pg_counts(fresh_database)
    assert "public.spine_checkpoints" in before
    # The vector tables of the dimensions the kit used went with its last namespace of each.
    assert not [t for t in before if t.startswith("public.spine_memory_") and t[-1].isdigit()]
    data = {t: n for t, n in before.items() if t != "public.spine_schema_migrations"}
    assert set(data.values()) == {0}, before  # the tables hold no row; only schema versions
    _passes(spine, fresh_database)
    assert _pg_counts(fresh_database) == before


def test_check_leaves_no_sqlite_row(spine, tmp_path: Path) -> None:
    path = tmp_path / "user.db"
    url = f"sqlite:///{path}"
    _passes(spine, url)  # creates the stores' tables
    before = _sqlite_counts(path)
    _passes(spine, url)
    assert _sqlite_counts(path) == before
    assert before["spine_memory"] == before["spine_memory_meta"] == 0
    assert before["spine_checkpoints"] == 0


def test_check_leaves_no_qdrant_collection(spine, tmp_path: Path) -> None:
    path = tmp_path / "qdrant"
    assert _qdrant_counts(path) == {}
    _passes(spine, f"qdrant+local:///{path}")
    assert _qdrant_counts(path) == {}
    _passes(spine, f"qdrant+local:///{path}")
    assert _qdrant_counts(path) == {}


def test_counts_see_what_users_write(spine, tmp_path: Path) -> None:
    """The counting above is not blind: a user's own session and records show up in it."""
    db, qdrant = tmp_path / "user.db", tmp_path / "qdrant"
    url = f"sqlite:///{db}"
    _passes(spine, url)
    before = _sqlite_counts(db)
    code = (
        "import asyncio, sys\n"
        "from spine_core import State, open_checkpoint, open_memory\n"
        "async def main():\n"
        "    async with open_checkpoint(sys.argv[1]) as s:\n"
        "        await s.put(State(session_id='users-own'))\n"
        "    for target in sys.argv[1:]:\n"
        "        async with open_memory(target) as m:\n"
        "            await m.save('users own memory', session_id='users-own')\n"
        "asyncio.run(main())\n"
    )
    import subprocess
    import sys

    subprocess.run(
        [sys.executable, "-c", code, url, f"qdrant+local:///{qdrant}"], check=True, timeout=60
    )
    mine = {"spine_checkpoints": 1, "spine_memory": 1, "spine_memory_meta": 1}
    expected = {t: n + mine.get(t, 0) for t, n in before.items()}
    assert _sqlite_counts(db) == expected
    assert _qdrant_counts(qdrant) == {"spine_default": 1}
    _passes(spine, url)
    _passes(spine, f"qdrant+local:///{qdrant}")
    assert _sqlite_counts(db) == expected
    assert _qdrant_counts(qdrant) == {"spine_default": 1}
