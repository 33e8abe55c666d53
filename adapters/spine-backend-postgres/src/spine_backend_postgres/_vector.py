"""pgvector values in binary, without the `pgvector` Python package.

The binary form (`vector_recv`) is two big-endian uint16 (dimension, unused) and the
float4 components. It is sent with an unspecified type (OID 0): the `::vector` cast in the
statement lets the server infer the parameter's type, so the OID of `vector` (which differs
per database) is never needed. Cheaper on both sides than the '[0.1,...]' text form.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from psycopg import AsyncCursor

__all__ = ["Vector", "register"]


class Vector:
    """A unit vector to send as a pgvector `vector` parameter (use `%b` placeholders)."""

    __slots__ = ("values",)

    def __init__(self, values: list[float]) -> None:
        self.values = values


_dumper: type | None = None


def _dumper_class() -> type:
    global _dumper
    if _dumper is None:
        from psycopg.adapt import Dumper
        from psycopg.pq import Format

        class VectorBinaryDumper(Dumper):
            format = Format.BINARY
            oid = 0  # let the server infer `vector` from the statement's cast

            def dump(self, obj: Any) -> bytes:
                values = obj.values
                return struct.pack(f">HH{len(values)}f", len(values), 0, *values)

        _dumper = VectorBinaryDumper
    return _dumper


def register(cursor: AsyncCursor[Any]) -> None:
    """Teach this cursor (only: an injected pool's connections stay untouched) to send `Vector`."""
    cursor.adapters.register_dumper(Vector, _dumper_class())
