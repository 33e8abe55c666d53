"""The conformance kit's memory contract, verbatim, in every mode QdrantMemory has.

The embedded engines always run (qdrant-edge on disk, the default; qdrant-client in memory and
on disk; qdrant-edge in a temporary directory); the server class runs when the kit's
`qdrant_url` fixture has a reachable server (SPINE_QDRANT_URL).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from spine_backend_qdrant import QdrantMemory
from spine_testing import MemoryContract, StoreFactory


class TestQdrantLocalMemory(MemoryContract):
    """qdrant-client local mode, in memory (`qdrant+local://`)."""

    @pytest.fixture
    def store_factory(self, unique_prefix: str) -> StoreFactory:
        return lambda **options: QdrantMemory.from_url(
            "qdrant+local://", **{"namespace": unique_prefix, **options}
        )


class TestQdrantLocalDiskMemory(MemoryContract):
    """qdrant-edge on disk (`qdrant+local:////abs/dir`, the default there): persistent, HNSW."""

    @pytest.fixture
    def store_factory(self, tmp_path: Path, unique_prefix: str) -> StoreFactory:
        url = f"qdrant+local:///{tmp_path / 'qdrant'}"
        return lambda **options: QdrantMemory.from_url(
            url, **{"namespace": unique_prefix, **options}
        )


class TestQdrantLocalDiskClientMemory(MemoryContract):
    """qdrant-client local mode on disk (`qdrant+local:////abs/dir?engine=client`)."""

    @pytest.fixture
    def store_factory(self, tmp_path: Path, unique_prefix: str) -> StoreFactory:
        url = f"qdrant+local:///{tmp_path / 'qdrant'}?engine=client"
        return lambda **options: QdrantMemory.from_url(
            url, **{"namespace": unique_prefix, **options}
        )


class TestQdrantEdgeInMemory(MemoryContract):
    """qdrant-edge in a private temporary directory (`qdrant+local://?engine=edge`)."""

    @pytest.fixture
    def store_factory(self, unique_prefix: str) -> StoreFactory:
        return lambda **options: QdrantMemory.from_url(
            "qdrant+local://?engine=edge", **{"namespace": unique_prefix, **options}
        )


class TestQdrantServerMemory(MemoryContract):
    """A Qdrant server (SPINE_QDRANT_URL): persistent and approximate (HNSW)."""

    @pytest.fixture
    def store_factory(
        self, server_options: dict[str, Any], drop_collections: list[str], unique_prefix: str
    ) -> StoreFactory:
        fixed = server_options

        def factory(**options: Any) -> QdrantMemory:
            opts = {**fixed, "namespace": unique_prefix, **options}
            drop_collections.append(opts["namespace"])
            return QdrantMemory(**opts)

        return factory
