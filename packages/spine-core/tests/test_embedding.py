"""HashEmbedder: deterministic, unit-length, sensible similarity."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import pytest

from spine_core import ConfigError, HashEmbedder, cosine


async def test_unit_vectors_of_the_right_dimension() -> None:
    emb = HashEmbedder(dimension=64)
    vectors = await emb.embed_many(["hello world", "ünïcödé 会话 🙂", "!!!"])
    assert len(vectors) == 3
    assert all(len(v) == 64 for v in vectors)
    assert all(math.isclose(math.hypot(*v), 1.0, rel_tol=1e-9) for v in vectors)


async def test_embed_takes_one_text_and_returns_one_vector() -> None:
    emb = HashEmbedder()
    vector = await emb.embed("hello")
    assert len(vector) == 256
    assert all(isinstance(x, float) for x in vector)
    assert vector == (await emb.embed_many(["hello"]))[0]


def test_dim_is_spinekits_keyword_and_dimension_an_alias() -> None:
    assert HashEmbedder(dim=64).dim == 64
    assert HashEmbedder(64).dimension == 64
    assert HashEmbedder(dimension=32).dim == 32
    assert HashEmbedder().dim == 256
    assert repr(HashEmbedder(dim=64)) == "HashEmbedder(dim=64)"
    with pytest.raises(AttributeError):
        HashEmbedder().dimension = 8  # type: ignore[misc]


def test_similar_texts_score_higher() -> None:
    emb = HashEmbedder()
    cat, cats, other = (emb.embed_one(t) for t in ["the cat sat", "a cat sat down", "tax returns"])
    assert cosine(cat, cat) == pytest.approx(1.0)
    assert cosine(cat, cats) > cosine(cat, other)


def test_deterministic_across_processes() -> None:
    code = "from spine_core import HashEmbedder; print(HashEmbedder(32).embed_one('same text ✓'))"
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    }
    assert len(outputs) == 1


@pytest.mark.parametrize("dimension", [0, 4, True, 2.0])
def test_bad_dimension(dimension: object) -> None:
    with pytest.raises(ConfigError):
        HashEmbedder(dimension)  # type: ignore[arg-type]


def test_name_carries_dimension() -> None:
    assert HashEmbedder(128).name != HashEmbedder(256).name


async def test_save_many_refuses_a_single_string() -> None:
    from spine_core import InMemoryVectorMemory, InvalidInput

    memory = InMemoryVectorMemory()
    with pytest.raises(InvalidInput, match="single str"):
        await memory.save_many("hey")  # type: ignore[arg-type]
    assert await memory.search("hey") == []
