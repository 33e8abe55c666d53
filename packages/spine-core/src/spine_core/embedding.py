"""`HashEmbedder`: a fast, deterministic, dependency-free embedder for tests and defaults."""

from __future__ import annotations

import math
import operator
import re
import zlib
from collections.abc import Sequence

from .errors import ConfigError, InvalidInput

__all__ = ["HashEmbedder", "cosine"]

_WORD = re.compile(r"\w+", re.UNICODE)
_findall = _WORD.findall


class HashEmbedder:
    """Feature-hashing embedder: words and character trigrams hashed into `dimension` buckets.

    Texts sharing words score high, texts sharing word fragments score a little, identical
    texts score 1. It is deterministic across processes and machines (CRC-32, not `hash()`),
    so vectors written by one process are comparable with queries from another. It knows
    nothing of meaning; use a model-backed `Embedder` for real semantic recall.
    """

    _CACHE_LIMIT = 262_144

    def __init__(self, dimension: int = 256) -> None:
        if (
            isinstance(dimension, bool)
            or not isinstance(dimension, int)
            or not 8 <= dimension <= 65536
        ):
            raise ConfigError(
                f"HashEmbedder dimension must be an int in [8, 65536], got {dimension!r}"
            )
        self._dimension = dimension
        self._cache: dict[str, tuple[tuple[int, float], ...]] = {}

    @property
    def dimension(self) -> int:
        """Length of every vector."""
        return self._dimension

    @property
    def name(self) -> str:
        """Identity recorded by stores: the algorithm version and dimension."""
        return f"hash-v1-{self._dimension}"

    def __repr__(self) -> str:
        return f"HashEmbedder(dimension={self._dimension})"

    def _word_features(self, word: str) -> tuple[tuple[int, float], ...]:
        # A word contributes itself (weight 1) and its padded character trigrams (0.35),
        # pre-summed per bucket and cached: corpora reuse a small vocabulary.
        acc: dict[int, float] = {}
        padded = f" {word} "
        features = [("w:" + word, 1.0)] + [
            (padded[i : i + 3], 0.35) for i in range(len(padded) - 2)
        ]
        for feature, weight in features:
            h = zlib.crc32(feature.encode("utf-8"))
            bucket = h % self._dimension
            acc[bucket] = acc.get(bucket, 0.0) + (weight if h & 0x80000000 else -weight)
        entry = tuple(acc.items())
        if len(self._cache) >= self._CACHE_LIMIT:
            self._cache.clear()
        self._cache[word] = entry
        return entry

    def embed_one(self, text: str) -> list[float]:
        """The unit vector of one text (synchronous)."""
        if not isinstance(text, str):
            raise InvalidInput(f"can only embed str, got {type(text).__name__}")
        vector = [0.0] * self._dimension
        cache = self._cache
        words = _findall(text.lower()) or ([text.strip()] if text.strip() else [])
        for word in words:
            for bucket, w in cache.get(word) or self._word_features(word):
                vector[bucket] += w
        norm = math.hypot(*vector)
        if norm == 0.0:
            return vector
        inv = 1.0 / norm
        return [x * inv for x in vector]

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One unit vector per text."""
        return [self.embed_one(t) for t in texts]


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity of two vectors, clamped to [-1, 1]; 0 when either is zero."""
    if len(a) != len(b):
        raise InvalidInput(f"vectors differ in dimension: {len(a)} != {len(b)}")
    dot = float(sum(map(operator.mul, a, b)))
    na = math.hypot(*a)
    nb = math.hypot(*b)
    if na == 0.0 or nb == 0.0:
        return 0.0
    return max(-1.0, min(1.0, dot / (na * nb)))
