"""Checkpoint workload: put / get / CAS-put of a 50-message state, beside two floors.

The strict floor is the adapter's `spine.bench` entry point: pre-serialized bytes through
the plain driver and the store's own statements. The user floor is what a user would write
by hand (DESIGN §6): the same data as a plain dict through stdlib `json` and the same
driver calls (`json.dumps` + put, get + `json.loads`); issue 12's 1.10x target is put + get
against it. Store, strict and user operations take turns one by one (in rotating order), so
drift (caches, other load) hits all three alike.
"""

from __future__ import annotations

import json
import secrets
import time
from importlib import metadata as importlib_metadata
from typing import Any, Protocol, cast

from spine_core import (
    CheckpointCapabilities,
    ConfigError,
    Message,
    Role,
    State,
    Usage,
    capabilities_of,
    dump_state,
    open_checkpoint,
)
from spine_core._opening import backend_name
from spine_core._redact import redact_text
from spine_core._urls import is_url

from .stats import summarize

__all__ = ["BENCH_GROUP", "RawFloor", "bench_state", "load_raw", "run_checkpoint"]

BENCH_GROUP = "spine.bench"
_WARMUP = 5


class RawFloor(Protocol):
    """The interface of an adapter's `raw.py` benchmark floor."""

    async def open(self) -> None: ...  # noqa: D102
    async def close(self) -> None: ...  # noqa: D102
    async def put(self, key: str, payload: str) -> None: ...  # noqa: D102
    async def get(self, key: str) -> str | None: ...  # noqa: D102
    async def cas_put(self, key: str, payload: str, expected: int) -> bool: ...  # noqa: D102
    async def cleanup(self) -> None: ...  # noqa: D102


def bench_state(session_id: str, messages: int = 50) -> State:
    """A realistic run state: `messages` messages of mixed roles, usage, scratch."""
    roles = (Role.USER, Role.ASSISTANT, Role.TOOL, Role.ASSISTANT)
    body = (
        "The quarterly report shows revenue up 12% with churn flat; the agent should "
        "summarise the drivers, cite the tables it used and flag anything unusual. "
    )
    return State(
        session_id=session_id,
        tenant_id="bench",
        messages=[
            Message(
                role=Role.SYSTEM if i == 0 else roles[i % 4],
                content=f"[{i}] {body}",
                tool_call_id=f"call_{i}" if i % 4 == 2 else None,
            )
            for i in range(messages)
        ],
        step=messages // 2,
        usage=Usage(input_tokens=12_345, output_tokens=2_345, cost_usd=0.0123),
        scratch={"plan": ["read", "summarise", "cite"], "cursor": messages},
    )


def load_raw(target: str, kind_backend: str) -> tuple[RawFloor | None, str | None, str]:
    """The raw floor for a target: (instance or None, entry point spec, note)."""
    if not is_url(target):
        return None, None, "no raw floor for a backend name: pass a URL to compare"
    eps = importlib_metadata.entry_points(group=BENCH_GROUP, name=kind_backend)
    ep = next(iter(eps), None)
    if ep is None:
        return None, None, f"no {BENCH_GROUP!r} entry point for backend {kind_backend!r}"
    try:
        cls = ep.load()
        return cls(target), ep.value, ""
    except Exception as exc:  # a broken floor must not stop the store's own numbers
        return None, ep.value, redact_text(f"raw floor failed to load: {exc}")


def open_isolated(target: str, namespace: str, **options: Any) -> Any:
    """Open a checkpoint store in a private namespace when the backend takes one."""
    try:
        return open_checkpoint(target, namespace=namespace, **options)
    except ConfigError as exc:
        if "bad options" not in str(exc):
            raise
        return open_checkpoint(target, **options)  # no namespaces: unique session ids suffice


async def _store_op(store: Any, op: str, state: State) -> float:
    start = time.perf_counter()
    if op == "put":
        await store.put(state)
    elif op == "get":
        got = await store.get(state.session_id)
    else:
        await store.put(state, expected_revision=1)
    elapsed = time.perf_counter() - start
    if op == "get" and got is None:
        raise RuntimeError(f"the store lost session {state.session_id!r} during the bench")
    return elapsed


async def _raw_op(raw: RawFloor, op: str, key: str, payload: str) -> tuple[float, bool]:
    start = time.perf_counter()
    if op == "put":
        await raw.put(key, payload)
        ok = True
    elif op == "get":
        ok = await raw.get(key) is not None
    else:
        ok = await raw.cas_put(key, payload, 1)
    return time.perf_counter() - start, ok


async def _raw_side(raw: RawFloor, op: str, key: str, payload: str) -> tuple[float, bool]:
    if op == "cas_put":
        # A floor may keep CAS revisions apart from plain puts (Redis keeps them in a hash),
        # so give it its own key, created untimed at revision 1: the timed op is then an
        # update from 1 to 2, as in the store.
        key += "-cas"
        await raw.cas_put(key, payload, 0)
    return await _raw_op(raw, op, key, payload)


