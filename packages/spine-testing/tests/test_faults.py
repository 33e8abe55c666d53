"""The fault proxy itself: each mode does what it says, on a loopback echo endpoint.

The echo endpoint is not a fake of any backend, just bytes in, the same bytes out; the
backends' own fault tests (adapters/*/tests/test_faults.py) run the proxy against real servers.
"""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from contextlib import suppress

import pytest

from spine_testing.faults import FaultProxy, hide_modules
from spine_testing.plugin import skip_or_fail


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(4096):
            self.request.sendall(data)


@pytest.fixture
def echo() -> Iterator[int]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _client(proxy: FaultProxy) -> socket.socket:
    return socket.create_connection((proxy.host, proxy.port), timeout=2)


def _drain_until_closed(sock: socket.socket) -> tuple[bytes, bool]:
    """(bytes read, whether the peer closed or reset) within the socket's timeout."""
    got = b""
    try:
        while chunk := sock.recv(4096):
            got += chunk
    except ConnectionError:
        return got, True
    except TimeoutError:
        return got, False
    return got, True


def _roundtrip(sock: socket.socket, data: bytes) -> bytes:
    sock.sendall(data)
    got = b""
    while len(got) < len(data):
        chunk = sock.recv(4096)
        if not chunk:
            break
        got += chunk
    return got


def test_pass_through_and_counters(echo: int) -> None:
    with FaultProxy("127.0.0.1", echo) as proxy, _client(proxy) as sock:
        assert _roundtrip(sock, b"hello") == b"hello"
        assert proxy.bytes_to_server == 5
        assert proxy.connections == 1


def test_stall_holds_bytes_until_released(echo: int) -> None:
    with FaultProxy("127.0.0.1", echo) as proxy, _client(proxy) as sock:
        assert _roundtrip(sock, b"warm") == b"warm"
        proxy.stall()
        sock.sendall(b"held")
        sock.settimeout(0.3)
        with pytest.raises(TimeoutError):
            sock.recv(10)
        assert proxy.bytes_to_server == 4  # nothing delivered while stalled
        proxy.pass_through()
        sock.settimeout(2)
        assert sock.recv(10) == b"held"


def test_drop_resets_new_connections_only(echo: int) -> None:
    with FaultProxy("127.0.0.1", echo) as proxy, _client(proxy) as live:
        assert _roundtrip(live, b"a") == b"a"
        proxy.drop()
        try:
            fresh = _client(proxy)
        except ConnectionError:
            pass  # the reset can win the race with connect() itself: dropped all the same
        else:
            with fresh:
                fresh.settimeout(2)
                with suppress(ConnectionError):
                    fresh.sendall(b"x")
                assert _drain_until_closed(fresh) == (b"", True)
        assert _roundtrip(live, b"b") == b"b"


def test_cut_truncates_one_reply_and_resets(echo: int) -> None:
    with FaultProxy("127.0.0.1", echo) as proxy:
        proxy.cut(after_bytes=2)
        with _client(proxy) as sock:
            sock.sendall(b"abcdef")
            assert _drain_until_closed(sock) == (b"ab", True)
            assert proxy.bytes_to_server == 6  # the request did arrive
        with _client(proxy) as again:  # one-shot: the next connection works
            assert _roundtrip(again, b"ok") == b"ok"


def test_cut_all_resets_idle_connections(echo: int) -> None:
    with FaultProxy("127.0.0.1", echo) as proxy, _client(proxy) as sock:
        assert _roundtrip(sock, b"x") == b"x"
        assert proxy.cut_all() == 1
        sock.settimeout(2)
        assert _drain_until_closed(sock) == (b"", True)


def test_delay_still_delivers(echo: int) -> None:
    with FaultProxy("127.0.0.1", echo) as proxy, _client(proxy) as sock:
        proxy.delay(0.05)
        assert _roundtrip(sock, b"late") == b"late"


def test_loopback_only_and_bounded() -> None:
    with pytest.raises(ValueError, match="loopback"):
        FaultProxy("192.0.2.1", 80)
    with pytest.raises(ValueError, match="lifetime"):
        FaultProxy("127.0.0.1", 1, lifetime=0)


def test_url_for_keeps_credentials_and_path(echo: int) -> None:
    with FaultProxy("127.0.0.1", echo) as proxy:
        url = proxy.url_for("postgresql://u:pw@127.0.0.1:5432/db?sslmode=disable")
        assert url == f"postgresql://u:pw@127.0.0.1:{proxy.port}/db?sslmode=disable"


def test_a_throwaway_server_pauses_restarts_and_is_removed() -> None:
    """The watchdog follows a restarted server, so closing (or dying) still removes it."""
    from spine_testing import services

    try:
        server = services.start_throwaway("redis")
    except services.ServiceUnavailable as exc:
        skip_or_fail(str(exc))
    tmpdir = server._owned.tmpdir
    try:
        server.pause(for_at_most=0.5)
        assert services._redis_ping(server.url, 0.2) is not None  # paused: no answer
        deadline = time.monotonic() + 10
        while services._redis_ping(server.url, 0.2) is not None:  # it resumes by itself
            assert time.monotonic() < deadline, "a paused server did not resume by itself"
        first = server._owned.process
        server.restart()
        second = server._owned.process
        assert first is not None
        assert second is not None
        assert second.pid != first.pid
        assert services._redis_ping(server.url) is None  # same port, answering
    finally:
        server.close()
    assert second.poll() is not None
    assert not tmpdir.exists()


def test_hide_modules_refuses_a_module_until_the_test_ends() -> None:
    import importlib
    import importlib.util
    import json as before

    with pytest.MonkeyPatch.context() as monkeypatch:
        hide_modules(monkeypatch, "json")
        with pytest.raises(ModuleNotFoundError):
            importlib.import_module("json.decoder")
        with pytest.raises(ModuleNotFoundError):
            importlib.util.find_spec("json")
    assert importlib.import_module("json") is before  # the loaded copy is back, not a second one
