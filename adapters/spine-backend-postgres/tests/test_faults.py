"""Bounded failure on PostgreSQL (issue 14, defects 11-13): the kit's fault checks.

A dedicated throwaway server (never the shared one) is stalled through the kit's proxy,
stopped and restarted; the bounds are the contract's, generous beside the timeouts below.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from spine_backend_postgres import PgVectorMemory, PostgresCheckpoint
from spine_testing.checks.faults import (
    outage_is_bounded_and_recovered,
    stalled_server_is_bounded,
    write_outcome_is_honest,
)
from spine_testing.faults import FaultProxy
from spine_testing.plugin import skip_or_fail
from spine_testing.services import ServiceUnavailable, Throwaway, start_throwaway

FAST = {"command_timeout": 2.0, "connect_timeout": 2.0}
BOUND = 8.0  # seconds: command_timeout + connect_timeout + slack for a loaded machine
DEFAULT_BOUND = 15.0  # the defaults (10 s on first use, 5 s for health) plus slack


@pytest.fixture(scope="module")
def server() -> Iterator[Throwaway]:
    try:
        started = start_throwaway("postgres")
    except ServiceUnavailable as exc:
        skip_or_fail(f"no throwaway PostgreSQL for fault tests: {exc}")
    with started:
        yield started


def checkpoint(url: str, **options: Any) -> PostgresCheckpoint:
    return PostgresCheckpoint.from_url(url, **{**FAST, **options})


def memory(url: str, **options: Any) -> PgVectorMemory:
    return PgVectorMemory.from_url(url, **{**FAST, **options})


@pytest.mark.parametrize("open_store", [checkpoint, memory], ids=["checkpoint", "memory"])
async def test_a_stalled_server_fails_within_a_bound(open_store: Any, server: Throwaway) -> None:
    """Defect 11: get/search/health hung 60 s+ on a server that accepts and never answers."""
    await stalled_server_is_bounded(open_store, server.url, bound=BOUND)


@pytest.mark.parametrize("open_store", [checkpoint, memory], ids=["checkpoint", "memory"])
async def test_restart_and_outage_are_bounded_and_recovered(
    open_store: Any, server: Throwaway
) -> None:
    """Defects 12 and 13: the first put after an idle restart failed; recovery took 6-30 s."""
    await outage_is_bounded_and_recovered(open_store, server, bound=BOUND)


async def test_a_write_reports_its_outcome_honestly(server: Throwaway) -> None:
    """Defect 12 from the other side: 'may or may not have been applied' only if sent."""
    await write_outcome_is_honest(checkpoint, server.url)


async def test_defaults_bound_a_stalled_server(server: Throwaway) -> None:
    """With no timeout configured, a stalled server still fails within seconds."""
    with FaultProxy.for_url(server.url) as proxy:
        store = PostgresCheckpoint.from_url(proxy.url_for(server.url))
        try:
            proxy.stall()
            began = time.monotonic()
            health = await store.health()  # first use: max(connect_timeout, command_timeout)
            assert time.monotonic() - began <= DEFAULT_BOUND
            assert not health.ok
            assert "did not answer" in (health.error or "")
        finally:
            proxy.pass_through()
            await store.aclose()


def test_timeouts_are_validated_and_read_from_the_url() -> None:
    store = PostgresCheckpoint.from_url("postgresql://u@127.0.0.1:1/db?command_timeout=1.5")
    assert store._db.options.command_timeout == 1.5
    with pytest.raises(Exception, match="command_timeout"):
        PostgresCheckpoint("postgresql://u@127.0.0.1:1/db", command_timeout=0)
