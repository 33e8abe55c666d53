"""The runner face: reference stores reach "full", the seed store "base", reports are honest."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from spine_core import (
    BackendUnavailable,
    InMemoryCheckpointStore,
    InMemoryVectorMemory,
    Kind,
    State,
    register_checkpoint,
)
from spine_core.registry import unregister
from spine_testing import (
    FUNCTIONAL,
    GROUPS,
    LEVELS,
    CheckResult,
    ConformanceReport,
    factory_for,
    get_check,
    list_checks,
    run_conformance,
    run_conformance_sync,
    shared_factory,
)
from spine_testing.examples import MyCheckpoint, MyValidatedCheckpoint

GUIDE_GAPS = {
    "invalid_session_id_rejected",
    "bad_state_rejected",
    "unreadable_state_refused",
    "tenant_ids_checked",
}
"""What the guide's three-method store does not do: refuse bad input itself."""

# -- the registry --------------------------------------------------------------------------


def test_registry_has_the_promised_checks() -> None:
    checkpoint, memory = list_checks("checkpoint"), list_checks("memory")
    assert len(checkpoint) + len(memory) >= 40
    assert list_checks() == checkpoint + memory
    kinds: tuple[Kind, Kind] = ("checkpoint", "memory")
    for kind, checks in zip(kinds, (checkpoint, memory), strict=True):
        names = [c.name for c in checks]
        assert len(names) == len(set(names))
        for check in checks:
            assert check.kind == kind
            assert check.doc
            assert not check.doc.endswith(" ")
            assert check.group in GROUPS or check.group in {
                *FUNCTIONAL[kind],
                "durable",
                "concurrent_writers",
                "persistent",
                "approximate",
            }
    # Every functional capability is exercised.
    for kind in kinds:
        covered = {c.capability for c in list_checks(kind)}
        assert {c.group for c in list_checks(kind)} >= set(GROUPS)
        assert FUNCTIONAL[kind] <= covered
    assert get_check("memory", "load_recent_chronological").group == "base"
    assert get_check("memory", "load_recent_chronological").capability is None
    assert get_check("checkpoint", "invalid_session_id_rejected").group == "validation"
    assert get_check("checkpoint", "cas_no_lost_update").capability == "revisions"
    with pytest.raises(KeyError, match="known:"):
        get_check("checkpoint", "no_such_check")


# -- reference stores and the seed store -----------------------------------------------------


@pytest.mark.parametrize(
    "factory",
    [
        shared_factory(InMemoryCheckpointStore),
        InMemoryCheckpointStore,
        factory_for("memory", "checkpoint"),
    ],
    ids=["shared-instances", "new-instance-per-call", "factory_for"],
)
async def test_reference_checkpoint_store_is_full(factory: Callable[..., Any]) -> None:
    report = await run_conformance(factory)
    assert report.failures == (), report.render()
    assert report.levels == {"checkpoint": "full"}
    assert report.ok
    # Not advertised by an in-process store: durable, concurrent_writers (two checks).
    assert report.counts()["passed"] == len(list_checks("checkpoint")) - 3
    [cas] = [r for r in report.results if r.name == "cas_across_processes"]
    assert cas.status == "not advertised", cas


@pytest.mark.parametrize(
    "factory",
    [
        shared_factory(InMemoryVectorMemory),
        InMemoryVectorMemory,
        factory_for("vector://", "memory"),
    ],
    ids=["shared-instances", "new-instance-per-call", "factory_for-url"],
)
async def test_reference_memory_is_full(factory: Callable[..., Any]) -> None:
    report = await run_conformance(factory)
    assert report.failures == (), report.render()
    assert report.level == "full"
    not_run = {r.capability for r in report.results if r.status == "not advertised"}
    assert not_run == {"persistent", "approximate"}


async def test_guide_store_reaches_base() -> None:
    report = await run_conformance(MyCheckpoint)
    assert report.level == "base", report.render()
    assert {r.name for r in report.failures} == GUIDE_GAPS
    assert all(r.group == "validation" for r in report.failures)
    assert report.level_of("checkpoint")[1] == (
        "validation not met: invalid_session_id_rejected, bad_state_rejected, "
        "unreadable_state_refused, tenant_ids_checked"
    )
    groups = report.groups("checkpoint")
    assert groups["base"] == "passed"
    assert groups["validation"] == "failed"
    assert groups["fidelity"] == groups["concurrency"] == groups["honesty"] == "passed"
    assert groups["revisions"] == "not advertised"
    assert report.meets("base")
    assert not report.meets("validated")
    assert report.remarks["checkpoint"][0].startswith("not built on Spine's bases")


