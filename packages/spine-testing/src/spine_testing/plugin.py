"""pytest plugin (entry point ``spine``): real-server fixtures for Spine backends (DESIGN.md §5).

Services resolve lazily: only a fixture that needs one starts a server, so a run that uses none
starts none. A service that cannot be had skips its tests with the reason, unless
``SPINE_REQUIRE_SERVICES=1`` (CI), where it fails them so a skip never hides a missing server.
"""

from __future__ import annotations

import os
import secrets
from typing import NoReturn

import pytest

from spine_testing import services
from spine_testing.services import Service


def skip_or_fail(message: str, *, required: bool | None = None) -> NoReturn:
    """Skip with `message`, or fail when services are required (``SPINE_REQUIRE_SERVICES=1``).

    Adapters' skip-when-unreachable probes call this, so CI never hides a missing server.
    """
    if services.require_services() if required is None else required:
        pytest.fail(
            f"{message} ({services.REQUIRE_ENV} is set: a missing server fails)", pytrace=False
        )
    pytest.skip(message)


def service_url(service: Service, *, required: bool | None = None) -> str:
    """Return ``service.url``; else skip with the reason, or fail when services are required.

    ``required`` defaults to :func:`spine_testing.services.require_services`. The URL comes back
    as a :class:`~spine_testing.services.RedactedURL`, so a failure report never shows its password.
    """
    if service.url is not None:
        return services.RedactedURL(service.url)
    skip_or_fail(f"{service.name} unavailable: {service.reason}", required=required)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of a Redis ≥ 8 server with vector sets (``SPINE_REDIS_URL`` or a throwaway one)."""
    return service_url(services.redis_service())


@pytest.fixture(scope="session")
def redis_cluster_url() -> str:
    """URL of one node of a Redis ≥ 8 Cluster (``SPINE_REDIS_CLUSTER_URL`` or a throwaway one).

    The throwaway cluster has three masters with one replica each; a failover test may stop a
    master through :func:`spine_testing.services.started_redis_cluster`.
    """
    return service_url(services.redis_cluster_service())


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """URL of a PostgreSQL ≥ 18 server with pgvector where tests may create schemas/extensions."""
    return service_url(services.postgres_service())


@pytest.fixture(scope="session")
def qdrant_url() -> str:
    """URL of a Qdrant server, from ``SPINE_QDRANT_URL`` only.

    Without ``SPINE_QDRANT_URL`` this always *skips*, even with ``SPINE_REQUIRE_SERVICES=1``:
    there is no Qdrant server to start, and CI covers Qdrant through qdrant-client's local mode.
    A URL that is set but unreachable fails under ``SPINE_REQUIRE_SERVICES=1`` like any other.
    """
    required = services.require_services() and bool(os.environ.get(services.QDRANT_ENV, "").strip())
    return service_url(services.qdrant_service(), required=required)


@pytest.fixture(scope="session")
def legacy_redis_url() -> str:
    """URL of the machine's Redis 7 (no vector sets): stores must refuse it or degrade clearly."""
    return service_url(services.legacy_redis_service())


@pytest.fixture(scope="session")
def legacy_postgres_url() -> str:
    """URL of the machine's PostgreSQL 15 (no pgvector)."""
    return service_url(services.legacy_postgres_service())


@pytest.fixture
def unique_prefix() -> str:
    """A fresh ``spt_<8 hex>`` name for keys, schemas and collections this test creates.

    Valid as a Redis key prefix, an unquoted SQL identifier and a Qdrant collection name, so a
    test only ever touches (and cleans up) what carries its own prefix.
    """
    return f"spt_{secrets.token_hex(4)}"


def pytest_report_header(config: pytest.Config) -> str:
    """Say where each service will come from, without resolving (and so starting) anything."""
    plan = []
    for name, var in (
        ("redis", services.REDIS_ENV),
        ("postgres", services.POSTGRES_ENV),
        ("qdrant", services.QDRANT_ENV),
    ):
        url = os.environ.get(var, "").strip()
        if url:
            plan.append(f"{name}={services.redact_url(url)}")
        else:
            plan.append(f"{name}=local mode only" if name == "qdrant" else f"{name}=throwaway")
    policy = "missing fails" if services.require_services() else "missing skips"
    return f"spine services (started on first use; {policy}): {', '.join(plan)}"


# Sessions open in this process. pytester runs whole pytest sessions *inside* the outer one;
# when such an inner session finished it used to stop the outer run's servers, whose URLs the
# outer session-scoped fixtures still held (every later test then met "connection refused").
_open_sessions = 0


def pytest_sessionstart(session: pytest.Session) -> None:
    """Count the session, so only the outermost one stops the servers."""
    global _open_sessions
    _open_sessions += 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Stop the servers this process started, when the outermost session ends.

    ``atexit`` covers runs that never get here.
    """
    global _open_sessions
    _open_sessions = max(0, _open_sessions - 1)
    if _open_sessions == 0:
        services.stop_all()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """List how each service this process resolved was obtained (none resolved: no section)."""
    resolved = services.resolved_services()
    if resolved:
        terminalreporter.section("spine services", sep="-")
        for service in resolved:
            terminalreporter.write_line(f"{service.name}: {service.reason}")
