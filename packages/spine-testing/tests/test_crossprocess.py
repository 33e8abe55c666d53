"""`cas_across_processes` passes a real store and catches a CAS that is atomic only in-process."""

from __future__ import annotations

from pathlib import Path

import pytest

from spine_testing import cas_across_processes


@pytest.fixture
def racy_module(monkeypatch: pytest.MonkeyPatch) -> str:
    here = str(Path(__file__).parent)
    monkeypatch.syspath_prepend(here)
    monkeypatch.setenv("PYTHONPATH", here)  # the worker processes import it too
    import racy_file_store  # noqa: F401 - registers "racy-file" here as well

    return "racy_file_store"


async def test_catches_lost_updates_between_processes(racy_module: str, tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="lost updates"):
        await cas_across_processes(
            "racy-file", {"path": str(tmp_path / "s.json")}, imports=[racy_module]
        )


async def test_passes_an_atomic_store(tmp_path: Path) -> None:
    await cas_across_processes(f"sqlite:///{tmp_path / 'cas.db'}", {"busy_timeout": 30})
