"""Bounded failure on Redis (issue 14, defect 13): the kit's fault checks.

A dedicated throwaway server (never the shared one) is stalled through the kit's proxy,
paused with SIGSTOP, stopped and restarted.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from spine_backend_redis import RedisCheckpoint, RedisMemory
from spine_core.errors import BackendUnavailable
from spine_testing.checks.faults import (
    outage_is_bounded_and_recovered,
    stalled_server_is_bounded,
    write_outcome_is_honest,
)
from spine_testing.plugin import skip_or_fail
from spine_testing.services import ServiceUnavailable, Throwaway, start_throwaway

FAST = {"socket_timeout": 2.0, "socket_connect_timeout": 2.0}
BOUND = 8.0  # seconds: the socket timeout plus bounded, short retries and slack
DEFAULT_BOUND = 15.0  # the 5 s defaults plus slack (it was 90 s)


@pytest.fixture(scope="module")
def server() -> Iterator[Throwaway]:
    try:
        started = start_throwaway("redis")
    except ServiceUnavailable as exc:
        skip_or_fail(f"no throwaway Redis for fault tests: {exc}")
    with started:
        yield started


def checkpoint(url: str, **options: Any) -> RedisCheckpoint:
    return RedisCheckpoint.from_url(url, namespace="faults", **{**FAST, **options})


def memory(url: str, **options: Any) -> RedisMemory:
    return RedisMemory.from_url(url, namespace="faults", **{**FAST, **options})


@pytest.mark.parametrize("open_store", [checkpoint, memory], ids=["checkpoint", "memory"])
async def test_a_stalled_server_fails_within_a_bound(open_store: Any, server: Throwaway) -> None:
    await stalled_server_is_bounded(open_store, server.url, bound=BOUND)


@pytest.mark.parametrize("open_store", [checkpoint, memory], ids=["checkpoint", "memory"])
async def test_restart_and_outage_are_bounded_and_recovered(
    open_store: Any, server: Throwaway
) -> None:
    await outage_is_bounded_and_recovered(open_store, server, bound=BOUND)


async def test_a_write_reports_its_outcome_honestly(server: Throwaway) -> None:
    """A put whose reply is lost is retried with its write token: applied exactly once."""
    await write_outcome_is_honest(checkpoint, server.url)


async def test_a_paused_server_fails_within_seconds_by_default(server: Throwaway) -> None:
    """Defect 13: a SIGSTOPped Redis took 90 s (3 x 30 s) to fail; defaults now bound it."""
    store = RedisCheckpoint.from_url(server.url, namespace="faults-default")
    try:
        assert await store.get("s") is None
        server.pause(for_at_most=30)
        began = time.monotonic()
        with pytest.raises(BackendUnavailable, match="did not answer"):
            await store.get("s")
        assert time.monotonic() - began <= DEFAULT_BOUND
        assert not (await store.health()).ok
        server.resume()
        assert await store.get("s") is None
    finally:
        server.resume()
        await store.aclose()
