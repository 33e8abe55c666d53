"""The kit proves it can fail (DESIGN.md §4): deliberately broken stores, each caught.

Every broken store is a small subclass of a reference store with one defect. The kit runs
against each (all checks but the slow ones irrelevant to the defect) and the checks that must
catch the defect are asserted to have failed, and the store to stop at the level below the
one whose group the defect breaks (a base defect: none; validation: base; fidelity,
concurrency or honesty: validated; an advertised capability: standard).
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from spine_core import (
    CheckpointCapabilities,
    ConflictError,
    InMemoryCheckpointStore,
    InMemoryVectorMemory,
    Kind,
    MemoryCapabilities,
    MemoryHit,
    MemoryItem,
    MemoryRecord,
    PreparedRecord,
    SessionPage,
    State,
)
from spine_core._validation import validate_filter, validate_k, validate_session_id
from spine_testing import ConformanceReport, Level, list_checks, run_conformance, shared_factory

# -- broken checkpoint stores ------------------------------------------------------------------


class ReturnsStoredObject(InMemoryCheckpointStore):
    """Keeps the State object itself and hands it out: callers mutate the store."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._objects: dict[str, State] = {}

    async def put(self, state: State, **kw: Any) -> None:
        await super().put(state, **kw)
        self._objects[state.session_id] = state

    async def get(self, session_id: str) -> State | None:
        got = await super().get(session_id)
        return None if got is None else self._objects.get(session_id, got)

    async def delete(self, session_id: str) -> None:
        await super().delete(session_id)
        self._objects.pop(session_id, None)


class NonAtomicCompareAndSet(InMemoryCheckpointStore):
    """Reads the revision, awaits, then writes: a concurrent writer's update is lost."""

    async def put(
        self, state: State, *, expected_revision: int | None = None, ttl: float | None = None
    ) -> None:
        if expected_revision is not None:
            current = await self.revision(state.session_id)
            if current != expected_revision:
                raise ConflictError(state.session_id, expected_revision, current)
            await asyncio.sleep(0.001)  # the gap another writer slips into
        await super().put(state, ttl=ttl)


class DeleteIsNoop(InMemoryCheckpointStore):
    """delete does nothing."""

    async def delete(self, session_id: str) -> None:
        validate_session_id(session_id)


class MergesOnOverwrite(InMemoryCheckpointStore):
    """A put merges scratch into the previous state instead of replacing it."""

    async def put(self, state: State, **kw: Any) -> None:
        previous = await self.get(state.session_id)
        if previous is not None:
            state = state.model_copy(update={"scratch": {**previous.scratch, **state.scratch}})
        await super().put(state, **kw)


class DropsUnknownFields(InMemoryCheckpointStore):
    """Stores only the fields it knows, losing a newer writer's additions."""

    async def put(self, state: State, **kw: Any) -> None:
        known = state.model_dump(include=set(State.model_fields))
        await super().put(State.model_validate(known), **kw)


class AcceptsInvalidIds(InMemoryCheckpointStore):
    """get and delete do not validate the session id."""

    async def get(self, session_id: str) -> State | None:
        if not session_id or not isinstance(session_id, str):
            return None
        return await super().get(session_id)

    async def delete(self, session_id: str) -> None:
        if isinstance(session_id, str) and session_id:
            self._data.pop(session_id, None)


class IgnoresTTL(InMemoryCheckpointStore):
    """Advertises ttl, accepts it, and never expires anything."""

    async def put(self, state: State, *, expected_revision: int | None = None, **_: Any) -> None:
        self.default_ttl = None
        await super().put(state, expected_revision=expected_revision)


class SilentlyIgnoresRevisions(InMemoryCheckpointStore):
    """Does not advertise revisions, yet accepts expected_revision and ignores it."""

    capabilities = CheckpointCapabilities(ttl=True, list_sessions=True, prune=True)

    async def put(
        self, state: State, *, expected_revision: int | None = None, ttl: float | None = None
    ) -> None:
        await super().put(state, ttl=ttl)

    async def revision(self, session_id: str) -> int:
        return 0


