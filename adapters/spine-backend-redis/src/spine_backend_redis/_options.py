"""The Redis stores' options models: what a URL query or a keyword may set.

Driver options (redis-py's own: `max_connections`, `health_check_interval`, TLS files, …)
are deliberately not spelled here: they pass through, as the one explicit pass-through, in
the URL query or as extra keywords, and are checked by name against redis-py's signatures
when the store is built (`_client.Connection`). Declaring a copy of redis-py's option list
would drift from the installed driver.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, PositiveInt, StringConstraints

from spine_core.spi import DefaultTTL, Namespace, StoreOptions

from ._keys import SPINEKIT_PREFIX

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_BUILD_EF",
    "DEFAULT_EXACT_SESSION_LIMIT",
    "DEFAULT_FILTER_EF",
    "DEFAULT_OVERSAMPLE",
    "DEFAULT_SCAN_SHARE",
    "DEFAULT_SEARCH_EF",
    "KeyPrefix",
    "Quantization",
    "RedisCheckpointOptions",
    "RedisMemoryOptions",
    "SpinekitPrefix",
]

Quantization = Literal["q8", "noquant", "bin"]

# Defaults chosen by measurement (see README, "Search parameters"): Q8 is several times faster
# than FP32 (NOQUANT) on VADD and VSIM, and exact re-scoring of 2k candidates takes back what
# it costs in ranking; a search EF far above the engine's default (≈100) is what reaches
# recall@10 >= 0.95 at 100k. A build EF of 100 (the engine's 200 halved) inserts about twice
# as fast and found the same recall on the clustered corpus (0.998 at 20k, 0.972 at 100k).
DEFAULT_BUILD_EF = 100
DEFAULT_SEARCH_EF = 500
DEFAULT_FILTER_EF = 4_000
DEFAULT_OVERSAMPLE = 2
DEFAULT_EXACT_SESSION_LIMIT = 256
DEFAULT_SCAN_SHARE = 0.05
DEFAULT_BATCH_SIZE = 256

KeyPrefix = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
"""1-64 letters, digits, '_', '-' or '.': the start of every key Spine writes."""

SpinekitPrefix = Annotated[
    str, StringConstraints(min_length=1, max_length=256, pattern=r"^[^{}\x00]*$")
]
"""spinekit's key prefix: 1-256 characters without '{', '}' or NUL."""


class _RedisOptions(StoreOptions):
    namespace: Namespace = "default"
    key_prefix: KeyPrefix = "spine"
    retries: PositiveInt = 3
    """Attempts per operation on a transient connection failure."""
    cluster: bool = False
    """Build a Redis Cluster client from the URL."""


class RedisCheckpointOptions(_RedisOptions):
    """`RedisCheckpoint`'s options (driver options pass through, see the module doc)."""

    store_name: ClassVar[str] = "RedisCheckpoint"
    default_ttl: DefaultTTL = None
    prefix: SpinekitPrefix = SPINEKIT_PREFIX


class RedisMemoryOptions(_RedisOptions):
    """`RedisMemory`'s options: the vector set's index and search parameters (see README)."""

    store_name: ClassVar[str] = "RedisMemory"
    quantization: Quantization | None = None
    """None: Q8 for a new namespace, whatever an existing one recorded otherwise."""
    m: int | None = Field(default=None, ge=4)
    """HNSW links per node; None: 16 for a new namespace, the recorded value otherwise."""
    build_ef: PositiveInt = DEFAULT_BUILD_EF
    search_ef: PositiveInt = DEFAULT_SEARCH_EF
    filter_ef: PositiveInt = DEFAULT_FILTER_EF
    oversample: PositiveInt = DEFAULT_OVERSAMPLE
    exact_session_limit: int = Field(default=DEFAULT_EXACT_SESSION_LIMIT, ge=0)
    scan_share: float = Field(default=DEFAULT_SCAN_SHARE, ge=0, le=1)
    batch_size: PositiveInt = DEFAULT_BATCH_SIZE
