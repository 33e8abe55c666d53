"""Everything a backend author needs, in one module: `from spine_core.spi import …`.

`spine_core` itself is the user's face (types, `open_*`, the registry, errors, embedders,
reference stores); this is the implementer's: the store bases and their hooks, the state
codec, input validation, options models, the retry helper, URL helpers, capability
descriptors, the backend table and the SPI version rule.
"""

from __future__ import annotations

from . import base as _base
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
from ._options import (
    DefaultTTL,
    Namespace,
    StoreOptions,
    option_names,
    parse_options,
    query_options,
    refuse_unknown_names,
)
from ._spi_version import SPI_VERSION, check_spi_version
from .base import *  # noqa: F403 - the bases and their hook types, whatever base.py exports
from .capabilities import (
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
from .codec import dump_state, load_metadata, load_state
from .lazy import lazy_exports
from .protocols import Embedder, SessionInfo, SessionPage
from .redact import redact_secrets, redact_text, redact_url
from .registry import ENTRY_POINT_GROUP
from .retry import retry_transient
from .urls import embedded_path, is_url, url_options
from .validation import (
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
    "DefaultTTL",
    "Embedder",
    "Health",
    "Kind",
    "MemoryCapabilities",
    "Namespace",
    "SessionInfo",
    "SessionPage",
    "StoreInfo",
    "StoreOptions",
    "Topology",
    "backend_for_scheme",
    "capabilities_of",
    "check_json_depth",
    "check_spi_version",
    "dump_state",
    "embedded_path",
    "encode_metadata",
    "install_hint",
    "is_url",
    "known_kinds",
    "known_schemes",
    "lazy_classes",
    "lazy_exports",
    "load_metadata",
    "load_state",
    "option_names",
    "parse_options",
    "plugin_schemes",
    "query_options",
    "redact_secrets",
    "redact_text",
    "redact_url",
    "refuse_unknown_names",
    "retry_transient",
    "scheme_storage",
    "url_options",
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