class RevisionSurvivesDelete(InMemoryCheckpointStore):
    """delete forgets the state but not its revision counter."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._dead: dict[str, int] = {}

    async def delete(self, session_id: str) -> None:
        before = await super().revision(session_id)
        await super().delete(session_id)
        self._dead[session_id] = self._dead.get(session_id, 0) + before

    async def revision(self, session_id: str) -> int:
        return await super().revision(session_id) + self._dead.get(session_id, 0)


class WritesOnConflict(InMemoryCheckpointStore):
    """Raises ConflictError only after writing the state."""

    async def put(
        self, state: State, *, expected_revision: int | None = None, ttl: float | None = None
    ) -> None:
        current = await self.revision(state.session_id)
        await super().put(state, ttl=ttl)
        if expected_revision is not None and expected_revision != current:
            raise ConflictError(state.session_id, expected_revision, current)


class RepeatsCursorSession(InMemoryCheckpointStore):
    """Pagination includes the cursor session again (>= instead of >)."""

    async def list_sessions(
        self, *, tenant_id: str | None = None, limit: int = 100, cursor: str | None = None
    ) -> SessionPage:
        return await super().list_sessions(
            tenant_id=tenant_id, limit=limit, cursor=cursor[:-1] if cursor else None
        )


class LocaleOrder(InMemoryCheckpointStore):
    """Orders sessions case-insensitively, like a database locale collation."""

    async def list_sessions(
        self, *, tenant_id: str | None = None, limit: int = 100, cursor: str | None = None
    ) -> SessionPage:
        page = await super().list_sessions(tenant_id=tenant_id, limit=100_000, cursor=None)
        ordered = sorted(page.sessions, key=lambda s: s.session_id.casefold())
        keys = [s.session_id.casefold() for s in ordered]
        start = 0 if cursor is None else sum(1 for k in keys if k <= cursor.casefold())
        chunk = ordered[start : start + limit]
        more = start + limit < len(ordered)
        return SessionPage(sessions=chunk, next_cursor=chunk[-1].session_id if more else None)


class PruneDeletesEverything(InMemoryCheckpointStore):
    """prune ignores `before`."""

    async def prune(self, *, before: datetime) -> int:
        count = len(self._data)
        self._data.clear()
        return count


class PruneIsNoop(InMemoryCheckpointStore):
    """Advertises prune and silently deletes nothing."""

    async def prune(self, *, before: datetime) -> int:
        return 0


class RestoreForgetsUpdatedAt(InMemoryCheckpointStore):
    """restore_session stamps the session with now instead of its exported updated_at."""

    async def _write(
        self, session_id: str, tenant_id: str | None, raw: str, ttl: float | None, **_: Any
    ) -> None:
        await super()._write(session_id, tenant_id, raw, ttl)

    async def _write_if(
        self,
        session_id: str,
        tenant_id: str | None,
        raw: str,
        ttl: float | None,
        expected: int,
        **_: Any,
    ) -> int | None:
        return await super()._write_if(session_id, tenant_id, raw, ttl, expected)


class MutableCapabilities(InMemoryCheckpointStore):
    """Capabilities as a plain dict (read as base-only, silently)."""

    capabilities = {"revisions": True}  # type: ignore[assignment]  # noqa: RUF012


# -- broken memory stores ----------------------------------------------------------------------


def _plain(item: MemoryItem | str) -> MemoryItem:
    return item if isinstance(item, MemoryItem) else MemoryItem(content=item)


class DropsMetadata(InMemoryVectorMemory):
    """Stores every record without its metadata."""

    async def _insert(self, records: list[PreparedRecord]) -> None:
        for record in records:
            record.metadata, record.metadata_json = {}, "{}"
        await super()._insert(records)


class NewestFirstLoad(InMemoryVectorMemory):
    """load returns the most recent records newest first."""

    async def load(self, session_id: str, *, limit: int = 20) -> list[MemoryRecord]:
        return list(reversed(await super().load(session_id, limit=limit)))


class IgnoresSessionScope(InMemoryVectorMemory):
    """search ignores session_id."""

    async def search(self, query: str, *, k: int = 5, **kw: Any) -> list[MemoryHit]:
        kw.pop("session_id", None)
        return await super().search(query, k=k, **kw)


class DistanceScores(InMemoryVectorMemory):
    """Returns cosine distance (1 - similarity) as the score."""

    async def search(self, query: str, **kw: Any) -> list[MemoryHit]:
        hits = await super().search(query, **kw)
        return [MemoryHit(record=h.record, score=1.0 - h.score) for h in hits]


class IgnoresK(InMemoryVectorMemory):
    """Returns every match whatever k says."""

    async def search(self, query: str, *, k: int = 5, **kw: Any) -> list[MemoryHit]:
        await super().search(query, k=k, **kw)  # validates k
        return await super().search(query, k=10_000, **kw)


class SaveManyNotAtomic(InMemoryVectorMemory):
    """Saves a batch item by item: a bad item leaves the earlier ones written."""

    async def save_many(self, items: Sequence[MemoryItem | str]) -> list[MemoryRecord]:
        out: list[MemoryRecord] = []
        for item in items:
            out += await super().save_many([item])
        return out


class DiscardIsNoop(InMemoryVectorMemory):
    """Writes save_many in chunks over two lanes, but a failed one deletes nothing."""

    _insert_chunk = 4
    _insert_lanes = 2

    async def _insert(self, records: list[PreparedRecord], *, replace: bool = False) -> None:
        await asyncio.sleep(0)  # let the lanes interleave
        await super()._insert(records, replace=replace)

    async def _discard(self, ids: list[str]) -> None:
        pass


class ReturnsStoredRecord(InMemoryVectorMemory):
    """Hands out the stored record itself: mutating its metadata mutates the store."""

    def _copy(self, row: Any) -> MemoryRecord:
        record: MemoryRecord = row.record
        return record


class BoolEqualsOneFilter(InMemoryVectorMemory):
    """Filters with Python equality, so True matches 1."""

    async def search(
        self,
        query: str,
        *,
        k: int = 5,
        session_id: str | None = None,
        filter: dict[str, Any] | None = None,
    ) -> list[MemoryHit]:
        validate_k(k)
        validate_filter(filter)
        hits = await super().search(query, k=10_000, session_id=session_id)
        flt = filter or {}
        kept = [h for h in hits if all(h.record.metadata.get(a) == b for a, b in flt.items())]
        return heapq.nlargest(k, kept, key=lambda h: h.score)


class ForgetIsNoop(InMemoryVectorMemory):
    """Advertises forget, says True, deletes nothing."""

    async def forget(self, record_id: str) -> bool:
        return True


class SilentlyIgnoresFilter(InMemoryVectorMemory):
    """Does not advertise filter, yet accepts filter= and ignores it."""

    capabilities = MemoryCapabilities(get=True, forget=True, prune=True, save_many=True)

    async def search(self, query: str, *, filter: Any = None, **kw: Any) -> list[MemoryHit]:
        return await super().search(query, **kw)


_ONE_FOR_ALL: dict[str, Any] = {}


class SharesAcrossNamespaces(InMemoryVectorMemory):
    """Every namespace writes to the same rows."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._rows = _ONE_FOR_ALL


