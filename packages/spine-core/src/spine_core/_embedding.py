"""Embedding: `HashEmbedder` and the one helper every store uses to embed a batch.

`HashEmbedder` is fast, deterministic and dependency-free; `embed_texts` embeds with any
`Embedder` and checks what it returns.
"""

from __future__ import annotations

import asyncio
import math
import operator
import re
import zlib
from collections.abc import Sequence
from typing import Any

from ._validation import validate_vector
from .errors import ConfigError, InvalidInput

__all__ = [
    "EMBED_CONCURRENCY",
    "HashEmbedder",
    "cosine",
    "embed_texts",
    "embedder_dimension",
    "embedder_name",
]

EMBED_CONCURRENCY = 8
"""How many `embed(text)` calls run at once for an embedder without `embed_many`."""

_WORD = re.compile(r"\w+", re.UNICODE)
_findall = _WORD.findall


class HashEmbedder:
    """Feature-hashing embedder: words and character trigrams hashed into `dim` buckets.

    Texts sharing words score high, texts sharing word fragments score a little, identical
    texts score 1. It is deterministic across processes and machines (CRC-32, not `hash()`),
    so vectors written by one process are comparable with queries from another. It knows
    nothing of meaning; use a model-backed `Embedder` for real semantic recall.
    """

    _CACHE_LIMIT = 262_144

    def __init__(self, dim: int = 256, *, dimension: int | None = None) -> None:
        if dimension is not None:  # the keyword Spine used before spinekit's `dim`
            dim = dimension
        if isinstance(dim, bool) or not isinstance(dim, int) or not 8 <= dim <= 65536:
            raise ConfigError(f"HashEmbedder dim must be an int in [8, 65536], got {dim!r}")
        self._dimension = dim
        self._cache: dict[str, tuple[tuple[int, float], ...]] = {}

    @property
    def dim(self) -> int:
        """Length of every vector."""
        return self._dimension

    @property
    def dimension(self) -> int:
        """Alias of `dim`."""
        return self._dimension

    @property
    def name(self) -> str:
        """Identity recorded by stores: the algorithm version and dimension."""
        return f"hash-v1-{self._dimension}"

    def __repr__(self) -> str:
        return f"HashEmbedder(dim={self._dimension})"

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

    async def embed(self, text: str) -> list[float]:
        """The unit vector of `text`."""
        return self.embed_one(text)

    async def embed_many(self, texts: Sequence[str]) -> list[list[float]]:
        """One unit vector per text, in order (the batch fast path stores use)."""
        if isinstance(texts, str):
            raise InvalidInput("embed_many takes a sequence of str, not a single str")
        embed_one = self.embed_one
        return [embed_one(t) for t in texts]


def embedder_name(embedder: object) -> str:
    """The identity stores record for `embedder`: its `name`, else its class's qualified name."""
    name = getattr(embedder, "name", None)
    if isinstance(name, str) and name:
        return name
    cls = type(embedder)
    return f"{cls.__module__}.{cls.__qualname__}"


def embedder_dimension(embedder: object) -> int | None:
    """The vector length `embedder` declares (`dim`, else `dimension`), or None if it does not."""
    for attr in ("dim", "dimension"):
        value = getattr(embedder, attr, None)
        if value is None or callable(value):
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ConfigError(
                f"embedder {embedder_name(embedder)!r} declares {attr}={value!r:.40}; "
                "it must be a positive int (or absent)"
            )
        return value
    return None


def _as_vector(value: object, index: int, name: str) -> Sequence[float]:
    if isinstance(value, list | tuple):
        return value
    tolist = getattr(value, "tolist", None)  # numpy arrays and the like
    if callable(tolist):
        listed = tolist()
        if isinstance(listed, list):
            return listed
    raise InvalidInput(
        f"embedder {name!r} returned {type(value).__name__} for text {index}; "
        "expected a list of floats"
    )


async def embed_texts(
    embedder: Any,
    texts: Sequence[str],
    *,
    dim: int | None = None,
    concurrency: int = EMBED_CONCURRENCY,
) -> list[list[float]]:
    """Embed `texts` with any `Embedder`; one checked unit vector per text, in order.

    Uses the embedder's `embed_many` when it has one, else `embed` per text with at most
    `concurrency` calls at once. Every vector must be a list of finite numbers, not all
    zero, and all must have one length (`dim` when given); anything else raises
    `InvalidInput` naming the embedder.
    """
    name = embedder_name(embedder)
    if not texts:
        return []
    many = getattr(embedder, "embed_many", None)
    if callable(many):
        raw = await many(list(texts))
        if not isinstance(raw, list | tuple):
            raise InvalidInput(
                f"embedder {name!r} embed_many returned {type(raw).__name__}, expected a list"
            )
    elif len(texts) == 1:
        raw = [await embedder.embed(texts[0])]
    else:
        gate = asyncio.Semaphore(concurrency)

        async def one(text: str) -> Any:
            async with gate:
                return await embedder.embed(text)

        raw = await asyncio.gather(*(one(t) for t in texts))
    if len(raw) != len(texts):
        raise InvalidInput(f"embedder {name!r} returned {len(raw)} vectors for {len(texts)} texts")
    vectors = [_as_vector(v, i, name) for i, v in enumerate(raw)]
    want = dim if dim is not None else len(vectors[0])
    if want == 0:
        raise InvalidInput(f"embedder {name!r} returned an empty vector")
    out: list[list[float]] = []
    for i, vector in enumerate(vectors):
        if len(vector) != want:
            raise InvalidInput(
                f"embedder {name!r} returned a {len(vector)}-d vector for text {i}, "
                f"expected {want}-d like its other vectors"
            )
        try:
            out.append(validate_vector(vector, want))
        except InvalidInput as exc:
            raise InvalidInput(f"embedder {name!r}, text {i}: {exc}") from None
    return out


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
