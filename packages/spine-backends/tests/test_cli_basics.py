"""The `spine` entry point: help, version, errors, and `spine plugin list`."""

from __future__ import annotations

import json
import textwrap

from spine_backends.cli import SUBCOMMANDS, build_parser


def test_every_subcommand_is_registered() -> None:
    assert {"demo", "check", "doctor", "plugin", "bench"} <= set(SUBCOMMANDS)
    assert not [name for name in SUBCOMMANDS if name.startswith("_")]
    parser = build_parser()
    help_text = parser.format_help()
    for name in SUBCOMMANDS:
        assert name in help_text


def test_version(spine) -> None:
    result = spine("--version")
    assert result.code == 0
    assert result.out.startswith("spine ")
    assert "SPI" in result.out


def test_no_command_prints_help_and_fails(spine) -> None:
    result = spine()
    assert result.code == 2
    assert "COMMAND" in result.out


def test_unknown_command_is_a_usage_error(spine) -> None:
    result = spine("frobnicate")
    assert result.code == 2
    assert "invalid choice" in result.err


def test_spine_error_is_one_red_line_without_traceback(spine) -> None:
    result = spine("check", "nosuchbackend")
    assert result.code == 2
    assert "Traceback" not in result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: ")
    assert "nosuchbackend" in lines[0]


def test_plugin_list_table(spine) -> None:
    result = spine("plugin", "list")
    assert result.code == 0
    for name in ("memory", "vector", "sqlite"):
        assert name in result.out
    assert "spine-backend-sqlite" in result.out


def test_plugin_list_json(spine) -> None:
    result = spine("plugin", "list", "--json")
    assert result.code == 0
    rows = {row["name"]: row for row in json.loads(result.out)}
    assert rows["sqlite"]["kinds"] == ["checkpoint", "memory"]
    assert rows["sqlite"]["distribution"] == "spine-backend-sqlite"
    assert rows["memory"]["kinds"] == ["checkpoint"]
    assert rows["vector"]["kinds"] == ["memory"]
    assert rows["buffer"]["kinds"] == ["memory"]
    assert rows["sqlite"]["kinds_known"] is True
    assert set(rows["sqlite"]) == {
        "name",
        "kinds",
        "kinds_known",
        "distribution",
        "version",
        "spi",
        "status",
        "schemes",
        "install",
    }
    assert (rows["sqlite"]["schemes"], rows["sqlite"]["install"]) == (["sqlite"], "spine-backends")
    assert rows["memory"]["schemes"] == ["memory"]


def test_plugin_list_imports_no_adapter(spine_subprocess) -> None:
    code = textwrap.dedent(
        """
        import json, sys
        from spine_backends.cli import main
        code = main(["plugin", "list"])
        loaded = sorted(m for m in sys.modules if m.startswith("spine_backend_"))
        print(json.dumps({"code": code, "loaded": loaded}), file=sys.stderr)
        """
    )
    result = spine_subprocess(code=code)
    report = json.loads(result.err.strip().splitlines()[-1])
    assert report == {"code": 0, "loaded": []}
    assert "not loaded" in result.out  # installed adapters are listed, just not imported


def test_console_script_module_runs(spine_subprocess) -> None:
    result = spine_subprocess("plugin", "list", "--json")
    assert result.code == 0, result.err
    assert any(row["name"] == "sqlite" for row in json.loads(result.out))
