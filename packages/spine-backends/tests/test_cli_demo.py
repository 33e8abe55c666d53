"""`spine demo`: the main job on embedded SQLite, and persistence across runs."""

from __future__ import annotations

from pathlib import Path


def test_demo_twice_shows_the_data_persisted(spine, tmp_path: Path) -> None:
    data = tmp_path / "demo-data"
    first = spine("demo", "--data-dir", str(data))
    assert first.code == 0, first.err
    db = (data / "spine.db").resolve()
    assert db.is_file()
    assert str(db) in first.out  # where the data lives, as an absolute path
    assert "run #1" in first.out
    assert "first run" in first.out
    assert "identical" in first.out
    assert "pending approval: book_flight" in first.out
    assert "whole store" in first.out
    assert "session demo-bob" in first.out
    assert "Alice prefers a window seat" in first.out

    second = spine("demo", "--data-dir", str(data))
    assert second.code == 0, second.err
    assert f"run #2: found the state from run #1 at {db}, revision 1" in second.out
    assert "revision 2" in second.out
    assert "6 memories from earlier runs" in second.out


def test_demo_defaults_to_dot_spine_in_the_working_directory(spine, workdir: Path) -> None:
    result = spine("demo")
    assert result.code == 0, result.err
    db = workdir / ".spine" / "spine.db"
    assert db.is_file()
    assert str(db.resolve()) in result.out


def test_demo_follows_spine_toml(spine, workdir: Path) -> None:
    (workdir / "spine.toml").write_text(
        '[spine.backends]\ncheckpoint = "memory://"\nmemory = "vector://"\n', encoding="utf-8"
    )
    result = spine("demo")
    assert result.code == 0, result.err
    assert "gone when the process exits" in result.out
    assert not (workdir / ".spine").exists()


def test_demo_reports_a_bad_config_as_one_line(spine, workdir: Path) -> None:
    (workdir / "spine.toml").write_text(
        '[spine.backends]\ncheckpoint = "${SPINE_DEMO_UNSET_VAR}"\n', encoding="utf-8"
    )
    result = spine("demo")
    assert result.code == 2
    assert "SPINE_DEMO_UNSET_VAR" in result.err
    assert "Traceback" not in result.err
