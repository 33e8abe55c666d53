"""Property-based and stateful checks (spine_testing.properties) on a SQLite file database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from spine_backend_sqlite import SQLiteCheckpoint, SQLiteMemory
from spine_testing import properties


def _checkpoints(db_path: Path) -> Any:
    return lambda **options: SQLiteCheckpoint.from_url(f"sqlite:///{db_path}", **options)


def _memories(db_path: Path) -> Any:
    return lambda **options: SQLiteMemory(db_path, **options)


def test_states_round_trip_or_are_refused(db_path: Path) -> None:
    properties.run_state_properties(_checkpoints(db_path))


def test_records_round_trip_or_are_refused(db_path: Path) -> None:
    properties.run_record_properties(_memories(db_path))


def test_checkpoints_agree_with_the_reference(db_path: Path) -> None:
    assert properties.run_checkpoint_comparison(_checkpoints(db_path)) >= 1000


def test_memory_agrees_with_the_reference(db_path: Path) -> None:
    assert properties.run_memory_comparison(_memories(db_path)) >= 1000
