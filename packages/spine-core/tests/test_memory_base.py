"""MemoryStoreBase owns the public operations; a store fills hooks and sees only valid input."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, ClassVar

import pytest

from spine_core import (
    BufferMemory,
    HashEmbedder,
    InMemoryVectorMemory,
    InvalidInput,
    MemoryCapabilities,
    MemoryItem,
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


# -- the chunked write path ---------------------------------------------------------------------


class Chunked(InMemoryVectorMemory):
    """Writes in chunks of 3 over 2 lanes; chunk number `fail_at` raises after writing one row."""

    _insert_chunk = 3
    _insert_lanes = 2

    def __init__(self, fail_at: int = 0, discard_fails: bool = False) -> None:
        super().__init__()
        self.fail_at = fail_at
        self.discard_fails = discard_fails
        self.calls = 0
        self.in_flight = 0
        self.most_in_flight = 0
        self.discarded: list[str] | None = None

    async def _insert(self, records: list[PreparedRecord], *, replace: bool = False) -> None:
        self.calls += 1
        call = self.calls
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.001)
            if call == self.fail_at:
                await super()._insert(records[:1], replace=replace)
                raise RuntimeError("chunk refused")
            await super()._insert(records, replace=replace)
        finally:
            self.in_flight -= 1

    async def _discard(self, ids: list[str]) -> None:
        self.discarded = ids
        if self.discard_fails:
            raise ConnectionError("server gone")
        for rid in ids:
            self._rows.pop(rid, None)


async def test_chunks_run_over_lanes_and_keep_input_order() -> None:
    store = Chunked()
    saved = await store.save_many([f"text {i}" for i in range(10)])
    assert [r.content for r in saved] == [f"text {i}" for i in range(10)]
    assert store.calls == 4  # 3 + 3 + 3 + 1
    assert store.most_in_flight == 2
    assert len(store._rows) == 10


# Groups of 3 * 2 = 6 records: call 1 is the `save`, calls 2-3 write group 1, 4-5 group 2.
@pytest.mark.parametrize(("fail_at", "minted"), [(2, 6), (4, 10)])
async def test_a_failed_chunk_discards_every_id_minted_by_the_call(
    fail_at: int, minted: int
) -> None:
    store = Chunked(fail_at=fail_at)
    kept = await store.save("kept")
    with pytest.raises(RuntimeError, match="chunk refused") as caught:
        await store.save_many([f"text {i}" for i in range(10)])
    assert not getattr(caught.value, "__notes__", None)
    assert store.discarded is not None
    assert len(store.discarded) == minted
    assert list(store._rows) == [kept.id]


async def test_a_failed_discard_is_noted_on_the_original_error() -> None:
    store = Chunked(fail_at=2, discard_fails=True)
    with pytest.raises(RuntimeError, match="chunk refused") as caught:
        await store.save_many([f"text {i}" for i in range(10)])
    notes = getattr(caught.value, "__notes__", [])
    # The 2nd chunk is in the first group of 6: only its ids were minted.
    assert any("some of its 6 records may remain" in n and "ConnectionError" in n for n in notes)


async def test_a_failed_restore_discards_nothing_and_a_rerun_completes_it() -> None:
    source = InMemoryVectorMemory()
    await source.save_many([f"text {i}" for i in range(10)])
    records = (await source.export_records()).items
    store = Chunked(fail_at=2)
    with pytest.raises(RuntimeError, match="chunk refused"):
        await store.restore_records(records)
    assert store.discarded is None
    store.fail_at = 0
    await store.restore_records(records)
    assert sorted(store._rows) == sorted(r.id for r in records)


async def test_without_chunks_insert_is_called_once_as_before() -> None:
    calls: list[tuple[int, dict[str, Any]]] = []

    class OneCall(InMemoryVectorMemory):
        async def _insert(self, records: list[PreparedRecord], **kw: Any) -> None:
            calls.append((len(records), kw))
            await super()._insert(records, **kw)

    await OneCall().save_many([f"text {i}" for i in range(50)])
    assert calls == [(50, {})]


# -- save_many on the chunked path: embed the next group while the previous one is written ------


class LoggingEmbedder(HashEmbedder):
    """Logs each `embed_many` call; returns all-zero vectors for call number `bad_call`."""

    def __init__(self, log: list[str], bad_call: int = 0) -> None:
        super().__init__()
        self.log = log
        self.bad_call = bad_call
        self.calls = 0
        self.second_call = asyncio.Event()

    async def embed_many(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls += 1
        self.log.append(f"embed {len(texts)}")
        if self.calls == 2:
            self.second_call.set()
        if self.calls == self.bad_call:
            return [[0.0] * self.dim for _ in texts]
        return await super().embed_many(texts)


class GroupedChunks(Chunked):
    """`Chunked` (groups of 3 * 2 = 6) that logs its writes and records their ids."""

    def __init__(self, embedder: LoggingEmbedder, *, hold_first_group: bool = False) -> None:
        super().__init__()
        self.embedder = embedder
        self.log = embedder.log
        self.hold_first_group = hold_first_group
        self.written: list[str] = []

    async def _insert(self, records: list[PreparedRecord], *, replace: bool = False) -> None:
        self.log.append("write start")
        if self.hold_first_group:
            # Group 1's chunks finish only once group 2's embedding has started: without the
            # overlap this never happens and the guard below fails the test.
            await asyncio.wait_for(self.embedder.second_call.wait(), timeout=10)
        self.written += [r.id for r in records]
        await super()._insert(records, replace=replace)
        self.log.append("write end")


async def test_the_next_group_is_embedded_while_the_previous_one_is_written() -> None:
    log: list[str] = []
    store = GroupedChunks(LoggingEmbedder(log), hold_first_group=True)
    saved = await store.save_many([f"text {i}" for i in range(15)])
    assert [r.content for r in saved] == [f"text {i}" for i in range(15)]
    assert log[:4] == ["embed 6", "write start", "write start", "embed 6"]
    first_end = log.index("write end")
    assert log.index("embed 3") > first_end  # one group embedding at a time
    assert log.count("write start") == log.count("write end") == 5
    assert sorted(store._rows) == sorted(r.id for r in saved) == sorted(store.written)


async def test_a_bad_vector_in_a_later_group_discards_every_minted_id() -> None:
    log: list[str] = []
    store = GroupedChunks(LoggingEmbedder(log, bad_call=3))
    with pytest.raises(InvalidInput, match="embedder"):
        await store.save_many([MemoryItem(content=f"text {i}", session_id="s") for i in range(15)])
    assert store.embedder.calls == 3
    discarded = store.discarded
    assert discarded is not None
    assert len(discarded) == len(set(discarded)) == 12  # groups 1 and 2; group 3 had no ids
    assert set(store.written) <= set(discarded)
    assert len(store.written) >= 6  # group 1 was written before the failure
    assert store._rows == {}
    assert await store.load("s") == []
    assert [await store.get(rid) for rid in discarded] == [None] * 12


@pytest.mark.parametrize("bad", [0, 7, 14])
async def test_a_bad_item_anywhere_raises_before_any_embedding_or_write(bad: int) -> None:
    log: list[str] = []
    store = GroupedChunks(LoggingEmbedder(log))
    items = [f"text {i}" for i in range(15)]
    items[bad] = ""
    with pytest.raises(InvalidInput, match="content"):
        await store.save_many(items)
    assert log == []
    assert store.discarded is None