class ClaimsPersistence(InMemoryVectorMemory):
    """Advertises persistent, but every store object starts empty."""

    capabilities = MemoryCapabilities(
        get=True, forget=True, prune=True, save_many=True, filter=True, persistent=True
    )


class ExportRepeatsCursorRecord(InMemoryVectorMemory):
    """export_records starts each page at its cursor record again (>= instead of >)."""

    async def _export(
        self, after: str | None, n: int
    ) -> Sequence[tuple[MemoryRecord, list[float] | None]]:
        return await super()._export(None if after is None else after[:-1], n)


class AcceptsBadK(InMemoryVectorMemory):
    """k <= 0 returns nothing instead of raising."""

    async def search(self, query: str, *, k: int = 5, **kw: Any) -> list[MemoryHit]:
        if isinstance(k, int) and k <= 0:
            return []
        return await super().search(query, k=k, **kw)


# -- the catalogue -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Broken:
    store: type
    caught_by: frozenset[str]
    level: Level
    fresh: bool = False
    """Use a factory that builds a new store object per call (no shared data)."""


def _b(store: type, *caught: str, level: Level, fresh: bool = False) -> Broken:
    return Broken(store, frozenset(caught), level, fresh)


CATALOGUE: list[Broken] = [
    _b(ReturnsStoredObject, "get_returns_fresh_copy", "put_snapshots_state", level="validated"),
    _b(NonAtomicCompareAndSet, "cas_no_lost_update", level="standard"),
    _b(NonAtomicCompareAndSet, "cas_no_lost_update", level="standard", fresh=True),
    _b(DeleteIsNoop, "delete_removes", "sessions_isolated", "many_sessions", level="none"),
    _b(MergesOnOverwrite, "overwrite_updates", level="none"),
    # Dropping unknown fields also drops an unreadable extra field unrefused: validation fails too.
    _b(DropsUnknownFields, "unknown_fields_preserved", level="base"),
    _b(AcceptsInvalidIds, "invalid_session_id_rejected", level="base"),
    _b(IgnoresTTL, "ttl_expires", "default_ttl", level="standard"),
    _b(SilentlyIgnoresRevisions, "unadvertised_ops_raise", level="validated"),
    _b(RevisionSurvivesDelete, "revision_reset_after_delete", level="standard"),
    _b(WritesOnConflict, "cas_conflict_writes_nothing", level="standard"),
    _b(RepeatsCursorSession, "list_sessions_paginates", level="standard"),
    _b(LocaleOrder, "list_sessions_codepoint_order", level="standard"),
    _b(PruneDeletesEverything, "prune_removes_only_old", "prune_validates", level="standard"),
    _b(PruneIsNoop, "prune_removes_only_old", level="standard"),
    _b(MutableCapabilities, "capabilities_descriptor", level="validated"),
    _b(
        RestoreForgetsUpdatedAt,
        "restore_session_round_trips",
        "restore_session_conflicts",
        level="standard",
    ),
    _b(DropsMetadata, "save_returns_record", "metadata_roundtrips", level="none"),
    _b(NewestFirstLoad, "load_recent_chronological", level="none"),
    _b(IgnoresSessionScope, "search_session_scope", level="none"),
    _b(DistanceScores, "search_exact_text_first", "scores_are_cosine", level="none"),
    _b(IgnoresK, "search_scores_valid", level="none"),
    _b(SaveManyNotAtomic, "save_many_all_or_nothing", level="standard"),
    _b(DiscardIsNoop, "save_many_failed_chunk_leaves_nothing", level="standard"),
    _b(ReturnsStoredRecord, "records_are_copies", "get_returns_record", level="validated"),
    _b(BoolEqualsOneFilter, "filter_equality_types", level="standard"),
    _b(ForgetIsNoop, "forget_removes", level="standard"),
    _b(SilentlyIgnoresFilter, "unadvertised_ops_raise", level="validated"),
    _b(SharesAcrossNamespaces, "namespace_isolation", level="validated"),
    _b(
        ClaimsPersistence,
        "persistent_reopen",
        "embedder_dimension_mismatch",
        "one_text_embedder_reopen",
        level="standard",
        fresh=True,
    ),
    _b(AcceptsBadK, "invalid_search_args", level="base"),
    _b(ExportRepeatsCursorRecord, "export_records_pages", level="standard"),
]


