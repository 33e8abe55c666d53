"""The class-level capabilities describe what every instance offers, not an invented file."""

from __future__ import annotations

from pathlib import Path

import pytest

from spine_backend_sqlite import SQLiteCheckpoint, SQLiteMemory


@pytest.mark.parametrize("cls", [SQLiteCheckpoint, SQLiteMemory])
def test_class_capabilities_are_what_every_instance_offers(cls: type, tmp_path: Path) -> None:
    declared = cls.capabilities
    assert not declared.durable
    assert not declared.concurrent_writers
    assert dict(declared.details) == {}  # no file, no busy_timeout: no instance to describe
    in_memory = cls(":memory:").capabilities
    on_file = cls(str(tmp_path / "x.db")).capabilities
    assert declared.advertised() == in_memory.advertised()
    assert declared.advertised() <= on_file.advertised()
    assert on_file.durable
    assert not in_memory.durable
