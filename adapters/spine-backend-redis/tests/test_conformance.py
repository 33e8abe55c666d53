"""The Spine conformance kit, verbatim, against Redis 8 (vector sets) and the machine's Redis 7.

Every namespace the kit uses is mapped under the test's own `unique_prefix` (see
`scoped_factory` in conftest), and those keys are deleted after each test.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from spine_backend_redis import RedisCheckpoint, RedisMemory
from spine_testing import CheckpointStoreContract, MemoryContract

Factory = Callable[..., Any]


class TestRedisCheckpoint(CheckpointStoreContract):
    """Redis 8."""

    @pytest.fixture
    def store_factory(self, redis8: str, ns8: str, make_factory: Callable[..., Factory]) -> Factory:
        return make_factory(RedisCheckpoint, redis8, ns8)


class TestLegacyRedisCheckpoint(CheckpointStoreContract):
    """The machine's Redis 7 (no vector sets): checkpoints need nothing newer than 6.2."""

    @pytest.fixture
    def store_factory(self, redis7: str, ns7: str, make_factory: Callable[..., Factory]) -> Factory:
        return make_factory(RedisCheckpoint, redis7, ns7)


class TestRedisMemory(MemoryContract):
    """Redis 8 vector sets, with the store's default search parameters."""

    @pytest.fixture
    def store_factory(self, redis8: str, ns8: str, make_factory: Callable[..., Factory]) -> Factory:
        return make_factory(RedisMemory, redis8, ns8)
