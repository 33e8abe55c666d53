"""Property-based and stateful checks (spine_testing.properties) on PostgreSQL 18 and 15.

Each test writes into its own schema (`schema_on`), dropped afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from spine_backend_postgres import PgVectorMemory, PostgresCheckpoint
from spine_testing import properties

SchemaOn = Callable[[str], str]


def _factory(store_class: Any, url: str, schema: str) -> Callable[..., Any]:
    return lambda **options: store_class.from_url(url, **{"schema": schema, **options})


def test_states_round_trip_or_are_refused(pg_url: str, schema_on: SchemaOn) -> None:
    properties.run_state_properties(_factory(PostgresCheckpoint, pg_url, schema_on(pg_url)))


def test_records_round_trip_or_are_refused(pg_url: str, schema_on: SchemaOn) -> None:
    properties.run_record_properties(_factory(PgVectorMemory, pg_url, schema_on(pg_url)))


def test_checkpoints_agree_with_the_reference(pg_url: str, schema_on: SchemaOn) -> None:
    factory = _factory(PostgresCheckpoint, pg_url, schema_on(pg_url))
    assert properties.run_checkpoint_comparison(factory) >= 1000


def test_memory_agrees_with_the_reference(pg_url: str, schema_on: SchemaOn) -> None:
    factory = _factory(PgVectorMemory, pg_url, schema_on(pg_url))
    assert properties.run_memory_comparison(factory) >= 1000


def test_legacy_states_round_trip_or_are_refused(legacy_pg_url: str, schema_on: SchemaOn) -> None:
    factory = _factory(PostgresCheckpoint, legacy_pg_url, schema_on(legacy_pg_url))
    properties.run_state_properties(factory)


def test_legacy_checkpoints_agree_with_the_reference(
    legacy_pg_url: str, schema_on: SchemaOn
) -> None:
    factory = _factory(PostgresCheckpoint, legacy_pg_url, schema_on(legacy_pg_url))
    assert properties.run_checkpoint_comparison(factory) >= 1000
