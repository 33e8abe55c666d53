"""`spine check`: the conformance kit against names, URLs and user-registered stores."""

from __future__ import annotations

import json
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from spine_testing import GROUPS, list_checks


def _write_module(directory: Path, body: str, monkeypatch: pytest.MonkeyPatch) -> str:
    name = f"spine_cli_user_{uuid.uuid4().hex[:8]}"
    (directory / f"{name}.py").write_text(textwrap.dedent(body), encoding="utf-8")
    monkeypatch.syspath_prepend(str(directory))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    return name


def _report(result) -> dict:
    assert result.out, result.err
    return json.loads(result.out)


def test_check_memory_is_full(spine) -> None:
    result = spine("check", "memory", "--json")
    report = _report(result)
    assert result.code == 0, result.err
    assert report["ok"] is True
    assert list(report["kinds"]) == ["checkpoint"]
    assert report["kinds"]["checkpoint"]["level"] == "full"
    groups = report["kinds"]["checkpoint"]["groups"]
    assert {g: groups[g] for g in GROUPS} == dict.fromkeys(GROUPS, "passed")
    assert report["kinds"]["checkpoint"]["remarks"] == []


def test_check_vector_is_full(spine) -> None:
    result = spine("check", "vector", "--json")
    report = _report(result)
    assert result.code == 0, result.err
    assert list(report["kinds"]) == ["memory"]
    assert report["kinds"]["memory"]["level"] == "full"


def test_check_sqlite_url_runs_both_kinds_at_full(spine, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    result = spine("check", url, "--json")
    report = _report(result)
    assert result.code == 0, [r for r in report["results"] if r["status"] == "failed"]
    assert report["target"] == url
    assert {k: v["level"] for k, v in report["kinds"].items()} == {
        "checkpoint": "full",
        "memory": "full",
    }


def test_check_kind_restricts_the_run(spine, tmp_path: Path) -> None:
    result = spine("check", f"sqlite:///{tmp_path / 'y.db'}", "--kind", "checkpoint", "--json")
    assert result.code == 0, result.err
    assert list(_report(result)["kinds"]) == ["checkpoint"]


def test_check_table_output(spine) -> None:
    result = spine("check", "vector")
    assert result.code == 0, result.err
    for check in list_checks("memory"):
        assert check.name in result.out
    assert "level FULL" in result.out


def test_registered_three_method_store_is_base_level(
    spine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_registry
) -> None:
    module = _write_module(
        tmp_path,
        """
        from spine_core import register_checkpoint
        from spine_testing.examples import MyCheckpoint

        register_checkpoint("mydb", lambda **cfg: MyCheckpoint(**cfg))
        """,
        monkeypatch,
    )
    result = spine("check", "mydb", "--import", module, "--require", "base")
    assert result.code == 0, result.err
    assert "level BASE (required: BASE)" in result.out
    assert "validation not met: invalid_session_id_rejected, bad_state_rejected" in result.out
    assert "groups: base passed, validation failed, fidelity passed" in result.out
    assert "open_checkpoint wraps it in Spine's input validation" in result.out
    # Without --require every check must pass: the guide's store does not validate input.
    strict = spine("check", "mydb", "--import", module, "--json")
    assert strict.code == 1
    report = _report(strict)
    assert report["level"] == "base"
    assert report["required"] is None
    assert report["kinds"]["checkpoint"]["groups"]["validation"] == "failed"
    above = spine("check", "mydb", "--import", module, "--require", "validated", "--json")
    assert above.code == 1


def test_plugin_option_registers_a_class_under_the_target_name(spine, clean_registry) -> None:
    result = spine(
        "check", "mydb2", "--plugin", "spine_testing.examples:MyValidatedCheckpoint", "--json"
    )
    assert result.code == 0, result.err
    report = _report(result)
    assert report["level"] == "standard"
    assert report["kinds"]["checkpoint"]["advertised"] == []
    assert report["kinds"]["checkpoint"]["reason"] == (
        "not advertised: export, list_sessions, prune, revisions, ttl"
    )


def test_require_full(spine) -> None:
    result = spine("check", "vector", "--require", "full", "--json")
    assert result.code == 0, result.err
    assert _report(result)["required"] == "full"
    bad = spine("check", "vector", "--require", "perfect")
    assert bad.code == 2


def test_requirable_levels_are_the_kits() -> None:
    from spine_backends.cli.check import REQUIRABLE
    from spine_testing import LEVELS

    assert LEVELS[1:] == REQUIRABLE


def test_a_broken_store_fails_the_check(
    spine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_registry
) -> None:
    module = _write_module(
        tmp_path,
        """
        from spine_core import register_checkpoint

        class DropsMessages:
            '''Loses every message on put: the kit must catch it.'''

            def __init__(self):
                self._data = {}

            async def put(self, state):
                self._data[state.session_id] = state.model_copy(update={"messages": []})

            async def get(self, session_id):
                state = self._data.get(session_id)
                return None if state is None else state.model_copy(deep=True)

            async def delete(self, session_id):
                self._data.pop(session_id, None)

        register_checkpoint("mydb", DropsMessages)
        """,
        monkeypatch,
    )
    result = spine("check", "mydb", "--import", module, "--json")
    assert result.code == 1
    report = _report(result)
    assert report["ok"] is False
    assert report["level"] == "none"
    assert any(r["status"] == "failed" for r in report["results"])


def test_unknown_target_is_a_usage_error(spine) -> None:
    result = spine("check", "nosuch")
    assert result.code == 2
    assert "'nosuch'" in result.err
    assert "register_checkpoint" in result.err


def test_unknown_url_scheme_is_a_usage_error(spine) -> None:
    result = spine("check", "mongodb://localhost/x")
    assert result.code == 2
    assert "unknown" in result.err
    assert "scheme" in result.err


def test_missing_import_is_a_usage_error(spine) -> None:
    result = spine("check", "memory", "--import", "spine_no_such_module_xyz")
    assert result.code == 2
    assert "spine_no_such_module_xyz" in result.err


def test_memory_only_backend_refuses_checkpoint_kind(spine) -> None:
    result = spine("check", "vector", "--kind", "checkpoint")
    assert result.code == 2
    assert "vector" in result.err


def test_missing_extra_says_what_to_install(spine_subprocess) -> None:
    code = textwrap.dedent(
        """
        import sys
        sys.modules["spine_backend_redis"] = None
        from spine_backends.cli import main
        raise SystemExit(main(["check", "redis://127.0.0.1:6379/0"]))
        """
    )
    result = spine_subprocess(code=code)
    assert result.code == 2
    assert 'pip install "spine-backends[redis]"' in result.err
    assert "Traceback" not in result.err