def _id(broken: Broken) -> str:
    return broken.store.__name__ + ("-fresh" if broken.fresh else "")


# Checks that only cost time (sleeps, megabytes) run only where they are what catches the defect.
SLOW = frozenset(
    {"ttl_expires", "ttl_cleared_by_plain_put", "default_ttl", "large_state", "large_content"}
)


@pytest.fixture(scope="module")
def reports() -> dict[str, ConformanceReport]:
    """Run the kit against every broken store."""

    async def run_all() -> dict[str, ConformanceReport]:
        out: dict[str, ConformanceReport] = {}
        for broken in CATALOGUE:
            factory = broken.store if broken.fresh else shared_factory(broken.store)
            kind: Kind = (
                "checkpoint" if issubclass(broken.store, InMemoryCheckpointStore) else "memory"
            )
            names = [c.name for c in list_checks(kind) if c.name not in SLOW - broken.caught_by]
            out[_id(broken)] = await run_conformance(factory, checks=names)
        return out

    return asyncio.run(run_all())


@pytest.mark.parametrize("broken", CATALOGUE, ids=_id)
def test_defect_is_caught(broken: Broken, reports: dict[str, ConformanceReport]) -> None:
    report = reports[_id(broken)]
    failed = {r.name for r in report.failures}
    missed = broken.caught_by - failed
    assert not missed, f"{_id(broken)}: {sorted(missed)} passed\n{report.render()}"
    assert not report.ok
    assert report.level == broken.level, report.level_of(report.kinds[0])


def test_failure_details_say_what_is_wrong(reports: dict[str, ConformanceReport]) -> None:
    details = {r.name: r.detail for r in reports["NonAtomicCompareAndSet"].failures}
    assert "counter after 80 compare-and-set increments" in details["cas_no_lost_update"]
    details = {r.name: r.detail for r in reports["NewestFirstLoad"].failures}
    assert "load(limit=7)" in details["load_recent_chronological"]
    details = {r.name: r.detail for r in reports["SilentlyIgnoresFilter"].failures}
    assert "not advertised" in details["unadvertised_ops_raise"]
    assert "filter" in details["unadvertised_ops_raise"]


def test_every_defect_leaves_other_checks_running(reports: dict[str, ConformanceReport]) -> None:
    # A defect fails its checks, not the run: every check still reports a status.
    for report in reports.values():
        kind = report.kinds[0]
        assert len(report.results) == len([r for r in report.results if r.kind == kind])
        assert all(r.status for r in report.results)
