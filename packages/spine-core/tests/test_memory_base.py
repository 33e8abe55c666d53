"""MemoryStoreBase owns the public operations; a store fills hooks and sees only valid input."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from spine_core import (
    BufferMemory,
    InMemoryVectorMemory,
    InvalidInput,
    MemoryCapabilities,
    MemoryRecord,
    UnsupportedCapability,
)
from spine_core._base import Filter, MemoryStoreBase, PreparedRecord

USER_SURFACE = {
    "aclose",
    "capabilities",
    "dim",
    "dimension",
    "distribution",
    "embedder",
    "embedder_name",
    "export_records",
    "forget",
    "get",
    "health",
    "info",
    "kind",
    "load",
    "namespace",
    "options",
    "prune",
    "restore_records",
    "save",
    "save_many",
    "search",
    "topology",
    "backend",
    "SPI_VERSION",
    "from_url",
}


class ThreeHooks(MemoryStoreBase):
    """The smallest store: `_insert`, `_query`, `_recent`, nothing optional advertised."""

    backend: ClassVar[str] = "three-hooks"

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[PreparedRecord] = []
        self._calls: list[str] = []

    async def _insert(self, records: list[PreparedRecord]) -> None:
        self._calls.append("insert")
        self._rows += records

    async def _query(
        self, vector: list[float], k: int, session_id: str | None, filter: Filter | None
    ) -> list[tuple[MemoryRecord, float]]:
        self._calls.append("query")
        # Worst order and out-of-range scores: the base clamps and sorts.
        pairs = [
            (r.record(), 1.5 * sum(a * b for a, b in zip(vector, r.vector, strict=True)))
            for r in self._rows
            if session_id is None or r.session_id == session_id
        ]
        return sorted(pairs, key=lambda p: p[1])

    async def _recent(self, session_id: str, limit: int) -> list[MemoryRecord]:
        self._calls.append("recent")
        return [r.record() for r in self._rows if r.session_id == session_id][-limit:]


@pytest.mark.parametrize("store", [InMemoryVectorMemory(), BufferMemory(), ThreeHooks()])
def test_no_implementer_helper_on_a_users_store(store: MemoryStoreBase) -> None:
    public = {name for name in dir(store) if not name.startswith("_")}
    assert public <= USER_SURFACE, public - USER_SURFACE


async def test_three_hooks_make_a_store() -> None:
    store = ThreeHooks()
    await store.save("alpha beta", session_id="s")
    await store.save("gamma delta", session_id="s")
    hits = await store.search("alpha beta", k=1)
    assert [h.record.content for h in hits] == ["alpha beta"]
    assert hits[0].score == 1.0  # 1.5 from the hook, clamped
    hits = await store.search("alpha beta", k=5)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert [r.content for r in await store.load("s")] == ["alpha beta", "gamma delta"]


@pytest.mark.parametrize(
    ("call", "capability"),
    [
        (lambda s: s.get("x"), "get"),
        (lambda s: s.forget("x"), "forget"),
        (lambda s: s.prune(session_id="s"), "prune"),
        (lambda s: s.save_many(["a"]), "save_many"),
        (lambda s: s.search("a", filter={"k": 1}), "filter"),
    ],
)
async def test_unadvertised_operations_raise_before_any_hook(call: Any, capability: str) -> None:
    store = ThreeHooks()
    with pytest.raises(UnsupportedCapability, match=capability):
        await call(store)
    assert store._calls == []


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.save(""),
        lambda s: s.save("x", session_id=""),
        lambda s: s.save("x", metadata={"n": float("nan")}),
        lambda s: s.search("x", k=0),
        lambda s: s.search("", k=1),
        lambda s: s.search("x", session_id="a\x00b"),
        lambda s: s.load("s", limit=0),
        lambda s: s.load(""),
    ],
)
async def test_bad_input_never_reaches_a_hook(call: Any) -> None:
    store = ThreeHooks()
    with pytest.raises(InvalidInput):
        await call(store)
    assert store._calls == []


async def test_prune_refuses_to_delete_everything() -> None:
    store = InMemoryVectorMemory()
    await store.save("x", session_id="s")
    with pytest.raises(InvalidInput, match="refusing to delete all"):
        await store.prune()
    assert len(await store.load("s")) == 1


async def test_advertised_operation_without_its_hook_is_unsupported() -> None:
    class Dishonest(ThreeHooks):
        capabilities = MemoryCapabilities(get=True)

    with pytest.raises(UnsupportedCapability):
        await Dishonest().get("x")
