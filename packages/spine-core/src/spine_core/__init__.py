"""Spine storage plane, the user's face: types, `open_*`, registry, errors, embedders.

Reference stores too. Backend authors import from `spine_core.spi` instead.

from spine_core import State, open_checkpoint

async with open_checkpoint("sqlite:///agent.db") as store:
    await store.put(State(session_id="s1"))
"""

# `X as X`: implementer names that lived here before `spine_core.spi`. Still importable, so
# no code breaks, but not part of this face (`__all__`, `import *`, the umbrella).
from ._base import CheckpointStoreBase as CheckpointStoreBase
from ._base import MemoryStoreBase as MemoryStoreBase
from ._base import PreparedRecord as PreparedRecord
from ._base import StoreBase as StoreBase
from ._buffer import BufferMemory
from ._capabilities import (
    Capability,
    CheckpointCapabilities,
    Health,
    Kind,
    MemoryCapabilities,
    StoreInfo,
    capabilities_of,
)
from ._codec import dump_state as dump_state
from ._codec import load_state as load_state
from ._config import SpineConfig, load_config
from ._copy import CopyProgress, CopyReport, KindReport, ProgressCallback, copy
from ._embedding import HashEmbedder, cosine
from ._migrations import migrate, register_migration
from ._opening import open_checkpoint, open_memory
from ._protocols import (
    BatchEmbedder,
    CheckpointStore,
    Embedder,
    ExportPage,
    ManagedCheckpointStore,
    ManagedMemory,
    Memory,
    SessionExport,
    SessionInfo,
    SessionPage,
)
from ._records import MemoryHit, MemoryItem, MemoryRecord, RecordExport
from ._reference import InMemoryCheckpointStore, InMemoryVectorMemory
from ._spi_version import SPI_VERSION
from .embedders import FastEmbedEmbedder, OpenAIEmbedder, SentenceTransformerEmbedder
from .errors import (
    BackendUnavailable,
    ConfigError,
    ConflictError,
    DataError,
    InvalidInput,
    SpineError,
    UnsupportedCapability,
    UnsupportedServer,
)
from .messages import Message, Role, ToolCall, Usage, image_part, text_part
from .registry import (
    PluginInfo,
    list_checkpoints,
    list_memories,
    list_plugins,
    register_checkpoint,
    register_memory,
    resolve_checkpoint,
    resolve_memory,
)
from .state import STATE_VERSION, PendingApproval, RunStatus, State

__all__ = [
    "SPI_VERSION",
    "STATE_VERSION",
    "BackendUnavailable",
    "BatchEmbedder",
    "BufferMemory",
    "Capability",
    "CheckpointCapabilities",
    "CheckpointStore",
    "ConfigError",
    "ConflictError",
    "CopyProgress",
    "CopyReport",
    "DataError",
    "Embedder",
    "ExportPage",
    "FastEmbedEmbedder",
    "HashEmbedder",
    "Health",
    "InMemoryCheckpointStore",
    "InMemoryVectorMemory",
    "InvalidInput",
    "Kind",
    "KindReport",
    "ManagedCheckpointStore",
    "ManagedMemory",
    "Memory",
    "MemoryCapabilities",
    "MemoryHit",
    "MemoryItem",
    "MemoryRecord",
    "Message",
    "OpenAIEmbedder",
    "PendingApproval",
    "PluginInfo",
    "ProgressCallback",
    "RecordExport",
    "Role",
    "RunStatus",
    "SentenceTransformerEmbedder",
    "SessionExport",
    "SessionInfo",
    "SessionPage",
    "SpineConfig",
    "SpineError",
    "State",
    "StoreInfo",
    "ToolCall",
    "UnsupportedCapability",
    "UnsupportedServer",
    "Usage",
    "capabilities_of",
    "copy",
    "cosine",
    "image_part",
    "list_checkpoints",
    "list_memories",
    "list_plugins",
    "load_config",
    "migrate",
    "open_checkpoint",
    "open_memory",
    "register_checkpoint",
    "register_memory",
    "register_migration",
    "resolve_checkpoint",
    "resolve_memory",
    "text_part",
]
