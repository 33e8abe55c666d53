"""`spine check` respects the user's data and time: a bounded probe, one line, no residue."""

from __future__ import annotations

import json
import re
import socket
import sqlite3
import time
from collections import Counter
from pathlib import Path

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
# the end through the stores' public API (delete, prune). What remains is each memory namespace's
# registration (its embedder name and dimension: one Redis key / one meta row per namespace),
# because no store offers an operation that drops a namespace. The tests count it explicitly.

KIT_NAMESPACE = re.compile(r"spk_[0-9a-f]{12}")
META_TABLE = "spine_memory_meta"


def _redis_keys(url: str) -> Counter[str]:
    client = redis.Redis.from_url(url)
    try:
        return Counter(k.decode() for k in client.scan_iter(count=1000))
    finally:
        client.close()


def _pg_counts(url: str) -> dict[str, int]:
    """Every table of the database (-1), with its rows where spine check writes (public).

    Other schemas belong to other tests on the shared server, whose rows may expire meanwhile.
    """
    counts: dict[str, int] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
        for schema, table in tables:
            if schema != "public":
                counts[f"{schema}.{table}"] = -1
                continue
            where = " WHERE namespace !~ '^spk_[0-9a-f]{12}$'" if table == META_TABLE else ""
            row = conn.execute(f'SELECT count(*) FROM "{schema}"."{table}"{where}').fetchone()
            counts[f"{schema}.{table}"] = row[0] if row else -1
    return counts


def _sqlite_counts(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(path)
    conn.create_function("is_kit", 1, lambda ns: bool(KIT_NAMESPACE.fullmatch(ns)))
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        counts = {}
        for table in tables:
            where = " WHERE NOT is_kit(namespace)" if table == META_TABLE else ""
            counts[table] = conn.execute(f'SELECT count(*) FROM "{table}"{where}').fetchone()[0]
        return counts
    finally:
        conn.close()


def _passes(spine, target: str) -> None:
    result = spine("check", target, "--json")
    report = json.loads(result.out)
    failed = [r for r in report["results"] if r["status"] == "failed"]
    assert result.code == 0, failed


@pytest.mark.parametrize("which", ["redis_url", "legacy_redis_url"])
def test_check_leaves_no_redis_key(spine, request: pytest.FixtureRequest, which: str) -> None:
    url = request.getfixturevalue(which)
    before = _redis_keys(url)
    _passes(spine, url)
    added = _redis_keys(url) - before
    registrations = re.compile(r"\{spine:spk_[0-9a-f]{12}\}:mem:meta")
    assert [k for k in added if not registrations.fullmatch(k)] == []
    assert sum(added.values()) == len(added)  # at most one registration per namespace
    if which == "legacy_redis_url":  # no memory kind there: nothing at all remains
        assert not added


@pytest.mark.parametrize("which", ["postgres_url", "legacy_postgres_url"])
def test_check_leaves_no_postgres_row_or_table(
    spine, request: pytest.FixtureRequest, which: str
) -> None:
    url = request.getfixturevalue(which)
    _passes(spine, url)  # a first run on a fresh server creates the stores' shared tables
    before = _pg_counts(url)
    _passes(spine, url)
    assert _pg_counts(url) == before


def test_check_leaves_no_sqlite_row(spine, tmp_path: Path) -> None:
    path = tmp_path / "user.db"
    url = f"sqlite:///{path}"
    _passes(spine, url)  # creates the stores' tables
    before = _sqlite_counts(path)
    _passes(spine, url)
    assert _sqlite_counts(path) == before
    assert before["spine_memory"] == before["spine_checkpoints"] == 0


def test_sqlite_counts_see_user_rows(spine, tmp_path: Path) -> None:
    """The counting above is not blind: a user's own session shows up in it."""
    path = tmp_path / "user.db"
    url = f"sqlite:///{path}"
    _passes(spine, url)
    before = _sqlite_counts(path)
    code = (
        "import asyncio, sys\n"
        "from spine_core import State, open_checkpoint\n"
        "async def main():\n"
        "    async with open_checkpoint(sys.argv[1]) as s:\n"
        "        await s.put(State(session_id='users-own'))\n"
        "asyncio.run(main())\n"
    )
    import subprocess
    import sys

    subprocess.run([sys.executable, "-c", code, url], check=True, timeout=60)
    assert _sqlite_counts(path)["spine_checkpoints"] == before["spine_checkpoints"] + 1
    _passes(spine, url)
    assert _sqlite_counts(path)["spine_checkpoints"] == before["spine_checkpoints"] + 1
