"""A deterministic benchmark corpus: clustered ~100-character texts and their embeddings.

Texts are drawn from topics (each with its own vocabulary, plus words every topic shares),
so nearest neighbours are meaningful and recall is a real test; the same seed always gives
the same corpus. Embeddings are computed once and served to the stores through
`PrecomputedEmbedder`, so a benchmark measures the store, not the embedder.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from spine_core import HashEmbedder

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["Corpus", "PrecomputedEmbedder", "make_texts"]

_TOPICS = 64
_TOPIC_WORDS = 48
_COMMON_WORDS = 400
_TEXT_CHARS = 100
_CONSONANTS = "bcdfghjklmnprstvwz"
_VOWELS = "aeiou"


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_CONSONANTS) + rng.choice(_VOWELS) for _ in range(rng.randint(2, 4)))


class _Vocabulary:
    def __init__(self, seed: int) -> None:
        rng = random.Random(seed)  # noqa: S311 - reproducible data, not secrets
        self.common = [_word(rng) for _ in range(_COMMON_WORDS)]
        self.topics = [[_word(rng) for _ in range(_TOPIC_WORDS)] for _ in range(_TOPICS)]


def make_texts(count: int, *, seed: int, stream: int = 0) -> list[str]:
    """`count` texts of about 100 characters, deterministic for (seed, stream)."""
    vocab = _Vocabulary(seed)
    rng = random.Random(seed * 1_000_003 + stream)  # noqa: S311 - reproducible data
    texts = []
    for _ in range(count):
        topic = vocab.topics[rng.randrange(_TOPICS)]
        words: list[str] = []
        length = -1
        while length < _TEXT_CHARS:
            word = rng.choice(topic) if rng.random() < 0.7 else rng.choice(vocab.common)
            words.append(word)
            length += len(word) + 1
        texts.append(" ".join(words)[:_TEXT_CHARS].rstrip())
    return texts


class Corpus:
    """Texts, queries and their unit vectors (float32 matrices)."""

    def __init__(
        self,
        size: int,
        queries: int,
        *,
        seed: int,
        dimension: int,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        import numpy as np

        self.embedder = HashEmbedder(dimension)
        self.texts = make_texts(size, seed=seed, stream=1)
        self.queries = make_texts(queries, seed=seed, stream=2)
        self.vectors = self._embed(self.texts, progress)
        self.query_vectors = self._embed(self.queries, None)
        self.index = {text: i for i, text in enumerate(self.texts)}
        for i, text in enumerate(self.queries):
            self.index.setdefault(text, -1 - i)  # negative: a query row
        self._np = np

    def _embed(
        self, texts: Sequence[str], progress: Callable[[int], None] | None
    ) -> npt.NDArray[np.float32]:
        import numpy as np

        out = np.empty((len(texts), self.embedder.dimension), dtype=np.float32)
        step = 2000
        for start in range(0, len(texts), step):
            chunk = texts[start : start + step]
            out[start : start + len(chunk)] = [self.embedder.embed_one(t) for t in chunk]
            if progress is not None:
                progress(len(chunk))
        return out

    def vector_of(self, text: str) -> list[float] | None:
        """The precomputed vector of a corpus text or query, or None."""
        i = self.index.get(text)
        if i is None:
            return None
        row = self.vectors[i] if i >= 0 else self.query_vectors[-1 - i]
        return row.tolist()  # type: ignore[no-any-return]

    def exact_top(self, query: int, size: int, k: int) -> tuple[float, npt.NDArray[np.float32]]:
        """For query `query` over the first `size` texts: the k-th best score and all scores."""
        scores = self.vectors[:size] @ self.query_vectors[query]
        k = min(k, size)
        kth = float(self._np.partition(scores, size - k)[size - k])
        return kth, scores


class PrecomputedEmbedder:
    """Serves the corpus's vectors (same name and dimension as the HashEmbedder they came from).

    Unknown texts are embedded on the fly, so the store behaves exactly as with HashEmbedder.
    """

    def __init__(self, corpus: Corpus) -> None:
        self._corpus = corpus
        self._base = corpus.embedder

    @property
    def dim(self) -> int:
        """Length of every vector."""
        return self._base.dim

    @property
    def name(self) -> str:
        """The underlying HashEmbedder's identity."""
        return self._base.name

    def _one(self, text: str) -> list[float]:
        vector = self._corpus.vector_of(text)
        return vector if vector is not None else self._base.embed_one(text)

    async def embed(self, text: str) -> list[float]:
        """The unit vector of `text`."""
        return self._one(text)

    async def embed_many(self, texts: Sequence[str]) -> list[list[float]]:
        """One unit vector per text (the batch path stores take)."""
        return [self._one(t) for t in texts]
