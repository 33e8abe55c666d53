"""`open_*`: stores not built on Spine's bases come inside a validating wrapper."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from spine_core import (
    CheckpointCapabilities,
    ConfigError,
    HashEmbedder,
    InMemoryCheckpointStore,
    InMemoryVectorMemory,
    InvalidInput,
    MemoryHit,
    MemoryItem,
    MemoryRecord,
    Message,
    SessionPage,
    State,
    UnsupportedCapability,
    open_checkpoint,
    open_memory,
    register_checkpoint,
    register_memory,
)
from spine_core._opening import (
    CheckedEmbedder,
    ValidatingCheckpoint,
    ValidatingMemory,
    is_spine_store,
    unwrap,
)
from spine_core._records import utc_now
from spine_core.registry import unregister


class Dict:
    """Three methods over a dict, no validation at all (as the guide writes them)."""

    def __init__(self) -> None:
        self.data: dict[str, str] = {}
        self.calls: list[str] = []

    async def put(self, state: State) -> None:
        self.calls.append("put")
        self.data[state.session_id] = state.model_dump_json()

    async def get(self, session_id: str) -> State | None:
        self.calls.append("get")
        raw = self.data.get(session_id)
        return None if raw is None else State.model_validate_json(raw)

    async def delete(self, session_id: str) -> None:
        self.calls.append("delete")
        self.data.pop(session_id, None)


class WithRevisions(Dict):
    """Declares revisions and has the operations; keeps a counter per session."""

    capabilities = CheckpointCapabilities(revisions=True, list_sessions=True)

    def __init__(self) -> None:
        super().__init__()
        self.revisions: dict[str, int] = {}
        self.closed = 0

    async def put(self, state: State, *, expected_revision: int | None = None) -> None:
        self.calls.append(f"put expected_revision={expected_revision}")
        await super().put(state)
        self.revisions[state.session_id] = self.revisions.get(state.session_id, 0) + 1

    async def revision(self, session_id: str) -> int:
        return self.revisions.get(session_id, 0)

    async def list_sessions(
        self, *, tenant_id: str | None = None, limit: int = 100, cursor: str | None = None
    ) -> SessionPage:
        self.calls.append(f"list limit={limit}")
        return SessionPage(sessions=[], next_cursor=None)

    async def aclose(self) -> None:
        self.closed += 1


class Notes:
    """A guide-style memory without validation (records built with an explicit ts)."""

    def __init__(self, *, embedder: Any = None) -> None:
        self.embedder = embedder or HashEmbedder()
        self.rows: list[MemoryRecord] = []
        self.seen_metadata: list[Any] = []

    async def save(
        self, content: str, *, session_id: str | None = None, metadata: Any = None
    ) -> MemoryRecord:
        self.seen_metadata.append(metadata)
        record = MemoryRecord(
            id=str(len(self.rows)),
            content=content,
            session_id=session_id,
            metadata=metadata or {},
            ts=utc_now(),
        )
        self.rows.append(record)
        return record

    async def search(
        self, query: str, *, k: int = 5, session_id: str | None = None
    ) -> list[MemoryHit]:
        hits = [
            MemoryHit(record=r, score=1.0 if r.content == query else 0.0)
            for r in self.rows
            if session_id is None or r.session_id == session_id
        ]
        return sorted(hits, key=lambda h: h.score, reverse=True)[:k]

    async def load(self, session_id: str, *, limit: int = 20) -> list[MemoryRecord]:
        return [r for r in self.rows if r.session_id == session_id][-limit:]


class NotesWithForget(Notes):
    async def forget(self, record_id: str) -> bool:
        before = len(self.rows)
        self.rows = [r for r in self.rows if r.id != record_id]
        return len(self.rows) < before


@pytest.fixture
def name(request: pytest.FixtureRequest) -> Iterator[str]:
    value = f"o-{request.node.name[:40]}".replace("[", "-").replace("]", "")
    yield value
    unregister("checkpoint", value)
    unregister("memory", value)


def test_spine_stores_come_back_as_they_are() -> None:
    store = open_checkpoint("memory")
    assert type(store) is InMemoryCheckpointStore
    assert is_spine_store(store)
    memory = open_memory("vector")
    assert type(memory) is InMemoryVectorMemory
    assert unwrap(store) is store
    assert not is_spine_store(Dict())


async def test_checkpoint_wrapper_refuses_bad_input_before_the_store_sees_it(name: str) -> None:
    register_checkpoint(name, lambda **cfg: Dict(**cfg))
    store = open_checkpoint(name)
    assert isinstance(store, ValidatingCheckpoint)
    inner = unwrap(store)
    assert isinstance(inner, Dict)
    for bad_id in ("", "x" * 257, "a\x00b", None, 5):
        with pytest.raises(InvalidInput):
            await store.put(State(session_id=bad_id) if isinstance(bad_id, str) else bad_id)
        with pytest.raises(InvalidInput):
            await store.get(bad_id)  # type: ignore[arg-type]
        with pytest.raises(InvalidInput):
            await store.delete(bad_id)  # type: ignore[arg-type]
    nan = State(session_id="s", scratch={"x": math.nan})
    nul = State(session_id="s", messages=[Message(role="user", content="a\x00b")])
    for bad_state in (nan, nul):
        with pytest.raises(InvalidInput):
            await store.put(bad_state)
    assert inner.calls == []  # nothing reached the store
    assert inner.data == {}
    good = State(session_id="s", step=2)
    await store.put(good)
    assert await store.get("s") == good
    await store.delete("s")
    assert await store.get("s") is None
    assert inner.calls == ["put", "get", "delete", "get"]


async def test_checkpoint_wrapper_optional_operations(name: str) -> None:
    register_checkpoint(name, Dict)
    plain = open_checkpoint(name)
    for call in (
        plain.put(State(session_id="s"), expected_revision=0),
        plain.put(State(session_id="s"), ttl=5),
        plain.revision("s"),
        plain.list_sessions(),
        plain.prune(before=datetime.now(UTC)),
    ):
        with pytest.raises(UnsupportedCapability):
            await call
    assert unwrap(plain).data == {}
    assert plain.capabilities == CheckpointCapabilities()

    unregister("checkpoint", name)
    register_checkpoint(name, WithRevisions)
    store: Any = open_checkpoint(name)
    inner = unwrap(store)
    assert store.capabilities.revisions
    await store.put(State(session_id="s"), expected_revision=0)
    assert await store.revision("s") == 1
    for bad in (-1, True, 1.5):
        with pytest.raises(InvalidInput):
            await store.put(State(session_id="s"), expected_revision=bad)
    with pytest.raises(UnsupportedCapability):  # put takes no ttl
        await store.put(State(session_id="s"), ttl=5)
    with pytest.raises(InvalidInput):
        await store.revision("")
    with pytest.raises(InvalidInput):
        await store.list_sessions(limit=0)
    assert (await store.list_sessions(limit=3)).sessions == []
    assert inner.calls == ["put expected_revision=0", "put", "list limit=3"]
    with pytest.raises(UnsupportedCapability):
        await store.prune(before=datetime.now(UTC))


async def test_wrapper_lifecycle_delegates(name: str) -> None:
    register_checkpoint(name, WithRevisions)
    store: Any = open_checkpoint(name)
    async with store as entered:
        assert entered is store
        await entered.put(State(session_id="s"))
    assert unwrap(store).closed == 1
    await store.aclose()
    assert unwrap(store).closed == 2
    async with ValidatingCheckpoint(Dict()) as plain:  # no aclose of its own: a no-op one
        await plain.put(State(session_id="s"))
    await plain.aclose()
    assert unwrap(plain).calls == ["put"]
    assert "WithRevisions" in repr(store)


async def test_memory_wrapper_refuses_bad_input(name: str) -> None:
    register_memory(name, Notes)
    memory: Any = open_memory(name)
    assert isinstance(memory, ValidatingMemory)
    inner = unwrap(memory)
    assert memory.embedder is inner.embedder  # other attributes pass through
    cases: list[dict[str, Any]] = [
        {"content": ""},
        {"content": "  "},
        {"content": "a\x00b"},
        {"content": 5},
        {"session_id": ""},
        {"session_id": "a\x00b"},
        {"metadata": {"x": math.nan}},
        {"metadata": {"x": {1, 2}}},
        {"metadata": {1: "x"}},
        {"metadata": ["x"]},
    ]
    for case in cases:
        kwargs: dict[str, Any] = {"content": "ok", **case}
        with pytest.raises(InvalidInput):
            await memory.save(kwargs.pop("content"), **kwargs)
    assert inner.rows == []
    for k in (0, -1, True, 1.5):
        with pytest.raises(InvalidInput):
            await memory.search("q", k=k)
    for query in ("", "a\x00b"):
        with pytest.raises(InvalidInput):
            await memory.search(query)
    for limit in (0, -1, 100_001):
        with pytest.raises(InvalidInput):
            await memory.load("s", limit=limit)
    with pytest.raises(InvalidInput):
        await memory.load("")
    meta = {"tags": ["a"]}
    record = await memory.save("hello", session_id="s", metadata=meta)
    assert inner.seen_metadata[0] == meta
    assert inner.seen_metadata[0] is not meta  # the store gets a private copy
    meta["tags"].append("later")
    assert record.metadata == {"tags": ["a"]}
    hits = await memory.search("hello", session_id="s")
    assert hits[0].record.id == record.id
    assert [r.id for r in await memory.load("s")] == [record.id]


async def test_memory_wrapper_optional_operations(name: str) -> None:
    register_memory(name, NotesWithForget)
    memory: Any = open_memory(name)
    record = await memory.save("keep", session_id="s")
    with pytest.raises(InvalidInput):
        await memory.forget("")
    assert await memory.forget(record.id) is True
    for call in (
        memory.get(record.id),
        memory.prune(session_id="s"),
        memory.save_many([MemoryItem(content="x")]),
        memory.search("q", filter={"a": 1}),  # search takes no filter=
    ):
        with pytest.raises(UnsupportedCapability):
            await call
    with pytest.raises(InvalidInput):  # a bad filter is refused before the capability
        await memory.search("q", filter={"a": None})


async def test_guide_embedder_store_through_open_memory(name: str) -> None:
    embedder = HashEmbedder()
    register_memory(name, lambda **cfg: Notes(**cfg))
    memory: Any = open_memory(name, embedder=embedder)
    # A store not built on Spine's bases gets the embedder behind a vector check.
    assert isinstance(unwrap(memory).embedder, CheckedEmbedder)
    assert unwrap(memory).embedder.wrapped is embedder
    assert memory.embedder.name == embedder.name
    assert memory.embedder.dim == embedder.dim


def test_only_a_signature_mismatch_is_bad_options(name: str) -> None:
    class Broken:
        def __init__(self, *, path: str = "x") -> None:
            raise TypeError("an error inside the constructor")

    register_checkpoint(name, Broken)
    with pytest.raises(ConfigError, match=r"bad options.*unexpected keyword argument 'nope'"):
        open_checkpoint(name, nope=1)
    with pytest.raises(TypeError, match="an error inside the constructor") as info:
        open_checkpoint(name, path="y")
    assert not isinstance(info.value, ConfigError)


def test_url_options_are_checked_against_the_constructor() -> None:
    with pytest.raises(ConfigError, match=r"bad options.*'nope'"):
        open_checkpoint("memory://", nope=1)
    store = open_checkpoint("memory://", namespace="ns1")
    assert isinstance(store, InMemoryCheckpointStore)


def test_from_url_keywords_are_not_checked_against_the_constructor() -> None:
    class ByUrl(Dict):
        def __init__(self, *, path: str) -> None:
            super().__init__()
            self.path = path

        @classmethod
        def from_url(cls, url: str, *, timeout: float = 5.0, **options: Any) -> ByUrl:
            return cls(path=url.partition("://")[2], **options)

    register_checkpoint("byurl", ByUrl)
    try:
        store = open_checkpoint("byurl://somewhere", timeout=1.0)  # from_url's own keyword
        assert unwrap(store).path == "somewhere"
        with pytest.raises(ConfigError, match="bad options"):
            open_checkpoint("byurl://somewhere", nope=1)  # forwarded, unknown to the class
    finally:
        unregister("checkpoint", "byurl")
