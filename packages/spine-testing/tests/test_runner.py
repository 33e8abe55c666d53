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
    CheckResult,
    ConformanceReport,
    factory_for,
    get_check,
    list_checks,
    run_conformance,
    run_conformance_sync,
    shared_factory,
)
from spine_testing.examples import MyCheckpoint

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
            assert check.capability == "base" or check.capability in {
                *FUNCTIONAL[kind],
                "durable",
                "concurrent_writers",
                "persistent",
                "approximate",
            }
    # Every functional capability is exercised.
    for kind in kinds:
        covered = {c.capability for c in list_checks(kind)}
        assert FUNCTIONAL[kind] <= covered
    assert get_check("memory", "load_recent_chronological").capability == "base"
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
    assert report.counts()["passed"] == len(list_checks("checkpoint")) - 2  # durable, concurrent


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


async def test_seed_store_reaches_base() -> None:
    report = await run_conformance(MyCheckpoint)
    assert report.failures == (), report.render()
    assert report.level == "base"
    assert (
        report.level_of("checkpoint")[1] == "not advertised: list_sessions, prune, revisions, ttl"
    )
    base = [r for r in report.results if r.capability == "base"]
    assert base
    assert all(r.status == "passed" for r in base)
    skipped = [r for r in report.results if r.capability != "base"]
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
    base = sum(1 for c in list_checks("checkpoint") if c.capability == "base")
    assert f"checkpoint: level BASE — {base} passed, 0 failed" in text
    assert "cas_no_lost_update" in text
    assert "not advertised: revisions" in text
    data = json.loads(json.dumps(report.to_dict()))
    assert data["ok"] is True
    assert data["kinds"]["checkpoint"]["level"] == "base"
    row = data["results"][0]
    assert set(row) == {
        "name",
        "kind",
        "capability",
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


def test_levels() -> None:
    def result(name: str, capability: str, status: Any) -> CheckResult:
        return CheckResult(name, "memory", capability, status)

    functional = tuple(sorted(FUNCTIONAL["memory"]))
    base_ok = [result("a", "base", "passed"), result("b", "base", "skipped")]
    full = ConformanceReport(
        (*base_ok, result("c", "get", "passed")), advertised={"memory": functional}
    )
    assert full.level == "full"
    broken_cap = ConformanceReport(
        (*base_ok, result("c", "get", "failed")), advertised={"memory": functional}
    )
    assert broken_cap.level_of("memory") == (
        "base",
        "advertised capability check(s) not met: c (get)",
    )
    assert not broken_cap.ok
    missing = ConformanceReport((*base_ok,), advertised={"memory": ("get",)})
    assert missing.level == "base"
    xfail_base = ConformanceReport(
        (result("a", "base", "expected failure"),), advertised={"memory": functional}
    )
    assert xfail_base.level == "none"
    assert xfail_base.ok


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
    assert report.level == "none"  # an expected failure is still a failure to conform
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
    assert report.level == "base"


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
    assert isinstance(getattr(store, "wrapped", store), MyCheckpoint)  # open_* wraps it
    report = await run_conformance(factory)
    assert report.ok
    assert report.level == "base"


def test_factory_for_reads_the_constructor_behind_from_url() -> None:
    factory = factory_for("memory://", "checkpoint")
    assert sorted(inspect.signature(factory).parameters) == ["default_ttl", "namespace"]
    store = factory(namespace="spk_y", default_ttl=3.0, embedder="dropped")
    assert isinstance(store, InMemoryCheckpointStore)
    assert store.namespace == "spk_y"
    assert store.default_ttl == 3.0
