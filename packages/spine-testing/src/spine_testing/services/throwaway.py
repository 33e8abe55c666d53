"""A dedicated server a fault test may stop, pause or restart without disturbing other tests."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from contextlib import suppress
from urllib.parse import urlsplit

from spine_core._redact import redact_url  # stdlib-only module; one redaction rule everywhere

from ._process import _Owned, _owned
from ._service import RedactedURL, ServiceUnavailable, _lock
from .postgres import _launch_postgres, _postgres_install
from .redis import _launch_redis, _redis_binary

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
