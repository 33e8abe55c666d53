"""The conformance kit, verbatim, on a file database and on a private in-memory database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from spine_backend_sqlite import SQLiteCheckpoint, SQLiteMemory
from spine_testing import CheckpointStoreContract, MemoryContract


class TestSQLiteCheckpointFile(CheckpointStoreContract):
    @pytest.fixture
    def store_factory(self, db_path: Path, unique_prefix: str) -> Any:
        url = f"sqlite:///{db_path}"  # absolute path: sqlite:////tmp/...
        return lambda **options: SQLiteCheckpoint.from_url(
            url, **{"namespace": unique_prefix, **options}
        )


class TestSQLiteMemoryFile(MemoryContract):
    @pytest.fixture
    def store_factory(self, db_path: Path, unique_prefix: str) -> Any:
        return lambda **options: SQLiteMemory(db_path, **{"namespace": unique_prefix, **options})


class TestSQLiteCheckpointInMemory(CheckpointStoreContract):
    @pytest.fixture
    def store_factory(self, sqlite_usable: None) -> Any:
        return lambda **options: SQLiteCheckpoint.from_url("sqlite://", **options)


class TestSQLiteMemoryInMemory(MemoryContract):
    @pytest.fixture
    def store_factory(self, sqlite_usable: None) -> Any:
        return lambda **options: SQLiteMemory.from_url("sqlite://", **options)
