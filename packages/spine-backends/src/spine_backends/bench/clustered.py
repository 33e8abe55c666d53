"""A seeded clustered-vector corpus: the data on which a shallow HNSW graph misses neighbours.

Gaussian clusters of 100 unit vectors in 384 dimensions. A member is its cluster's (unit)
centre plus isotropic noise 1.75 times as long, normalized, so the members of a cluster are
near-ties: about equally similar to each other (cosine ≈ 0.25) and to a query. Queries are
stored points plus noise as long as the point (cosine ≈ 0.71 to it). The nearest neighbour is
easy; the other nine of the top ten are a close race among the ~99 cluster mates, which an
index built or searched too shallowly loses. The rest of the true top ten are chance outliers
of other clusters, and their share grows with the corpus: the true top ten hold 98% cluster
mates at 20k records, 94% at 100k, 88% at 300k and 81% at 1M. Centres are random, so nothing
in the data leads a graph search from one cluster towards another. Every cluster is drawn from
its own seeded generator, so a corpus is the same whatever sizes are asked for, and the
records up to each requested size form whole clusters (shuffled within each step, so a store
is not fed one cluster at a time).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = [
    "CLUSTER_SIZE",
    "DIMENSION",
    "MEMBER_NOISE",
    "QUERY_NOISE",
    "clustered_queries",
    "clustered_vectors",
]

DIMENSION = 384
CLUSTER_SIZE = 100
MEMBER_NOISE = 1.75
"""Norm of a member's offset from its (unit) centre, before normalization."""
QUERY_NOISE = 1.0
"""Norm of a query's offset from the stored point it is drawn near, before normalization."""

_STREAM_CLUSTER = 1
_STREAM_ORDER = 2
_STREAM_QUERIES = 3


def _unit_rows(matrix: npt.NDArray[np.float64]) -> npt.NDArray[np.float32]:
    import numpy as np

    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    unit: npt.NDArray[np.float32] = (matrix / norms).astype(np.float32)
    return unit


def _cluster(seed: int, index: int, dimension: int) -> npt.NDArray[np.float64]:
    """The CLUSTER_SIZE unnormalized members of cluster `index`."""
    import numpy as np

    rng = np.random.default_rng([seed, _STREAM_CLUSTER, index])
    centre = rng.standard_normal(dimension)
    centre /= np.linalg.norm(centre)
    # N(0, 1/d) per coordinate: the offset's norm is MEMBER_NOISE on average.
    noise = rng.standard_normal((CLUSTER_SIZE, dimension)) * (MEMBER_NOISE / dimension**0.5)
    return centre + noise  # type: ignore[no-any-return]


def clustered_vectors(
    size: int, *, seed: int, steps: Sequence[int] = (), dimension: int = DIMENSION
) -> npt.NDArray[np.float32]:
    """`size` unit vectors (float32, one per row), deterministic for (seed, steps).

    `steps` are the sizes a store will be measured at: rows are shuffled within each step,
    never across, so the first `step` rows are the same whole clusters for any `steps`.
    """
    import numpy as np

    if size <= 0:
        raise ValueError(f"size must be positive, got {size}")
    clusters = -(-size // CLUSTER_SIZE)
    out = np.empty((clusters * CLUSTER_SIZE, dimension), dtype=np.float32)
    for c in range(clusters):
        out[c * CLUSTER_SIZE : (c + 1) * CLUSTER_SIZE] = _unit_rows(_cluster(seed, c, dimension))
    out = out[:size]
    bounds = sorted({s for s in steps if 0 < s < size} | {size})
    start = 0
    for end in bounds:
        rng = np.random.default_rng([seed, _STREAM_ORDER, start, end])
        out[start:end] = out[start:end][rng.permutation(end - start)]
        start = end
    return out


def clustered_queries(
    vectors: npt.NDArray[np.float32], size: int, count: int, *, seed: int
) -> npt.NDArray[np.float32]:
    """`count` unit queries, each near a random one of the first `size` rows of `vectors`."""
    import numpy as np

    rng = np.random.default_rng([seed, _STREAM_QUERIES, size])
    near = rng.integers(0, size, count)
    dimension = vectors.shape[1]
    noise = rng.standard_normal((count, dimension)) * (QUERY_NOISE / dimension**0.5)
    return _unit_rows(vectors[near].astype(np.float64) + noise)
