"""Property-based and stateful checks (spine_testing.properties) on both embedded engines.

qdrant-client's local mode in memory, and qdrant-edge on disk (its filters, ordering and
deletes are Qdrant's Rust code, so they are compared with the reference too). The server mode
has the same code path above the client; it runs in the conformance suite when a server is
reachable (SPINE_QDRANT_URL).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from spine_backend_qdrant import QdrantMemory
from spine_core.errors import InvalidInput
from spine_testing import properties


def _local(**options: Any) -> QdrantMemory:
    return QdrantMemory.from_url("qdrant+local://", **options)


def test_records_round_trip_or_are_refused() -> None:
    properties.run_record_properties(_local)


async def test_a_top_level_int_beyond_float_range_round_trips_or_is_refused() -> None:
    # Found by the property test (and issue 14, defect 7): was a raw OverflowError from the
    # filter shadow of the payload.
    async with _local(namespace="huge") as memory:
        try:
            record = await memory.save("0", session_id="a", metadata={"": 10**400})
        except InvalidInput:
            assert await memory.load("a") == []
        else:
            assert await memory.get(record.id) == record
            assert record.metadata == {"": 10**400}


def test_memory_agrees_with_the_reference() -> None:
    assert properties.run_memory_comparison(_local) >= 1000


def test_edge_records_round_trip_or_are_refused(tmp_path: Path) -> None:
    properties.run_record_properties(lambda **o: QdrantMemory(path=tmp_path, **o))


def test_edge_agrees_with_the_reference(tmp_path: Path) -> None:
    assert properties.run_memory_comparison(lambda **o: QdrantMemory(path=tmp_path, **o)) >= 1000
