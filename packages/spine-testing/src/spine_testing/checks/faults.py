"""Bounded-failure checks for server backends, built on :mod:`spine_testing.faults`.

Each check is a plain coroutine an adapter's tests await with a store factory
(``open_store(url) -> store``) and a real server; each raises ``AssertionError`` naming the
broken promise. The promises (the numbers are bounds of the contract, not performance
targets):

- :func:`stalled_server_is_bounded` — against a server that accepts bytes and answers nothing,
  reads raise ``BackendUnavailable`` and ``health()`` returns ``ok=False`` within ``bound``
  seconds, and the same store works again once the server answers;
- :func:`outage_is_bounded_and_recovered` — with the server stopped, the same holds, and after
  it restarts the same store object's first calls succeed (no dead pooled connection surfaces);
- :func:`write_outcome_is_honest` — a checkpoint write whose connection is cut *before* the
  request leaves is retried (applied once) or reported as not applied; one whose reply is cut
  *after* the request reached the server either succeeds applied once or fails saying it "may
  or may not have been applied"; that phrase is never used when nothing was sent.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from spine_core import State
from spine_core.errors import BackendUnavailable
from spine_testing.expect import CheckFailed, expect, expect_equal, expect_same_state
from spine_testing.faults import FaultProxy
from spine_testing.services import Throwaway

__all__ = [
    "MAYBE_APPLIED",
    "outage_is_bounded_and_recovered",
    "stalled_server_is_bounded",
    "write_outcome_is_honest",
]

MAYBE_APPLIED = "may or may not have been applied"
"""The phrase a store uses when a write's outcome is unknown (and only then)."""

StoreFactory = Callable[[str], Any]


def _probes(store: Any) -> dict[str, Callable[[], Awaitable[Any]]]:
    """The reads to try on a failing server, by store kind."""
    if hasattr(store, "search"):
        return {"search": lambda: store.search("fault probe", k=1), "load": lambda: store.load("s")}
    return {"get": lambda: store.get("fault-probe")}


async def _fails_within(name: str, call: Callable[[], Awaitable[Any]], bound: float) -> str:
    began = time.monotonic()
    try:
        await call()
    except BackendUnavailable as exc:
        message = str(exc)
    else:
        raise CheckFailed(f"{name}() succeeded against a server that does not answer")
    took = time.monotonic() - began
    expect(took <= bound, f"{name}() took {took:.1f}s to raise BackendUnavailable (bound {bound}s)")
    return message


async def _health_within(store: Any, bound: float) -> None:
    began = time.monotonic()
    health = await store.health()
    took = time.monotonic() - began
    expect(not health.ok, "health() reported ok against a server that does not answer")
    expect(took <= bound, f"health() took {took:.1f}s to return (bound {bound}s)")


async def _works(store: Any, tag: str) -> None:
    if hasattr(store, "search"):
        record = await store.save(f"after the fault {tag}", session_id="s")
        expect_equal(record.content, f"after the fault {tag}", "content saved after the fault")
        expect((await store.health()).ok, "health() is not ok after the fault ended")
        return
    state = State(session_id=f"after-{tag}", step=3)
    await store.put(state)
    expect_same_state(await store.get(state.session_id), state, "get after the fault")
    expect((await store.health()).ok, "health() is not ok after the fault ended")


async def stalled_server_is_bounded(open_store: StoreFactory, url: str, *, bound: float) -> None:
    """Reads and ``health()`` end within `bound` on a stalled server; the store then recovers."""
    with FaultProxy.for_url(url) as proxy:
        store = open_store(proxy.url_for(url))
        try:
            await _works(store, "warm-up")
            proxy.stall()
            for name, call in _probes(store).items():
                await _fails_within(name, call, bound)
            await _health_within(store, bound)
            proxy.pass_through()
            await _works(store, "stall")
        finally:
            proxy.pass_through()
            await store.aclose()


async def outage_is_bounded_and_recovered(
    open_store: StoreFactory, server: Throwaway, *, bound: float
) -> None:
    """Stopped server: bounded failures; restarted: the same store's first calls succeed."""
    store = open_store(server.url)
    try:
        await _works(store, "before")
        server.restart()  # while the store holds idle pooled connections
        await _works(store, "restart")  # the first write after a restart must not fail
        server.stop()
        for name, call in _probes(store).items():
            await _fails_within(name, call, bound)
        await _health_within(store, bound)
        server.restart()
        began = time.monotonic()
        await _works(store, "outage")
        took = time.monotonic() - began
        expect(took <= bound, f"the first calls after the outage took {took:.1f}s")
    finally:
        if not server.running:
            server.restart()
        await store.aclose()


async def _put_outcome(store: Any, proxy: FaultProxy, state: State) -> tuple[str | None, int]:
    """(error message or None, bytes delivered to the server) of one ``put``."""
    before = proxy.bytes_to_server
    try:
        await store.put(state)
    except BackendUnavailable as exc:
        return str(exc), proxy.bytes_to_server - before
    return None, proxy.bytes_to_server - before


async def write_outcome_is_honest(open_store: StoreFactory, url: str) -> None:
    """A checkpoint store reports a write's outcome truthfully when its connection is cut."""
    with FaultProxy.for_url(url) as proxy:
        store = open_store(proxy.url_for(url))
        sid = "fault-write"
        try:
            await store.put(State(session_id=sid, step=1))
            revision = await store.revision(sid)

            # 1. Idle connections reset before the write: nothing was sent on them.
            proxy.cut_all()
            error, _ = await _put_outcome(store, proxy, State(session_id=sid, step=2))
            expect(
                error is None or MAYBE_APPLIED not in error,
                f"a write cut before it was sent was reported as maybe applied: {error}",
            )
            if error is None:
                revision += 1
            expect(await store.revision(sid) == revision, "a write was applied twice or lost")

            # 2. The reply is cut after the request reached the server.
            proxy.cut()
            error, sent = await _put_outcome(store, proxy, State(session_id=sid, step=3))
            if error is None:
                revision += 1
                expect(await store.revision(sid) == revision, "a retried write applied twice")
            else:
                expect(MAYBE_APPLIED in error, f"an unknown outcome reported as a failure: {error}")
                expect(sent > 0, "'may or may not have been applied' but nothing was sent")
                revision = await store.revision(sid)

            # 3. No connection can be made: nothing is sent, so nothing "may" have happened.
            proxy.drop()
            proxy.cut_all()
            error, sent = await _put_outcome(store, proxy, State(session_id=sid, step=4))
            expect_equal(sent, 0, "bytes sent with every connection refused")
            if error is None:
                raise CheckFailed("a write succeeded with every connection refused")
            expect(MAYBE_APPLIED not in error, f"nothing was sent, yet: {error}")
            proxy.pass_through()
            expect(await store.revision(sid) == revision, "a write that was not sent applied")
            state = await store.get(sid)
            expect(
                state is not None and state.step in (2, 3),
                f"after the faults the session reads {state!r:.80}",
            )
        finally:
            proxy.pass_through()
            await store.aclose()
