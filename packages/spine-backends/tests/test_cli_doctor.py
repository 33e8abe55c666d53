"""`spine doctor`: configured backends, health, capabilities, location; secrets redacted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

TOML = """
[spine.backends]
checkpoint = "sqlite:///${SPINE_DOCTOR_DIR:-data}/state.db"
memory = "sqlite:///${SPINE_DOCTOR_DIR:-data}/memory.db"
"""


def test_doctor_reads_spine_toml_with_default_substitution(
    spine, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SPINE_DOCTOR_DIR", raising=False)
    (workdir / "data").mkdir()
    config = workdir / "spine.toml"
    config.write_text(TOML, encoding="utf-8")
    result = spine("doctor", "--config", str(config), "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["ok"] is True
    assert report["config"] == str(config.resolve())
    rows = {row["kind"]: row for row in report["backends"]}
    assert rows["checkpoint"]["location"] == str((workdir / "data" / "state.db").resolve())
    assert rows["memory"]["location"] == str((workdir / "data" / "memory.db").resolve())
    for row in rows.values():
        assert row["backend"] == "sqlite"
        assert row["ok"] is True
        assert row["latency_ms"] >= 0
        assert row["info"]["distribution"] == "spine-backend-sqlite"
    assert "revisions" in rows["checkpoint"]["capabilities"]
    assert "persistent" in rows["memory"]["capabilities"]


def test_doctor_uses_the_environment_variable_when_set(
    spine, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = workdir / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.setenv("SPINE_DOCTOR_DIR", str(elsewhere).lstrip("/"))
    monkeypatch.chdir("/")
    config = workdir / "spine.toml"
    config.write_text(TOML, encoding="utf-8")
    result = spine("doctor", "--config", str(config), "--json")
    assert result.code == 0, result.err
    locations = [row["location"] for row in json.loads(result.out)["backends"]]
    assert locations == [str(elsewhere / "state.db"), str(elsewhere / "memory.db")]


def test_doctor_table_without_config_uses_the_embedded_default(spine, workdir: Path) -> None:
    result = spine("doctor")
    assert result.code == 0, result.err
    assert "built-in defaults" in result.out
    assert "all configured backends are healthy" in result.out


def test_doctor_fails_on_an_unhealthy_backend(spine, workdir: Path) -> None:
    blocker = workdir / "not-a-directory"
    blocker.write_text("a file where a directory should be", encoding="utf-8")
    config = workdir / "spine.toml"
    config.write_text(
        f'[spine.backends]\ncheckpoint = "sqlite:///{blocker}/x.db"\nmemory = "vector://"\n',
        encoding="utf-8",
    )
    result = spine("doctor", "--config", str(config))
    assert result.code == 1
    assert "unhealthy" in result.out
    assert "checkpoint (sqlite):" in result.out


def test_doctor_never_prints_a_password(spine, workdir: Path) -> None:
    config = workdir / "spine.toml"
    # Nothing listens on port 9; whatever the backend reports, the password must not appear.
    config.write_text(
        '[spine.backends]\ncheckpoint = "redis://app:hunter2secret@127.0.0.1:9/0"\n'
        'memory = "vector://"\n',
        encoding="utf-8",
    )
    result = spine("doctor", "--config", str(config))
    assert result.code == 1
    assert "hunter2secret" not in result.out + result.err
    assert "***" in result.out


def test_doctor_unset_variable_is_a_config_error(spine, workdir: Path) -> None:
    config = workdir / "spine.toml"
    config.write_text('[spine.backends]\nmemory = "${SPINE_DOCTOR_UNSET}"\n', encoding="utf-8")
    result = spine("doctor", "--config", str(config))
    assert result.code == 2
    assert "SPINE_DOCTOR_UNSET" in result.err


def test_doctor_missing_config_file(spine, workdir: Path) -> None:
    result = spine("doctor", "--config", str(workdir / "nope.toml"))
    assert result.code == 2
    assert "does not exist" in result.err


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_doctor_without_config_writes_nothing(spine, workdir: Path) -> None:
    before = _tree(workdir)
    result = spine("doctor", "--json")
    assert result.code == 0, result.err
    assert _tree(workdir) == before == []
    rows = json.loads(result.out)["backends"]
    assert [row["ok"] for row in rows] == [True, True]
    assert all("created on first use" in row["error"] for row in rows)
    table = spine("doctor")
    assert table.code == 0, table.err
    assert _tree(workdir) == []
    assert "no database at" in table.out


def test_doctor_without_config_probes_an_existing_default(spine, workdir: Path) -> None:
    assert spine("demo").code == 0  # creates ./.spine/spine.db
    before = {p: p.stat().st_size for p in workdir.rglob("*") if p.is_file()}
    rows = json.loads(spine("doctor", "--json").out)["backends"]
    assert [row["latency_ms"] >= 0 for row in rows] == [True, True]
    assert {p: p.stat().st_size for p in workdir.rglob("*") if p.is_file()} == before
