"""BufferMemory (`buffer`): recency recall, spinekit's semantics, Spine's input checks."""

from __future__ import annotations

import pytest

from spine_core import BufferMemory, InvalidInput, Memory, open_memory, resolve_memory


async def test_search_returns_the_most_recent_newest_first_with_score_one() -> None:
    memory = BufferMemory()
    for i in range(5):
        await memory.save(f"note {i}", session_id="a" if i % 2 == 0 else "b")
    hits = await memory.search("anything at all", k=3)
    assert [h.record.content for h in hits] == ["note 4", "note 3", "note 2"]
    assert {h.score for h in hits} == {1.0}
    scoped = await memory.search("ignored", k=5, session_id="a")
    assert [h.content for h in scoped] == ["note 4", "note 2", "note 0"]
    assert await memory.search("x", session_id="nobody") == []


async def test_load_returns_the_last_records_in_chronological_order() -> None:
    memory = BufferMemory()
    saved = [await memory.save(f"m{i}", session_id="s", metadata={"i": i}) for i in range(6)]
    await memory.save("elsewhere", session_id="t")
    loaded = await memory.load("s", limit=4)
    assert [r.content for r in loaded] == ["m2", "m3", "m4", "m5"]
    assert loaded == saved[2:]
    assert [r.content for r in await memory.load("s")] == [f"m{i}" for i in range(6)]
    assert await memory.load("unknown") == []


async def test_records_are_private_copies() -> None:
    memory = BufferMemory()
    record = await memory.save("x", session_id="s", metadata={"tags": ["a"]})
    record.metadata["tags"].append("mutated")  # type: ignore[union-attr]
    [again] = await memory.load("s")
    assert again.metadata == {"tags": ["a"]}


@pytest.mark.parametrize(
    "call",
    [
        lambda m: m.search("q", k=0),
        lambda m: m.load("", limit=1),
        lambda m: m.load("s", limit=0),
        lambda m: m.save("x", session_id="a\x00b"),
        lambda m: m.save("x", metadata={"v": float("nan")}),
        lambda m: m.save("x", metadata={"v": object()}),
    ],
    ids=["k0", "empty-session", "limit0", "nul-session", "nan-metadata", "object-metadata"],
)
async def test_bad_input_is_refused_and_nothing_is_written(call) -> None:  # type: ignore[no-untyped-def]
    memory = BufferMemory()
    with pytest.raises(InvalidInput):
        await call(memory)
    assert await memory.search("q", k=10) == []


async def test_registered_as_buffer() -> None:
    store = resolve_memory("buffer")
    assert isinstance(store, BufferMemory)
    assert isinstance(store, Memory)
    async with open_memory("buffer", namespace="n") as opened:
        await opened.save("hello", session_id="s")
        assert [h.content for h in await opened.search("q")] == ["hello"]
    assert store.info().name == "buffer"
