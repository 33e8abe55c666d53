"""The benchmark corpora and the embedder that feeds their pre-computed vectors to a store.

Two corpora, both deterministic for a seed. `text`: clustered ~100-character texts (topics,
each with its own vocabulary, plus shared words) embedded with `HashEmbedder`, so nearest
neighbours are meaningful. `clustered`: Gaussian clusters of unit vectors in 384-d
(`clustered.py`), the hard case for an HNSW index; its records are id tokens whose vectors
the bench embedder looks up. Vectors are computed once and served through
`PrecomputedEmbedder`, so a benchmark measures the store, not the embedder.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal

from spine_core import HashEmbedder, InvalidInput

from .clustered import DIMENSION as CLUSTERED_DIMENSION
from .clustered import clustered_queries, clustered_vectors

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = [
    "CORPORA",
    "Corpus",
    "CorpusName",
    "PrecomputedEmbedder",
    "clustered_corpus",
    "make_texts",
    "text_corpus",
]

CorpusName = Literal["text", "clustered"]
CORPORA: tuple[CorpusName, ...] = ("text", "clustered")

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
    """Records and per-size queries with their unit vectors (float32 rows), and exact search."""

    def __init__(
        self,
        name: CorpusName,
        texts: list[str],
        vectors: npt.NDArray[np.float32],
        queries: dict[int, tuple[list[str], npt.NDArray[np.float32]]],
        *,
        embedder_name: str,
        fallback: Callable[[str], list[float]] | None = None,
    ) -> None:
        self.name: CorpusName = name
        self.texts = texts
        self.vectors = vectors
        self.embedder_name = embedder_name
        self._queries = queries
        self._fallback = fallback
        self._rows: dict[str, tuple[npt.NDArray[np.float32], int]] = {}
        for qtexts, qvectors in queries.values():
            self._rows.update((t, (qvectors, i)) for i, t in enumerate(qtexts))
        self._rows.update((t, (vectors, i)) for i, t in enumerate(texts))

    @property
    def dimension(self) -> int:
        """Length of every vector."""
        return int(self.vectors.shape[1])

    def queries(self, size: int) -> list[str]:
        """The query texts for a store holding the first `size` records."""
        return self._queries[size][0] if size in self._queries else self._queries[0][0]

    def query_vectors(self, size: int) -> npt.NDArray[np.float32]:
        """The vectors of `queries(size)`, one per row."""
        return self._queries[size][1] if size in self._queries else self._queries[0][1]

    def vector_of(self, text: str) -> list[float] | None:
        """The pre-computed vector of a record or query, else the fallback's, else None."""
        found = self._rows.get(text)
        if found is not None:
            matrix, row = found
            return matrix[row].tolist()  # type: ignore[no-any-return]
        return None if self._fallback is None else self._fallback(text)

    def exact_top(
        self, query: npt.NDArray[np.float32], size: int, k: int
    ) -> tuple[float, npt.NDArray[np.float32]]:
        """Over the first `size` records: the k-th best cosine to `query`, and every score."""
        import numpy as np

        scores = self.vectors[:size] @ query
        k = min(k, size)
        return float(np.partition(scores, size - k)[size - k]), scores


def text_corpus(
    size: int,
    queries: int,
    *,
    seed: int,
    dimension: int,
    progress: Callable[[int], None] | None = None,
) -> Corpus:
    """`size` hashed-text records and `queries` queries (the same at every size)."""
    embedder = HashEmbedder(dimension)
    texts = make_texts(size, seed=seed, stream=1)
    query_texts = make_texts(queries, seed=seed, stream=2)
    return Corpus(
        "text",
        texts,
        _embed(embedder, texts, progress),
        {0: (query_texts, _embed(embedder, query_texts, None))},
        embedder_name=embedder.name,
        fallback=embedder.embed_one,
    )


def _embed(
    embedder: HashEmbedder, texts: Sequence[str], progress: Callable[[int], None] | None
) -> npt.NDArray[np.float32]:
    import numpy as np

    out = np.empty((len(texts), embedder.dimension), dtype=np.float32)
    step = 2000
    for start in range(0, len(texts), step):
        chunk = texts[start : start + step]
        out[start : start + len(chunk)] = [embedder.embed_one(t) for t in chunk]
        if progress is not None:
            progress(len(chunk))
    return out


def clustered_corpus(sizes: Sequence[int], queries: int, *, seed: int) -> Corpus:
    """Clustered 384-d vectors up to `max(sizes)`; per size, queries near its stored points."""
    size = max(sizes)
    vectors = clustered_vectors(size, seed=seed, steps=sizes)
    prefix = f"clustered-{seed}"
    texts = [f"{prefix}-r{i}" for i in range(size)]
    per_size = {
        s: (
            [f"{prefix}-q{s}-{i}" for i in range(queries)],
            clustered_queries(vectors, s, queries, seed=seed),
        )
        for s in sorted(set(sizes))
    }
    return Corpus(
        "clustered",
        texts,
        vectors,
        per_size,
        embedder_name=f"bench-clustered-v1-{CLUSTERED_DIMENSION}-s{seed}",
    )


class PrecomputedEmbedder:
    """Serves a corpus's vectors to a store, under the corpus embedder's name and dimension.

    Satisfies both embedder protocols: `embed` takes one text (one vector back) or a
    sequence of texts (one vector each), and `embed_many` takes a sequence. A text outside
    the corpus is embedded by the corpus's fallback (`HashEmbedder` for the text corpus);
    the clustered corpus has none and refuses it with `InvalidInput`.
    """

    def __init__(self, corpus: Corpus) -> None:
        self._corpus = corpus

    @property
    def dim(self) -> int:
        """Length of every vector."""
        return self._corpus.dimension

    @property
    def name(self) -> str:
        """The corpus embedder's identity."""
        return self._corpus.embedder_name

    async def embed(self, text: str) -> list[float]:
        """The vector of one text."""
        return self._one(text)

    async def embed_many(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, in order."""
        return [self._one(t) for t in texts]

    def _one(self, text: str) -> list[float]:
        vector = self._corpus.vector_of(text)
        if vector is None:
            raise InvalidInput(
                f"{text[:40]!r} is not a record or query of the {self._corpus.name} corpus"
            )
        return vector
