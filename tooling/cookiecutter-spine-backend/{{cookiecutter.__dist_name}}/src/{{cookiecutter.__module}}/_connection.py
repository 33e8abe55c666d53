"""Where a store connects: its URL, and an in-process stand-in for the driver.

`connect()` returns a `StandInServer`: process-wide dicts that play the server, so the stores
work (and pass the conformance kit) before any driver is wired in. Porting to the real
driver means replacing `connect()` and every `# REPLACE:` spot in the store modules, then
deleting `StandInServer`.
"""

from __future__ import annotations

from typing import Any

from spine_core.errors import ConfigError
from spine_core.spi import redact_url

__all__ = [
    "DEFAULT_URL",
    "SCHEME",
    "URL_ENV",
    "StandInServer",
    "check_url",
    "connect",
    "drop_namespace",
    "ping",
    "without_query",
]

SCHEME = "{{ cookiecutter.__scheme }}"
DEFAULT_URL = "{{ cookiecutter.__scheme }}://localhost"
"""Where a store connects when given no URL."""
URL_ENV = "{{ cookiecutter.__env_var }}"
"""The variable the tests read the URL of a real server from."""


def check_url(url: object) -> str:
    """`url` when it has this backend's scheme, else `ConfigError` (passwords never shown)."""
    if not isinstance(url, str):
        raise ConfigError(f"{SCHEME} URL must be a str, got {type(url).__name__}")
    scheme, sep, _rest = url.partition("://")
    if not sep or scheme.lower() != SCHEME:
        raise ConfigError(f"expected a {SCHEME}:// URL, got {redact_url(url)!r}")
    # REPLACE: parse what your driver needs (host, port, database, TLS) and reject what it
    # cannot use, here, so that a bad URL fails when the store is built rather than on first
    # use. The store's own options left the query already (see `_options.py`).
    return url


def without_query(url: str) -> str:
    """`url` without its query string: every query option is the store's (`_options.py`).

    REPLACE: if the driver takes query parameters of its own, keep those (the names its
    options model does not declare) and refuse the names the driver does not know.
    """
    return url.split("?", 1)[0]


class StandInServer:
    """What a real server would hold, as dicts of rows keyed by table name."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[str, Any]] = {}

    def table(self, name: str) -> dict[str, Any]:
        """The rows of table `name` (created empty on first use)."""
        return self.tables.setdefault(name, {})

    def drop(self, name: str) -> None:
        """Delete table `name` and its rows."""
        self.tables.pop(name, None)


# One stand-in per URL for the whole process: stores opened with equal URLs share data,
# just as clients of one server do.
_SERVERS: dict[str, StandInServer] = {}


async def connect(url: str) -> StandInServer:
    """A client for the server at `url`."""
    # REPLACE: import your driver here (never at module level, so importing the package
    # does not need it), create its client from `url`, and make one round trip so a bad URL
    # or an unreachable server fails now. Wrap that in spine_core.spi.retry_transient so a
    # transient failure becomes BackendUnavailable after bounded retries, and never put the
    # URL's password in an error (spine_core.spi.redact_url).
    return _SERVERS.setdefault(url, StandInServer())


async def ping(url: str) -> None:
    """One round trip to the server at `url`; raises why when it cannot be reached."""
    await connect(url)
    # REPLACE: run the driver's cheapest command on the client, then close it.


async def drop_namespace(url: str, namespace: str) -> None:
    """Delete everything stored under `namespace` (for tests, which clean up what they make)."""
    server = await connect(url)
    # REPLACE: delete this namespace's keys / rows / collections on the server, then close
    # the client. Only ever what belongs to `namespace`: tests share servers.
    for name in [n for n in server.tables if n.endswith(f"/{namespace}")]:
        server.drop(name)
