"""The exact-search index: one namespace's vectors as a float32 matrix, kept in memory.

Lives on the store's worker thread (no locks). Rows are addressed by `seq`, the table's
integer primary key. Deletions leave tombstones that a compaction removes once they are a
quarter of the rows, so forgetting one record never copies the whole matrix.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from spine_core.errors import DataError

__all__ = ["BLOB_DTYPE", "VectorCache"]

BLOB_DTYPE = np.dtype("<f4")
"""How vectors are stored in the `vector` BLOB: little-endian float32, whatever the machine."""

_NO_SESSION = -1
_MIN_CAPACITY = 1024
_SMALL_PRODUCT = 1 << 22
"""Matrices up to this many floats (16 MB) are multiplied without BLAS; see `_scores`."""


def _scores(
    matrix: npt.NDArray[np.float32], query: npt.NDArray[np.float32]
) -> npt.NDArray[np.float32]:
    """`matrix @ query`, by the fastest route for its size.

    A multi-threaded BLAS wakes its threads for every matrix-vector product. For small
    products that costs more than the product itself: 10k x 256 took ~5 ms p50 through
    OpenBLAS on a busy 2-core machine, against ~0.5 ms in numpy's own single-threaded
    einsum loop. Large products are memory-bound, and there BLAS wins (100k x 256: ~20 ms
    against ~30 ms). Both release the GIL.
    """
    if matrix.size <= _SMALL_PRODUCT:
        small: npt.NDArray[np.float32] = np.einsum("ij,j->i", matrix, query)
        return small
    return matrix @ query


class VectorCache:
    """Vectors, sequence numbers and session codes of the live rows of one namespace."""

    def __init__(self, dimension: int) -> None:
        self.dimension = dimension
        self.version: tuple[int, int] | None = None
        """The namespace's (writes, deletes) counters this cache reflects; None: not loaded."""
        self._reset()

    def _reset(self) -> None:
        self.max_seq = 0
        """The highest `seq` ever added: newer rows (seq is AUTOINCREMENT) are not cached."""
        self.n = 0
        self.dead = 0
        self.matrix: npt.NDArray[np.float32] = np.empty((_MIN_CAPACITY, self.dimension), np.float32)
        self.seqs: npt.NDArray[np.int64] = np.empty(_MIN_CAPACITY, np.int64)
        self.codes: npt.NDArray[np.int32] = np.empty(_MIN_CAPACITY, np.int32)
        self.alive: npt.NDArray[np.bool_] = np.empty(_MIN_CAPACITY, np.bool_)
        self.position: dict[int, int] = {}
        self.session_codes: dict[str, int] = {}

    def sync(self, conn: sqlite3.Connection, namespace: str, version: tuple[int, int]) -> None:
        """Catch up with the database at `version` (call inside a read transaction).

        Only inserts since the last sync (the deletes counter is unchanged): read just the
        rows with a higher `seq`. Anything was deleted: reload the namespace.
        """
        if version == self.version:
            return
        if self.version is None or version[1] != self.version[1]:
            self._reset()
        self.version = None  # a load that fails (corrupt row) must not look current
        self._load(conn, namespace)
        self.version = version

    def _load(self, conn: sqlite3.Connection, namespace: str) -> None:
        # `seq > ?` first: a range scan of the table in rowid order, no sort, no index hop.
        rows = conn.execute(
            "SELECT seq, session_id, vector FROM spine_memory WHERE seq > ? AND namespace = ?",
            (self.max_seq, namespace),
        ).fetchall()
        if not rows:
            return
        seqs, sessions, blobs = zip(*rows, strict=True)
        del rows
        width = self.dimension * BLOB_DTYPE.itemsize
        for seq, blob in zip(seqs, blobs, strict=True):
            if not isinstance(blob, bytes) or len(blob) != width:
                raise DataError(
                    f"memory namespace {namespace!r}: the vector of row seq={seq} is not "
                    f"{self.dimension} float32 values"
                )
        matrix = np.frombuffer(b"".join(blobs), dtype=BLOB_DTYPE)
        self.append(seqs, sessions, matrix.reshape(len(seqs), self.dimension))

    def _code(self, session_id: str | None) -> int:
        if session_id is None:
            return _NO_SESSION
        code = self.session_codes.get(session_id)
        if code is None:
            code = self.session_codes[session_id] = len(self.session_codes)
        return code

    def _grow(self, needed: int) -> None:
        capacity = len(self.seqs)
        if needed <= capacity:
            return
        # 25% headroom: amortized O(1) appends without doubling a 100 MB matrix.
        capacity = needed + needed // 4
        n = self.n
        matrix = np.empty((capacity, self.dimension), np.float32)
        matrix[:n] = self.matrix[:n]
        self.matrix = matrix
        for name in ("seqs", "codes", "alive"):
            old = getattr(self, name)
            new = np.empty(capacity, old.dtype)
            new[:n] = old[:n]
            setattr(self, name, new)

    def append(
        self,
        seqs: Sequence[int],
        sessions: Sequence[str | None],
        vectors: npt.NDArray[np.float32],
    ) -> None:
        """Add rows (loaded, or just committed by this store), in ascending `seq` order."""
        m = len(seqs)
        start, end = self.n, self.n + m
        self._grow(end)
        self.matrix[start:end] = vectors
        self.seqs[start:end] = seqs
        self.codes[start:end] = [self._code(s) for s in sessions]
        self.alive[start:end] = True
        self.position.update(zip(seqs, range(start, end), strict=True))
        self.n = end
        self.max_seq = max(self.max_seq, int(seqs[-1]))

    def remove(self, seqs: Iterable[int]) -> None:
        """Drop rows this store just deleted."""
        for seq in seqs:
            pos = self.position.pop(seq, None)
            if pos is not None:
                self.alive[pos] = False
                self.dead += 1
        if self.dead > max(_MIN_CAPACITY, self.n // 4):
            self._compact()

    def _compact(self) -> None:
        keep = np.flatnonzero(self.alive[: self.n])
        m = len(keep)
        self.matrix[:m] = self.matrix[keep]
        self.seqs[:m] = self.seqs[keep]
        self.codes[:m] = self.codes[keep]
        self.alive[:m] = True
        self.n, self.dead = m, 0
        self.position = {int(seq): pos for pos, seq in enumerate(self.seqs[:m].tolist())}

    def positions(self, seqs: Iterable[int]) -> list[int]:
        """Positions of the given rows that are cached and alive."""
        get = self.position.get
        return [p for p in map(get, seqs) if p is not None]

    def top_k(
        self,
        query: npt.NDArray[np.float32],
        k: int,
        session_id: str | None,
        allowed: list[int] | None,
    ) -> list[tuple[int, float]]:
        """(seq, cosine) of the `k` best rows, best first; ties go to the older row.

        `allowed` restricts the search to those positions (a metadata filter's matches).
        """
        n = self.n
        mask: npt.NDArray[np.bool_] | None = None
        if self.dead:
            mask = self.alive[:n].copy()
        if session_id is not None:
            code = self.session_codes.get(session_id)
            if code is None:
                return []
            in_session = self.codes[:n] == code
            mask = in_session if mask is None else mask & in_session
        if allowed is not None:
            only = np.zeros(n, np.bool_)
            only[allowed] = True
            mask = only if mask is None else mask & only
        if mask is None:
            rows = None
            scores = _scores(self.matrix[:n], query)
        else:
            rows = np.flatnonzero(mask)
            # Few candidates: multiply only their rows; many: one pass over the matrix is
            # cheaper than gathering them.
            if len(rows) * 8 < n:
                scores = _scores(self.matrix[rows], query)
            else:
                scores = _scores(self.matrix[:n], query)[rows]
        total = len(scores)
        if total == 0:
            return []
        if k < total:
            kth = np.partition(scores, total - k)[total - k]
            # Every row tied with the k-th score competes, so ties resolve by age below.
            picked = np.flatnonzero(scores >= kth)
        else:
            picked = np.arange(total)
        seqs = self.seqs[picked if rows is None else rows[picked]]
        picked_scores = scores[picked]
        order = np.lexsort((seqs, -picked_scores))[:k]
        return [
            (int(seq), min(1.0, max(-1.0, float(score))))
            for seq, score in zip(seqs[order].tolist(), picked_scores[order].tolist(), strict=True)
        ]