async def test_validated_seed_store_reaches_standard() -> None:
    report = await run_conformance(MyValidatedCheckpoint)
    assert report.failures == (), report.render()
    assert report.level == "standard"
    assert (
        report.level_of("checkpoint")[1]
        == "not advertised: export, list_sessions, prune, revisions, ttl"
    )
    ungated = [r for r in report.results if r.capability is None]
    assert ungated
    assert all(r.status == "passed" for r in ungated)
    skipped = [r for r in report.results if r.capability is not None]
    assert all(r.status == "not advertised" for r in skipped)
    assert all(r.detail == f"not advertised: {r.capability}" for r in skipped)


def test_sync_wrapper_and_kind_inference() -> None:
    report = run_conformance_sync(MyCheckpoint, checks=["missing_is_none", "roundtrip_exact"])
    assert report.kinds == ("checkpoint",)
    assert [r.name for r in report.results] == ["missing_is_none", "roundtrip_exact"]
    assert report.partial
    assert "partial run" in report.render()
    report = run_conformance_sync(InMemoryVectorMemory, checks=["save_returns_record"])
    assert report.kinds == ("memory",)


# -- the report ----------------------------------------------------------------------------


async def test_report_render_and_json() -> None:
    report = await run_conformance(MyCheckpoint)
    text = report.render()
    assert "Spine conformance: checkpoint — MyCheckpoint" in text
    assert "checkpoint: level BASE — 20 passed, 4 failed" in text
    assert (
        "  validation not met: invalid_session_id_rejected, bad_state_rejected, "
        "unreadable_state_refused, tenant_ids_checked" in text
    )
    assert "  groups: base passed, validation failed, fidelity passed, " in text
    assert "cas_no_lost_update" in text
    assert "not advertised: revisions" in text
    data = json.loads(json.dumps(report.to_dict()))
    assert data["ok"] is False
    assert data["levels"] == list(LEVELS)
    facts = data["kinds"]["checkpoint"]
    assert facts["level"] == "base"
    assert facts["groups"]["validation"] == "failed"
    assert facts["groups"]["ttl"] == "not advertised"
    assert facts["remarks"]
    row = data["results"][0]
    assert set(row) == {
        "name",
        "kind",
        "group",
        "status",
        "detail",
        "duration",
        "expected_failure",
    }
    memory = await run_conformance(InMemoryVectorMemory, checks=["save_returns_record"])
    both = ConformanceReport.combine([report, memory])
    assert both.kinds == ("checkpoint", "memory")
    assert set(both.levels) == {"checkpoint", "memory"}
    assert both.level == "base"
    assert both.remarks == {"checkpoint": report.remarks["checkpoint"], "memory": ()}


def test_levels() -> None:
    def result(name: str, group: str, status: Any, reason: str | None = None) -> CheckResult:
        return CheckResult(name, "memory", group, status, expected_failure=reason)

    functional = tuple(sorted(FUNCTIONAL["memory"]))

    def level(*results: CheckResult, advertised: tuple[str, ...] = functional) -> str:
        return ConformanceReport(results, advertised={"memory": advertised}).level

    ungated = [result(g, g, "passed") for g in GROUPS]
    assert level(*ungated, result("c", "get", "passed")) == "full"
    assert level(*ungated, advertised=("get",)) == "standard"
    broken_cap = ConformanceReport(
        (*ungated, result("c", "get", "failed")), advertised={"memory": functional}
    )
    assert broken_cap.level_of("memory") == (
        "standard",
        "advertised capability check(s) not met: c (get)",
    )
    assert not broken_cap.ok
    # Each group lowers the level to the one below the level that needs it.
    expected = {
        "base": "none",
        "validation": "base",
        "fidelity": "validated",
        "concurrency": "validated",
        "honesty": "validated",
    }
    for group, below in expected.items():
        rows = [r if r.group != group else result(group, group, "failed") for r in ungated]
        assert level(*rows) == below, group
    # Skipped and not-run groups lower nothing; an expected failure is still not met.
    assert level(result("a", "base", "passed"), result("b", "validation", "skipped")) == "full"
    xfail = result("a", "validation", "expected failure", "no checks")
    report = ConformanceReport((result("b", "base", "passed"), xfail))
    assert report.level == "base"
    assert report.ok
    assert report.groups("memory") == {"base": "passed", "validation": "failed"}
    # An expected failure that passed is met (and fails the run).
    unexpected = result("a", "validation", "failed", "listed")
    assert level(result("b", "base", "passed"), unexpected) == "full"
    assert ConformanceReport(()).level == "none"
    assert not ConformanceReport(()).meets("base")


# -- expected failures, selection, timeouts, secrets --------------------------------------------


