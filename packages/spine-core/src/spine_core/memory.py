"""Memory vocabulary under spinekit's module name: records, hits, `Embedder`, `Memory`."""

from __future__ import annotations

from ._protocols import Embedder, Memory
from ._records import MemoryHit, MemoryRecord

__all__ = ["Embedder", "Memory", "MemoryHit", "MemoryRecord"]
