"""Everything a backend author needs, in one module: `from spine_core.spi import …`.

`spine_core` itself is the user's face (types, `open_*`, the registry, errors, embedders,
reference stores); this is the implementer's: the store bases and their hooks, the state
codec, input validation, the retry helper, URL helpers, capability descriptors, the backend
table and the SPI version rule.
"""

from __future__ import annotations

from . import _base as _base
from ._backends import (
    BACKENDS,
    SCHEME_ENTRY_POINT_GROUP,
    Backend,
    backend_for_scheme,
    install_hint,
    known_kinds,
    known_schemes,
    lazy_classes,
    plugin_schemes,
    scheme_storage,
)
from ._base import *  # noqa: F403 - the bases and their hook types, whatever base.py exports
from ._capabilities import (
    CHECKPOINT_OPERATIONS,
    CHECKPOINT_OPTIONAL,
    MEMORY_OPERATIONS,
    MEMORY_OPTIONAL,
    PROPERTIES,
    Capability,
    CheckpointCapabilities,
    Health,
    Kind,
    MemoryCapabilities,
    StoreInfo,
    Topology,
    capabilities_of,
)
from ._codec import dump_state, load_metadata, load_state
from ._embedding import HashEmbedder
from ._lazy import lazy_exports
from ._protocols import Embedder, SessionInfo, SessionPage
from ._records import (
    MemoryHit,
    MemoryItem,
    MemoryRecord,
    epoch_seconds,
    from_epoch_us,
    matches_filter,
    new_record_id,
    now_ts,
    to_epoch_us,
    ts_datetime,
    ts_from_us,
    utc_now,
)
from ._redact import redact_secrets, redact_text, redact_url
from ._retry import retry_transient
from ._spi_version import SPI_VERSION, check_spi_version
from ._urls import embedded_path, is_url, url_options
from ._validation import (
    MAX_CONTENT_CHARS,
    MAX_JSON_DEPTH,
    MAX_SESSION_ID_CHARS,
    MAX_TTL_SECONDS,
    check_json_depth,
    encode_metadata,
    validate_before,
    validate_content,
    validate_embedder,
    validate_filter,
    validate_items,
    validate_k,
    validate_limit,
    validate_namespace,
    validate_optional_session_id,
    validate_optional_tenant_id,
    validate_record_id,
    validate_session_id,
    validate_tenant_id,
    validate_ttl,
    validate_vector,
)
from .registry import ENTRY_POINT_GROUP

__all__ = [
    "BACKENDS",
    "CHECKPOINT_OPERATIONS",
    "CHECKPOINT_OPTIONAL",
    "ENTRY_POINT_GROUP",
    "MAX_CONTENT_CHARS",
    "MAX_JSON_DEPTH",
    "MAX_SESSION_ID_CHARS",
    "MAX_TTL_SECONDS",
    "MEMORY_OPERATIONS",
    "MEMORY_OPTIONAL",
    "PROPERTIES",
    "SCHEME_ENTRY_POINT_GROUP",
    "SPI_VERSION",
    "Backend",
    "Capability",
    "CheckpointCapabilities",
    "Embedder",
    "HashEmbedder",
    "Health",
    "Kind",
    "MemoryCapabilities",
    "MemoryHit",
    "MemoryItem",
    "MemoryRecord",
    "SessionInfo",
    "SessionPage",
    "StoreInfo",
    "Topology",
    "backend_for_scheme",
    "capabilities_of",
    "check_json_depth",
    "check_spi_version",
    "dump_state",
    "embedded_path",
    "encode_metadata",
    "epoch_seconds",
    "from_epoch_us",
    "install_hint",
    "is_url",
    "known_kinds",
    "known_schemes",
    "lazy_classes",
    "lazy_exports",
    "load_metadata",
    "load_state",
    "matches_filter",
    "new_record_id",
    "now_ts",
    "plugin_schemes",
    "redact_secrets",
    "redact_text",
    "redact_url",
    "retry_transient",
    "scheme_storage",
    "to_epoch_us",
    "ts_datetime",
    "ts_from_us",
    "url_options",
    "utc_now",
    "validate_before",
    "validate_content",
    "validate_embedder",
    "validate_filter",
    "validate_items",
    "validate_k",
    "validate_limit",
    "validate_namespace",
    "validate_optional_session_id",
    "validate_optional_tenant_id",
    "validate_record_id",
    "validate_session_id",
    "validate_tenant_id",
    "validate_ttl",
    "validate_vector",
]
__all__ += _base.__all__
