"""The Spine conformance kit, verbatim, against PostgreSQL 18 + pgvector and PostgreSQL 15.

All classes share one schema per server for the run (tests isolate by namespace); the schema
is dropped at the end. The `pooler="transaction"` classes run the kit again with server-side
prepared statements disabled, as behind PgBouncer in transaction mode.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from spine_backend_postgres import PgVectorMemory, PostgresCheckpoint
from spine_testing import CheckpointStoreContract, MemoryContract

Factory = Callable[..., Any]


class TestPostgresCheckpoint(CheckpointStoreContract):
    """PostgreSQL 18."""

    @pytest.fixture
    def store_factory(self, pg_url: str, pg_shared_schema: str, unique_prefix: str) -> Factory:
        return lambda **options: PostgresCheckpoint.from_url(
            pg_url, **{"schema": pg_shared_schema, "namespace": unique_prefix, **options}
        )


class TestLegacyPostgresCheckpoint(CheckpointStoreContract):
    """The machine's PostgreSQL 15 (no pgvector): checkpoints need nothing beyond core SQL."""

    @pytest.fixture
    def store_factory(
        self, legacy_pg_url: str, legacy_shared_schema: str, unique_prefix: str
    ) -> Factory:
        return lambda **options: PostgresCheckpoint.from_url(
            legacy_pg_url,
            **{"schema": legacy_shared_schema, "namespace": unique_prefix, **options},
        )


class TestPostgresCheckpointTransactionPooler(CheckpointStoreContract):
    """PostgreSQL 18 with no server-side prepared statements."""

    @pytest.fixture
    def store_factory(self, pg_url: str, pg_shared_schema: str, unique_prefix: str) -> Factory:
        return lambda **options: PostgresCheckpoint.from_url(
            pg_url,
            **{
                "schema": pg_shared_schema,
                "namespace": unique_prefix,
                "pooler": "transaction",
                **options,
            },
        )


class TestPgVectorMemory(MemoryContract):
    """PostgreSQL 18 + pgvector."""

    @pytest.fixture
    def store_factory(self, pg_url: str, pg_shared_schema: str, unique_prefix: str) -> Factory:
        return lambda **options: PgVectorMemory.from_url(
            pg_url, **{"schema": pg_shared_schema, "namespace": unique_prefix, **options}
        )


class TestPgVectorMemoryTransactionPooler(MemoryContract):
    """PostgreSQL 18 + pgvector with no server-side prepared statements."""

    @pytest.fixture
    def store_factory(self, pg_url: str, pg_shared_schema: str, unique_prefix: str) -> Factory:
        return lambda **options: PgVectorMemory.from_url(
            pg_url,
            **{
                "schema": pg_shared_schema,
                "namespace": unique_prefix,
                "pooler": "transaction",
                **options,
            },
        )
