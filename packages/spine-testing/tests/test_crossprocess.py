"""`cas_across_processes` passes a real store and catches a CAS that is atomic only in-process."""

from __future__ import annotations

from pathlib import Path

import pytest

from spine_testing import CheckFailed, cas_across_processes, factory_for, run_conformance


@pytest.fixture
def racy_module(monkeypatch: pytest.MonkeyPatch) -> str:
    here = str(Path(__file__).parent)
    monkeypatch.syspath_prepend(here)
    monkeypatch.setenv("PYTHONPATH", here)  # the worker processes import it too
    import racy_file_store  # noqa: F401 - registers "racy-file" here as well

    return "racy_file_store"


async def test_catches_lost_updates_between_processes(racy_module: str, tmp_path: Path) -> None:
    with pytest.raises(CheckFailed, match="lost updates"):
        await cas_across_processes(
            "racy-file", {"path": str(tmp_path / "s.json")}, imports=[racy_module]
        )


async def test_passes_an_atomic_store(tmp_path: Path) -> None:
    await cas_across_processes(f"sqlite:///{tmp_path / 'cas.db'}", {"busy_timeout": 30})


async def test_registered_check_runs_for_a_url_target(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kit.db'}?busy_timeout=30"
    report = await run_conformance(
        factory_for(url, "checkpoint"), checks=["cas_across_processes", "missing_is_none"]
    )
    by_name = {r.name: r for r in report.results}
    assert by_name["cas_across_processes"].status == "passed", report.render()
    assert by_name["cas_across_processes"].group == "concurrent_writers"


async def test_registered_check_skips_an_in_process_factory(tmp_path: Path) -> None:
    from spine_backend_sqlite import SQLiteCheckpoint

    path = tmp_path / "kit.db"
    report = await run_conformance(
        lambda **options: SQLiteCheckpoint(path, **options), checks=["cas_across_processes"]
    )
    [result] = report.results
    assert result.status == "skipped", report.render()
    assert "needs a URL target" in result.detail
    assert report.levels == {"checkpoint": "full"}  # a skip lowers nothing
