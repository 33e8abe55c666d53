"""`run_conformance`: every check against a store factory, as a report (what `spine check` runs)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping

from spine_core import Kind, capabilities_of
from spine_core._opening import is_spine_store, unwrap
from spine_core._redact import redact_text

from .context import StoreFactory, Target, close_quietly
from .execution import execute, infer_kind
from .expect import CheckSkipped, NotAdvertised, describe
from .registry import Check, list_checks
from .report import CheckResult, ConformanceReport, Status

__all__ = ["run_conformance", "run_conformance_sync"]


def _select(kind: Kind, names: Iterable[str] | None) -> tuple[Check, ...]:
    available = list_checks(kind)
    if names is None:
        return available
    wanted = list(dict.fromkeys(names))
    known = {c.name for c in available}
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise KeyError(f"no {kind} check named {', '.join(map(repr, unknown))}")
    return tuple(c for c in available if c.name in wanted)


def _describe_store(store: object) -> str:
    info = getattr(store, "info", None)
    name = type(store).__name__
    if callable(info):
        try:
            facts = info()
            where = f" {facts.target}" if getattr(facts, "target", None) else ""
            return redact_text(f"{name} ({facts.name} {facts.distribution} {facts.version}){where}")
        except Exception:  # noqa: S110 - a broken info() is the info check's finding
            pass
    return name


def _remarks(store: object, kind: Kind) -> tuple[str, ...]:
    opener = "open_checkpoint" if kind == "checkpoint" else "open_memory"
    if unwrap(store) is not store:
        return (
            f"tested inside {opener}'s validating wrapper (the store is not built on "
            "Spine's bases)",
        )
    if is_spine_store(store):
        return ()
    return (f"not built on Spine's bases: {opener} wraps it in Spine's input validation",)


async def _run_one(
    check: Check, target: Target, reason: str | None, check_timeout: float
) -> CheckResult:
    start = time.perf_counter()

    def result(status: Status, detail: str) -> CheckResult:
        return CheckResult(
            name=check.name,
            kind=check.kind,
            group=check.group,
            status=status,
            detail=redact_text(detail),
            duration=round(time.perf_counter() - start, 4),
            expected_failure=reason,
        )

    try:
        notes = await execute(check, target, check_timeout=check_timeout)
    except NotAdvertised as exc:
        return result("not advertised", str(exc))
    except CheckSkipped as exc:
        return result("skipped", str(exc))
    except Exception as exc:  # the store failed the check, by assertion or by raising
        if isinstance(exc, AssertionError):  # CheckFailed, or a plain assert in a check
            detail = str(exc) or "assertion failed"
        else:
            detail = describe(exc)
        if reason is not None:
            return result("expected failure", f"{reason} — {detail}")
        return result("failed", detail)
    if reason is not None:
        return result(
            "failed", f"passed, but expected_failures lists it ({reason}): remove it from the list"
        )
    return result("passed", "; ".join(notes))


async def run_conformance(
    factory: StoreFactory,
    *,
    kind: Kind | None = None,
    checks: Iterable[str] | None = None,
    expected_failures: Mapping[str, str] | None = None,
    check_timeout: float = 120.0,
    on_result: Callable[[CheckResult], None] | None = None,
) -> ConformanceReport:
    """Run the conformance checks against stores from `factory` and report.

    `factory(**options)` returns a new, unopened store; equal options mean the same data.
    Every check gets its own namespace when the factory accepts `namespace=`, fresh session
    ids always, and deletes only what it created. `kind` is inferred from a store when None;
    `checks` restricts the run to those names; `expected_failures` maps check names to the
    reason they are expected to fail (a listed check that passes is a failure);
    `check_timeout` bounds each check (seconds); `on_result` is called after each check
    (for progress output).
    """
    probe = factory()
    try:
        kind = kind if kind is not None else infer_kind(probe)
        caps = capabilities_of(probe, kind)
        store_text = _describe_store(probe)
        remarks = _remarks(probe, kind)
    finally:
        await close_quietly(probe)
    selected = _select(kind, checks)
    expected = dict(expected_failures or {})
    unknown = sorted(set(expected) - {c.name for c in list_checks(kind)})
    if unknown:
        raise KeyError(f"expected_failures names unknown {kind} checks: {', '.join(unknown)}")
    target = Target(factory, kind, namespace_per_check=True)
    results: list[CheckResult] = []
    for check in selected:
        outcome = await _run_one(check, target, expected.get(check.name), check_timeout)
        results.append(outcome)
        if on_result is not None:
            on_result(outcome)
    advertised = tuple(
        name
        for name in (*type(caps).optional_names(), "durable", "concurrent_writers")
        if getattr(caps, name)
    )
    return ConformanceReport(
        results=tuple(results),
        stores={kind: store_text},
        advertised={kind: advertised},
        partial=checks is not None,
        remarks={kind: remarks},
    )


def run_conformance_sync(
    factory: StoreFactory,
    *,
    kind: Kind | None = None,
    checks: Iterable[str] | None = None,
    expected_failures: Mapping[str, str] | None = None,
    check_timeout: float = 120.0,
    on_result: Callable[[CheckResult], None] | None = None,
) -> ConformanceReport:
    """`run_conformance` from synchronous code (runs its own event loop)."""
    return asyncio.run(
        run_conformance(
            factory,
            kind=kind,
            checks=checks,
            expected_failures=expected_failures,
            check_timeout=check_timeout,
            on_result=on_result,
        )
    )
