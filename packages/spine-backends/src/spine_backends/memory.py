"""spinekit's `spine_backends.memory`: the in-process memories, vector search and recency buffer."""

from __future__ import annotations

from spine_core import BufferMemory, InMemoryVectorMemory

from ._exports import ensure_registered

__all__ = ["BufferMemory", "InMemoryVectorMemory", "register"]


def register() -> None:
    """Make sure `vector` and `buffer` are registered (Spine does it by entry point)."""
    ensure_registered(("memory", "vector"), ("memory", "buffer"))
