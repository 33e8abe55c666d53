"""Property-based and stateful checks (spine_testing.properties) on Qdrant's local mode.

The server mode has the same code path above the client; it runs in the conformance suite
when a server is reachable (SPINE_QDRANT_URL).
"""

from __future__ import annotations

from typing import Any

import pytest

from spine_backend_qdrant import QdrantMemory
from spine_core.errors import InvalidInput
from spine_testing import properties


def _local(**options: Any) -> QdrantMemory:
    return QdrantMemory.from_url("qdrant+local://", **options)


def _top_level_huge_int(metadata: dict[str, Any]) -> bool:
    return any(
        isinstance(v, int) and not isinstance(v, bool) and abs(v) > 2**1023
        for v in metadata.values()
    )


def test_records_round_trip_or_are_refused() -> None:
    # The known defect below is left out here so the other hostile inputs keep running.
    properties.run_record_properties(_local, exclude=_top_level_huge_int)


@pytest.mark.xfail(
    strict=True,
    raises=OverflowError,
    reason="found by the property test: a top-level metadata int beyond float range "
    "(10**400) raises a raw OverflowError from the filter shadow payload (nested ones "
    "round-trip; every other backend round-trips it)",
)
async def test_a_top_level_int_beyond_float_range_round_trips_or_is_refused() -> None:
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
