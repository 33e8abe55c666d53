"""`QdrantMemory`'s options model: what a URL query or a keyword may set.

Where the data lives (`location`, `path`, `url` or an injected `client`) is not an option:
the URL itself (or the keyword) says it, see `_target`.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, PositiveInt, SecretStr, StringConstraints

from spine_core.spi import Namespace, StoreOptions

from ._edge import EngineOption

__all__ = [
    "DEFAULT_EF_CONSTRUCT",
    "DEFAULT_HNSW_EF",
    "DEFAULT_HNSW_M",
    "IndexType",
    "QdrantOptions",
]

DEFAULT_HNSW_EF = 256
"""Search-time candidate list size on servers and qdrant-edge (Qdrant's default: ef_construct).

Measured on Qdrant's engine (qdrant-edge 0.9, the server's segment code) at 100k vectors with
m=16, ef_construct=100: recall@10 0.992 on the `spine bench` corpus (256-d HashEmbedder
texts) and 0.999 on clustered 384-d vectors, p50 under 1 ms; 64 gives 0.96-0.98.
"""
DEFAULT_HNSW_M = 16
"""Graph degree of new collections on servers and qdrant-edge (Qdrant's default)."""
DEFAULT_EF_CONSTRUCT = 100
"""Build-time candidate list size of new collections on servers and qdrant-edge (Qdrant's
default):
200 bought no recall at hnsw_ef=256 on those sets and took 2.7x longer to build."""

IndexType = Literal["keyword", "integer", "float", "bool"]


class QdrantOptions(StoreOptions):
    """`QdrantMemory`'s options."""

    store_name: ClassVar[str] = "QdrantMemory"
    namespace: Namespace = "default"
    """The collection is `spine_<namespace>`."""
    api_key: SecretStr | None = None
    """A server's API key (falls back to the QDRANT_API_KEY environment variable)."""
    hnsw_ef: PositiveInt = DEFAULT_HNSW_EF
    hnsw_m: PositiveInt = DEFAULT_HNSW_M
    ef_construct: PositiveInt = DEFAULT_EF_CONSTRUCT
    indexed_metadata: dict[Annotated[str, StringConstraints(min_length=1)], IndexType] = Field(
        default_factory=dict
    )
    """Payload indexes a server collection gets for these metadata keys."""
    timeout: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    """Seconds per server request (None: the client's default)."""
    prefer_grpc: bool = False
    grpc_port: int = Field(default=6334, ge=1, le=65535)
    batch_size: PositiveInt = 256
    """Points per upsert in `save_many`."""
    engine: EngineOption = "auto"
    """Embedded engine: qdrant-edge on disk by default ("auto"; a directory qdrant-client
    wrote stays on it), or one forced; servers always use qdrant-client."""
