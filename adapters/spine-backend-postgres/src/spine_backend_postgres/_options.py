"""The PostgreSQL stores' options models: what a URL query or a keyword may set."""

from __future__ import annotations

from collections.abc import Collection
from functools import partial
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import BeforeValidator, Field, PositiveInt, model_validator

from spine_core.spi import DefaultTTL, Namespace, StoreOptions

from ._config import validate_identifier

__all__ = [
    "DEFAULT_EF_SEARCH",
    "DEFAULT_HNSW_EF_CONSTRUCTION",
    "DEFAULT_HNSW_M",
    "DEFAULT_INGEST_CONNECTIONS",
    "ConnectOptions",
    "IterativeScan",
    "PgVectorOptions",
    "PoolerMode",
    "PostgresCheckpointOptions",
]

PoolerMode = Literal["session", "transaction"]
"""`session`: direct connections or a session pooler; `transaction`: e.g. PgBouncer in
transaction mode (no server-side prepared statements)."""
IterativeScan = Literal["relaxed_order", "strict_order", "off"]

# Chosen by measurement on `spine bench`'s clustered 384-d corpus (near-tie neighbours, the
# hard case; README "Search and index parameters"): at 100k records ef_search 100 found 0.94
# of the exact top 10 and 200 found 0.965, for about twice the search time; 400 added < 0.01.
# A larger ef_construction buys less per millisecond and slows every insert, so the graph
# keeps pgvector's m/ef_construction and the search list is what grows.
DEFAULT_EF_SEARCH = 200
DEFAULT_HNSW_M = 16
DEFAULT_HNSW_EF_CONSTRUCTION = 64
# Each HNSW insert is done by the server backend of the connection that sends it: a second
# connection puts a second core to work on a save_many (measured: see README "Ingest").
DEFAULT_INGEST_CONNECTIONS = 2

Seconds = Annotated[float, Field(gt=0, allow_inf_nan=False)]
# validate_identifier raises ConfigError with the naming rule (passed through by pydantic);
# it runs before the type check so its message also covers a value that is not a str.
Schema = Annotated[str, BeforeValidator(partial(validate_identifier, what="schema"))]
TablePrefix = Annotated[str, BeforeValidator(partial(validate_identifier, what="table_prefix"))]
TableName = Annotated[str, BeforeValidator(partial(validate_identifier, what="table"))]


class ConnectOptions(StoreOptions):
    """How a store reaches the server: pool sizes, timeouts and pooler compatibility."""

    pooler: PoolerMode = "session"
    pool_min_size: PositiveInt = 1
    pool_max_size: PositiveInt = 10
    pool_timeout: Seconds = 10.0
    connect_timeout: Seconds = 5.0
    command_timeout: Seconds = 10.0
    retries: PositiveInt = 3

    @model_validator(mode="after")
    def _pool_sizes(self) -> Self:
        if self.pool_min_size > self.pool_max_size:
            raise ValueError(
                f"pool_min_size ({self.pool_min_size}) exceeds pool_max_size ({self.pool_max_size})"
            )
        return self

    @property
    def prepare(self) -> bool | None:
        """The `prepare=` argument for each execute: never behind a transaction pooler."""
        return False if self.pooler == "transaction" else None

    def connection_kwargs(self, dsn_keys: Collection[str] = ()) -> dict[str, Any]:
        """Keyword arguments for every connection the store opens itself.

        Socket-level bounds (TCP keepalives, TCP user timeout) are added unless the DSN
        (whose parameter names are `dsn_keys`) sets them itself: a peer that vanished without
        closing its socket is then noticed by the kernel, not only by `command_timeout`.
        """
        kwargs: dict[str, Any] = {
            "autocommit": True,
            "connect_timeout": max(1, round(self.connect_timeout)),
        }
        socket_bounds = {
            "keepalives": 1,
            "keepalives_idle": 30,
            "keepalives_interval": 5,
            "keepalives_count": 3,
            # Unacknowledged data for this long drops the connection (Linux; ignored elsewhere).
            "tcp_user_timeout": max(1000, round(self.command_timeout * 1000)),
        }
        kwargs.update({k: v for k, v in socket_bounds.items() if k not in dsn_keys})
        if self.pooler == "transaction":
            kwargs["prepare_threshold"] = None
        return kwargs


class _PlaceOptions(ConnectOptions):
    namespace: Namespace = "default"
    schema_: Schema = Field(default="public", alias="schema")
    table_prefix: TablePrefix = "spine_"


class PostgresCheckpointOptions(_PlaceOptions):
    """`PostgresCheckpoint`'s options."""

    store_name: ClassVar[str] = "PostgresCheckpoint"
    default_ttl: DefaultTTL = None
    table: str | None = None
    """`name` or `schema.name`, folded to lower case by the store (see `place_table`)."""


class PgVectorOptions(_PlaceOptions):
    """`PgVectorMemory`'s options: HNSW search and index parameters (see README)."""

    store_name: ClassVar[str] = "PgVectorMemory"
    table: TableName | None = None
    dim: PositiveInt = 256
    """Sizes the default `HashEmbedder` (a given embedder brings its own)."""
    ef_search: int = Field(default=DEFAULT_EF_SEARCH, ge=1, le=1000)
    iterative_scan: IterativeScan = "relaxed_order"
    max_scan_tuples: int | None = Field(default=None, ge=1, le=2**31 - 1)
    hnsw_m: int = Field(default=DEFAULT_HNSW_M, ge=2, le=100)
    hnsw_ef_construction: int = Field(default=DEFAULT_HNSW_EF_CONSTRUCTION, ge=4, le=1000)
    ingest_connections: PositiveInt = DEFAULT_INGEST_CONNECTIONS
    """Chunks of one `save_many` written at once, each on its own connection."""

    @model_validator(mode="after")
    def _ingest(self) -> Self:
        if self.ingest_connections > self.pool_max_size:
            raise ValueError(
                f"ingest_connections ({self.ingest_connections}) exceeds pool_max_size "
                f"({self.pool_max_size})"
            )
        return self

    @model_validator(mode="after")
    def _graph(self) -> Self:
        if self.hnsw_ef_construction < 2 * self.hnsw_m:
            raise ValueError(
                f"hnsw_ef_construction ({self.hnsw_ef_construction}) must be at least "
                f"2 * hnsw_m ({2 * self.hnsw_m})"
            )
        return self
