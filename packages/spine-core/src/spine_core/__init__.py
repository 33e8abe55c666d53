"""Spine storage plane SPI: protocols, types, errors, registry and reference stores.

from spine_core import State, open_checkpoint

async with open_checkpoint("sqlite:///agent.db") as store:
    await store.put(State(session_id="s1"))
"""

from .base import CheckpointStoreBase, MemoryStoreBase, PreparedRecord, StoreBase
from .buffer import BufferMemory
from .capabilities import (
    CheckpointCapabilities,
    Health,
    Kind,
    MemoryCapabilities,
    StoreInfo,
    capabilities_of,
)
from .codec import dump_state, load_state
from .config import SpineConfig, load_config
from .embedders import FastEmbedEmbedder, OpenAIEmbedder, SentenceTransformerEmbedder
from .embedding import HashEmbedder, cosine
from .errors import (
    BackendUnavailable,
    ConfigError,
    ConflictError,
    DataError,
    InvalidInput,
    SpineError,
    UnsupportedCapability,
)
from .messages import Message, Role, ToolCall, Usage, image_part, text_part
from .migrations import migrate, register_migration
from .opening import open_checkpoint, open_memory
from .protocols import (
    BatchEmbedder,
    BatchingMemory,
    CheckpointStore,
    Embedder,
    FilterableMemory,
    ForgettingMemory,
    ListableCheckpointStore,
    ManagedCheckpointStore,
    ManagedMemory,
    Memory,
    PrunableCheckpointStore,
    PrunableMemory,
    RecordLookupMemory,
    RevisionedCheckpointStore,
    SessionInfo,
    SessionPage,
    TTLCheckpointStore,
)
from .records import MemoryHit, MemoryItem, MemoryRecord
from .reference import InMemoryCheckpointStore, InMemoryVectorMemory
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
from .spi import SPI_VERSION
from .state import STATE_VERSION, PendingApproval, RunStatus, State

__all__ = [
    "SPI_VERSION",
    "STATE_VERSION",
    "BackendUnavailable",
    "BatchEmbedder",
    "BatchingMemory",
    "BufferMemory",
    "CheckpointCapabilities",
    "CheckpointStore",
    "CheckpointStoreBase",
    "ConfigError",
    "ConflictError",
    "DataError",
    "Embedder",
    "FastEmbedEmbedder",
    "FilterableMemory",
    "ForgettingMemory",
    "HashEmbedder",
    "Health",
    "InMemoryCheckpointStore",
    "InMemoryVectorMemory",
    "InvalidInput",
    "Kind",
    "ListableCheckpointStore",
    "ManagedCheckpointStore",
    "ManagedMemory",
    "Memory",
    "MemoryCapabilities",
    "MemoryHit",
    "MemoryItem",
    "MemoryRecord",
    "MemoryStoreBase",
    "Message",
    "OpenAIEmbedder",
    "PendingApproval",
    "PluginInfo",
    "PreparedRecord",
    "PrunableCheckpointStore",
    "PrunableMemory",
    "RecordLookupMemory",
    "RevisionedCheckpointStore",
    "Role",
    "RunStatus",
    "SentenceTransformerEmbedder",
    "SessionInfo",
    "SessionPage",
    "SpineConfig",
    "SpineError",
    "State",
    "StoreBase",
    "StoreInfo",
    "TTLCheckpointStore",
    "ToolCall",
    "UnsupportedCapability",
    "Usage",
    "capabilities_of",
    "cosine",
    "dump_state",
    "image_part",
    "list_checkpoints",
    "list_memories",
    "list_plugins",
    "load_config",
    "load_state",
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
