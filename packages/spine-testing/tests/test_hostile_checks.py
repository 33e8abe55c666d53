"""The hostile-input checks can fail: a store with each defect of issue 14 is caught.

Each broken store is a reference store with one defect the issue observed on a real backend.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pytest

from spine_core import (
    InMemoryCheckpointStore,
    InMemoryVectorMemory,
    InvalidInput,
    MemoryItem,
    MemoryRecord,
    SessionPage,
    State,
)
from spine_core._validation import MAX_TTL_SECONDS
from spine_testing import run_conformance, shared_factory

HOSTILE = {
    "checkpoint": ["ttl_range", "unreadable_state_refused", "tenant_ids_checked"],
    "memory": [
        "non_finite_vectors_refused",
        "deep_metadata_refused",
        "save_many_needs_a_list",
        "non_embedder_refused",
    ],
}


class WritesThenRefusesTtl(InMemoryCheckpointStore):
    """Like Redis before the fix: writes the state, then fails on the expiry."""

    async def put(self, state: State, *, ttl: Any = None, **kw: Any) -> None:
        if isinstance(ttl, int | float) and ttl > MAX_TTL_SECONDS:
            await super().put(state, **kw)
            raise InvalidInput("ERR invalid expire time")
        await super().put(state, ttl=ttl, **kw)


class StoresUnvalidatedStates(InMemoryCheckpointStore):
    """Serializes whatever it is given: surrogate keys, wrong types, any version."""

    async def put(self, state: State, **kw: Any) -> None:
        if state.tenant_id is not None and not isinstance(state.tenant_id, str):
            raise InvalidInput("tenant")
        self._check_put_options(kw.get("expected_revision"), kw.get("ttl"))
        from spine_core._records import utc_now
        from spine_core._reference import _Entry

        raw = state.model_dump_json(warnings=False)
        current = self._data.get(state.session_id)
        revision = current.revision if current else 0
        self._data[state.session_id] = _Entry(raw, revision + 1, state.tenant_id, utc_now(), None)


class AnyTenantLists(InMemoryCheckpointStore):
    """list_sessions takes any tenant id and lists nothing for a bad one."""

    async def list_sessions(self, *, tenant_id: Any = None, **kw: Any) -> SessionPage:
        if isinstance(tenant_id, str) and (not tenant_id or "\x00" in tenant_id):
            return SessionPage(sessions=[], next_cursor=None)
        try:
            return await super().list_sessions(tenant_id=tenant_id, **kw)
        except InvalidInput:
            return SessionPage(sessions=[], next_cursor=None)


class OverflowingNormalisation(InMemoryVectorMemory):
    """Normalises with 1/norm unchecked: a subnormal vector becomes [inf, nan, …]."""

    async def _embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors = await self.embedder.embed(list(texts))
        out = []
        for vector in vectors:
            norm = math.hypot(*vector)
            with_inf = [x * (1.0 / norm) if norm else 0.0 for x in vector]
            out.append(with_inf)
        return out


class IteratesAnything(InMemoryVectorMemory):
    """save_many iterates what it is given: a dict saves its keys."""

    async def save_many(self, items: Any) -> list[MemoryRecord]:
        if items is None or isinstance(items, str | bytes):
            raise InvalidInput("not a list")
        return await super().save_many([MemoryItem(content=str(i)) for i in items])


class NestsWithoutLimit(InMemoryVectorMemory):
    """Refuses only what its JSON encoder cannot take, and silently drops deep metadata."""

    async def save(self, content: str, *, metadata: Any = None, **kw: Any) -> MemoryRecord:
        depth, cur = 0, metadata
        while isinstance(cur, dict) and "a" in cur:
            depth, cur = depth + 1, cur["a"]
        if depth > 500:
            raise InvalidInput("too deep")
        return await super().save(content, metadata=None if depth > 50 else metadata, **kw)


class TakesAnyEmbedder(InMemoryVectorMemory):
    """Keeps whatever embedder= it is given; the error comes at first use."""

    def __init__(self, *, embedder: Any = None, namespace: str = "default") -> None:
        super().__init__(namespace=namespace)
        if embedder is not None:
            self.embedder = embedder


@pytest.mark.parametrize(
    ("store", "caught_by"),
    [
        (WritesThenRefusesTtl, "ttl_range"),
        (StoresUnvalidatedStates, "unreadable_state_refused"),
        (AnyTenantLists, "tenant_ids_checked"),
        (OverflowingNormalisation, "non_finite_vectors_refused"),
        (IteratesAnything, "save_many_needs_a_list"),
        (NestsWithoutLimit, "deep_metadata_refused"),
        (TakesAnyEmbedder, "non_embedder_refused"),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else v,
)
async def test_each_hostile_defect_is_caught(store: type, caught_by: str) -> None:
    kind = "checkpoint" if issubclass(store, InMemoryCheckpointStore) else "memory"
    report = await run_conformance(shared_factory(store), checks=HOSTILE[kind])
    failed = {r.name for r in report.failures}
    assert caught_by in failed, report.render()


@pytest.mark.parametrize("store", [InMemoryCheckpointStore, InMemoryVectorMemory])
async def test_the_reference_stores_pass(store: type) -> None:
    kind = "checkpoint" if store is InMemoryCheckpointStore else "memory"
    report = await run_conformance(shared_factory(store), checks=HOSTILE[kind])
    assert report.ok, report.render()
