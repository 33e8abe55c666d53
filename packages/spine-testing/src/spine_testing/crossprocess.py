"""Compare-and-set across processes, which no single-process check can show.

DESIGN §3 promises no lost update between processes. The registered check of the same name
(`checks/checkpoint/durability.py`) runs this for URL targets; adapters may also call
`cas_across_processes` with a URL. Run as a module this file is the worker:
`python -m spine_testing.crossprocess TARGET OPTIONS SID N START [MODULE ...]`.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from spine_core import ConflictError, State, open_checkpoint

from .expect import CheckFailed, expect, expect_equal

__all__ = ["cas_across_processes"]


async def _increment(target: str, options: dict[str, Any], sid: str, times: int) -> None:
    async with open_checkpoint(target, **options) as store:
        done = 0
        while done < times:
            # Revision first, then state: if the state moved on in between, the expected
            # revision is stale and the put conflicts, never the other way round.
            revision = await store.revision(sid)
            state = await store.get(sid)
            if state is None:
                raise RuntimeError(f"session {sid!r} vanished during the run")
            try:
                await store.put(
                    state.model_copy(update={"step": state.step + 1}),
                    expected_revision=revision,
                )
            except ConflictError:
                continue
            done += 1


async def cas_across_processes(
    target: str,
    options: Mapping[str, Any] | None = None,
    *,
    processes: int = 4,
    increments: int = 25,
    deadline: float = 180.0,
    imports: Sequence[str] = (),
) -> None:
    """Fail unless concurrent writer processes lose no compare-and-set update.

    `processes` processes each add 1 to a counter `increments` times through
    `open_checkpoint(target, **options)`; `options` must be JSON (they cross processes).
    `imports` are modules each worker imports first, e.g. one that registers the backend.
    """
    opts = dict(options or {})
    sid = f"cas-{uuid.uuid4().hex[:12]}"
    async with open_checkpoint(target, **opts) as store:
        await store.put(State(session_id=sid))
        start_revision: int = await store.revision(sid)
    # A common start time (after every interpreter has imported) maximises contention.
    start = time.time() + 1.5
    args = [target, json.dumps(opts), sid, str(increments), str(start), *imports]
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "spine_testing.crossprocess",
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(processes)
    ]
    try:
        async with asyncio.timeout(deadline):
            results = await asyncio.gather(*(p.communicate() for p in procs))
    finally:
        for p in procs:
            if p.returncode is None:
                p.kill()
    failed = [
        err.decode(errors="replace")[-2000:]
        for p, (_, err) in zip(procs, results, strict=True)
        if p.returncode
    ]
    if failed:
        raise CheckFailed(f"a writer process failed:\n{failed[0]}")
    async with open_checkpoint(target, **opts) as store:
        final = await store.get(sid)
        revision = await store.revision(sid)
        await store.delete(sid)
    expected = processes * increments
    if final is None:
        raise CheckFailed("the counter session is gone")
    expect(final.step == expected, f"lost updates: counter {final.step}, expected {expected}")
    expect_equal(revision, start_revision + expected, "revision after every increment")


def main(argv: list[str]) -> None:
    """Worker entry point (see the module docstring)."""
    target, options, sid, times, start, *imports = argv
    for module in imports:
        importlib.import_module(module)
    time.sleep(max(0.0, float(start) - time.time()))
    asyncio.run(_increment(target, json.loads(options), sid, int(times)))


if __name__ == "__main__":
    main(sys.argv[1:])
