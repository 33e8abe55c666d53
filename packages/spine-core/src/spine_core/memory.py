"""Memory vocabulary under spinekit's module name: records, hits, `Embedder`, `Memory`."""

from __future__ import annotations

from .protocols import Embedder, Memory
from .records import MemoryHit, MemoryRecord

__all__ = ["Embedder", "Memory", "MemoryHit", "MemoryRecord"]