class _NoCopy(InMemoryCheckpointStore):
    """Hands out the stored object itself."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._objects: dict[str, State] = {}

    async def put(self, state: State, **kw: Any) -> None:
        await super().put(state, **kw)
        self._objects[state.session_id] = state

    async def get(self, session_id: str) -> State | None:
        got = await super().get(session_id)
        return None if got is None else self._objects.get(session_id, got)


async def test_expected_failures_in_the_runner() -> None:
    checks = ["put_snapshots_state", "missing_is_none"]
    report = await run_conformance(
        _NoCopy, checks=checks, expected_failures={"put_snapshots_state": "keeps the object"}
    )
    by_name = {r.name: r for r in report.results}
    assert by_name["put_snapshots_state"].status == "expected failure"
    assert by_name["put_snapshots_state"].detail.startswith("keeps the object — ")
    assert report.ok
    assert report.level == "validated"  # an expected failure is still a failure to conform
    report = await run_conformance(
        _NoCopy, checks=checks, expected_failures={"missing_is_none": "wrongly listed"}
    )
    listed = {r.name: r for r in report.results}["missing_is_none"]
    assert listed.status == "failed"
    assert "remove it from the list" in listed.detail
    assert not report.ok
    with pytest.raises(KeyError, match="unknown checkpoint checks: nope"):
        await run_conformance(_NoCopy, expected_failures={"nope": "x"})
    with pytest.raises(KeyError, match="no checkpoint check named 'nope'"):
        await run_conformance(_NoCopy, checks=["nope"])


class _Hangs(InMemoryCheckpointStore):
    async def get(self, session_id: str) -> State | None:
        await asyncio.sleep(60)
        return None


class _LeaksSecret(InMemoryCheckpointStore):
    async def get(self, session_id: str) -> State | None:
        raise BackendUnavailable("cannot reach redis://kit:hunter2@db.example:6379/0")


async def test_timeouts_and_secrets_in_details() -> None:
    report = await run_conformance(_Hangs, checks=["missing_is_none"], check_timeout=0.2)
    assert report.results[0].status == "failed"
    assert report.results[0].detail == "timed out after 0.2s"
    report = await run_conformance(_LeaksSecret, checks=["missing_is_none"])
    detail = report.results[0].detail
    assert detail.startswith("BackendUnavailable: cannot reach redis://kit:")
    assert "hunter2" not in detail
    assert "hunter2" not in report.render()


async def test_progress_callback() -> None:
    seen: list[str] = []
    await run_conformance(
        MyCheckpoint, checks=["missing_is_none"], on_result=lambda r: seen.append(r.name)
    )
    assert seen == ["missing_is_none"]


# -- isolation -----------------------------------------------------------------------------


async def test_no_namespace_and_shared_data_skips_destructive_checks() -> None:
    one = InMemoryCheckpointStore()  # every call returns the same store: no isolation possible
    report = await run_conformance(lambda: one, checks=["prune_removes_only_old", "default_ttl"])
    by_name = {r.name: r for r in report.results}
    assert by_name["prune_removes_only_old"].status == "skipped"
    assert "cannot isolate" in by_name["prune_removes_only_old"].detail
    assert by_name["default_ttl"].status == "failed"
    assert "must accept default_ttl=" in by_name["default_ttl"].detail
    assert report.level == "standard"


async def test_runner_cleans_up_what_it_created() -> None:
    one = InMemoryCheckpointStore()
    await one.put(State(session_id="user-data"))
    report = await run_conformance(lambda: one)
    # A factory without options cannot set default_ttl; every other check passes or skips.
    assert {r.name for r in report.failures} == {"default_ttl"}
    assert [s.session_id for s in (await one.list_sessions()).sessions] == ["user-data"]


async def test_each_check_gets_its_own_namespace() -> None:
    seen: list[str] = []

    def factory(**options: Any) -> InMemoryVectorMemory:
        seen.append(options.get("namespace", "-"))
        return InMemoryVectorMemory(**options)

    await run_conformance(factory, checks=["save_returns_record", "load_recent_chronological"])
    per_check = {ns for ns in seen if ns.startswith("spk_")}
    assert len(per_check) >= 2


# -- factory_for ---------------------------------------------------------------------------


@pytest.fixture
def registered_seed() -> Iterator[str]:
    register_checkpoint("kit-seed", MyCheckpoint)
    yield "kit-seed"
    unregister("checkpoint", "kit-seed")


async def test_factory_for_drops_options_the_backend_lacks(registered_seed: str) -> None:
    factory = factory_for(registered_seed, "checkpoint")
    assert list(inspect.signature(factory).parameters) == []
    store = factory(namespace="spk_x", default_ttl=5)
    assert type(store) is MyCheckpoint  # open_* wraps it; the kit measures the store itself
    report = await run_conformance(factory)
    assert {r.name for r in report.failures} == GUIDE_GAPS
    assert report.level == "base"


def test_factory_for_reads_the_constructor_behind_from_url() -> None:
    factory = factory_for("memory://", "checkpoint")
    assert sorted(inspect.signature(factory).parameters) == ["default_ttl", "namespace"]
    store = factory(namespace="spk_y", default_ttl=3.0, embedder="dropped")
    assert isinstance(store, InMemoryCheckpointStore)
    assert store.namespace == "spk_y"
    assert store.default_ttl == 3.0
