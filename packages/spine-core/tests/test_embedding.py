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
    vectors = await emb.embed(["hello world", "ünïcödé 会话 🙂", "!!!"])
    assert all(len(v) == 64 for v in vectors)
    assert all(math.isclose(math.hypot(*v), 1.0, rel_tol=1e-9) for v in vectors)


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