async def _user_op(raw: RawFloor, op: str, key: str, data: dict[str, Any]) -> float:
    """One operation of the user floor: stdlib json around the raw driver calls."""
    start = time.perf_counter()
    if op == "put":
        await raw.put(key, json.dumps(data))
    elif op == "get":
        text = await raw.get(key)
        if text is not None:
            json.loads(text)
    else:
        await raw.cas_put(key, json.dumps(data), 1)
    return time.perf_counter() - start


def _put_get(ops: dict[str, Any]) -> dict[str, Any] | None:
    """The sum of put and get p50 for the store and each floor, and the store's ratios."""
    put, get = ops.get("put") or {}, ops.get("get") or {}
    if not (put.get("store") and get.get("store")):
        return None
    out: dict[str, Any] = {"store_ms": put["store"]["p50_ms"] + get["store"]["p50_ms"]}
    for side in ("user", "raw"):
        if put.get(side) and get.get(side):
            floor = put[side]["p50_ms"] + get[side]["p50_ms"]
            out[f"{side}_ms"] = floor
            out[f"ratio_{side}"] = out["store_ms"] / floor if floor > 0 else None
        else:
            out[f"{side}_ms"] = out[f"ratio_{side}"] = None
    return out


async def run_checkpoint(target: str, *, repeat: int, messages: int) -> dict[str, Any]:
    """Measure one target; returns the JSON-ready result."""
    token = secrets.token_hex(4)
    name = backend_name(target, "checkpoint")
    store = open_isolated(target, f"spine_bench_{token}")
    raw, raw_spec, raw_note = load_raw(target, name)
    caps = cast(CheckpointCapabilities, capabilities_of(store, "checkpoint"))
    sessions = [f"bench-{token}-s{i}" for i in range(repeat + _WARMUP)]
    keys = [f"bench-{token}-r{i}" for i in range(repeat + _WARMUP)]
    states = [bench_state(s, messages) for s in sessions]
    payloads = [dump_state(bench_state(k, messages)) for k in keys]
    user_keys = [f"bench-{token}-u{i}" for i in range(repeat + _WARMUP)]
    user_data = [bench_state(k, messages).model_dump(mode="json") for k in user_keys]
    timings: dict[str, dict[str, list[float]]] = {
        op: {"store": [], "raw": [], "user": []} for op in ("put", "get", "cas_put")
    }
    result: dict[str, Any] = {
        "backend": name,
        "messages": messages,
        "state_bytes": len(dump_state(states[0]).encode("utf-8")),
        "repeat": repeat,
        "raw": raw_spec,
        "raw_note": raw_note or None,
        "capabilities": sorted(caps.advertised()),
    }
    info = getattr(store, "info", None)
    if callable(info):
        described = info()
        result["distribution"] = described.distribution
        result["version"] = described.version
    cas = caps.revisions
    raw_open = False
    try:
        if raw is not None:
            await raw.open()
            raw_open = True
        for op in ("put", "get", "cas_put"):
            if op == "cas_put" and not cas:
                continue
            for i in range(repeat + _WARMUP):
                order = ("store", "raw", "user") if raw is not None else ("store",)
                turn = i % len(order)
                for side in order[turn:] + order[:turn]:
                    if side == "store":
                        elapsed = await _store_op(store, op, states[i])
                    elif side == "raw":
                        assert raw is not None
                        elapsed, swapped = await _raw_side(raw, op, keys[i], payloads[i])
                        if not swapped:
                            raw_note = f"raw {op} did not behave like the store (conflict or miss)"
                    else:
                        assert raw is not None
                        key = user_keys[i]
                        if op == "cas_put":
                            key += "-cas"
                            await raw.cas_put(key, json.dumps(user_data[i]), 0)
                        elapsed = await _user_op(raw, op, key, user_data[i])
                    if i >= _WARMUP:
                        timings[op][side].append(elapsed)
    finally:
        try:
            for session in sessions:
                await store.delete(session)
            if raw is not None and raw_open:
                await raw.cleanup()
        finally:
            if raw is not None and raw_open:
                await raw.close()
            aclose = getattr(store, "aclose", None)
            if callable(aclose):
                await aclose()
    ops: dict[str, Any] = {}
    for op, sides in timings.items():
        if not sides["store"]:
            ops[op] = {"store": None, "raw": None, "ratio_p50": None, "note": "not advertised"}
            continue
        store_stats = summarize(sides["store"])
        entry: dict[str, Any] = {"store": store_stats}
        for side, key in (("raw", "ratio_p50"), ("user", "ratio_user_p50")):
            stats = summarize(sides[side]) if sides[side] else None
            entry[side] = stats
            entry[key] = (
                store_stats["p50_ms"] / stats["p50_ms"] if stats and stats["p50_ms"] > 0 else None
            )
        ops[op] = entry
    result["ops"] = ops
    result["put_get"] = _put_get(ops)
    result["raw_note"] = raw_note or None
    return result
