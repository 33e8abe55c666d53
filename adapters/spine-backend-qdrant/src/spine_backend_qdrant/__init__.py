"""Spine semantic memory on Qdrant: a server, or qdrant-client's local mode.

    from spine_core import open_memory

    async with open_memory("qdrant+local:///agent-memory") as memory:
        await memory.save("the user prefers tea", session_id="s1")

Importing this package does not import qdrant-client; `QdrantMemory` loads it on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from spine_core.spi import lazy_exports

if TYPE_CHECKING:
    from .memory import QdrantMemory

__all__ = ["QdrantMemory"]

# The store classes (and their drivers) load on first access.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "QdrantMemory": "memory",
    },
)
