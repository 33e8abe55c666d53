"""Property-based and stateful checks (spine_testing.properties) on Redis 8 and Redis 7.

Every namespace is mapped under the test's own prefix (`scoped_factory`) and deleted after it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from spine_backend_redis import RedisCheckpoint, RedisMemory
from spine_testing import properties

Maker = Callable[..., Callable[..., Any]]


def test_states_round_trip_or_are_refused(redis8: str, ns8: str, make_factory: Maker) -> None:
    properties.run_state_properties(make_factory(RedisCheckpoint, redis8, ns8))


def test_records_round_trip_or_are_refused(redis8: str, ns8: str, make_factory: Maker) -> None:
    properties.run_record_properties(make_factory(RedisMemory, redis8, ns8))


def test_checkpoints_agree_with_the_reference(redis8: str, ns8: str, make_factory: Maker) -> None:
    factory = make_factory(RedisCheckpoint, redis8, ns8)
    assert properties.run_checkpoint_comparison(factory) >= 1000


def test_memory_agrees_with_the_reference(redis8: str, ns8: str, make_factory: Maker) -> None:
    assert properties.run_memory_comparison(make_factory(RedisMemory, redis8, ns8)) >= 1000


def test_legacy_states_round_trip_or_are_refused(
    redis7: str, ns7: str, make_factory: Maker
) -> None:
    properties.run_state_properties(make_factory(RedisCheckpoint, redis7, ns7))


def test_legacy_checkpoints_agree_with_the_reference(
    redis7: str, ns7: str, make_factory: Maker
) -> None:
    factory = make_factory(RedisCheckpoint, redis7, ns7)
    assert properties.run_checkpoint_comparison(factory) >= 1000
