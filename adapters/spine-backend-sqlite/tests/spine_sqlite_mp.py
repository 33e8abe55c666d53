"""Process entry points for the multi-process tests (imported by spawned interpreters).

Kept out of the test module so `multiprocessing`'s spawn start method can import them by
name; test_sqlite.py puts this directory on sys.path, which spawn passes to its children.
"""

from __future__ import annotations

import asyncio
from typing import Any

import numpy  # noqa: F401 - imported before the barrier, so the processes open together

from spine_backend_sqlite import SQLiteCheckpoint, SQLiteMemory
from spine_core import ConflictError, State


def first_open(path: str, index: int, barrier: Any) -> None:
    """Open both store kinds on a (fresh) file at the same moment as the other processes."""

    async def checkpoint() -> None:
        async with SQLiteCheckpoint(path, busy_timeout=30) as store:
            await store.put(State(session_id=f"opener-{index}"))

    async def memory() -> None:
        async with SQLiteMemory(path, busy_timeout=30) as store:
            await store.save(f"opened by process {index}", session_id="openers")

    async def run() -> None:
        barrier.wait()
        # Both kinds at once: their migrations race each other as well as other processes'.
        await asyncio.gather(checkpoint(), memory())

    asyncio.run(run())


def adopt_open(path: str, expected: dict[str, int], barrier: Any) -> None:
    """Open a file spinekit wrote at the same moment as other processes; check every session."""

    async def run() -> None:
        barrier.wait()
        async with SQLiteCheckpoint(path, busy_timeout=30) as store:
            # Count on session "a" at once: an adoption that ran twice would reset it.
            while True:
                revision = await store.revision("a")  # first: then the state is at least as new
                state = await store.get("a")
                assert state is not None
                state.step += 1
                try:
                    await store.put(state, expected_revision=revision)
                    break
                except ConflictError:
                    pass
            for session_id, revision in expected.items():
                assert await store.get(session_id) is not None, session_id
                if session_id != "a":
                    assert await store.revision(session_id) == revision, session_id

    asyncio.run(run())
