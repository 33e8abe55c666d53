"""Checkpoint vocabulary under spinekit's module name: the protocol and the in-memory store."""

from __future__ import annotations

from ._protocols import CheckpointStore
from ._reference import InMemoryCheckpointStore

__all__ = ["CheckpointStore", "InMemoryCheckpointStore"]
