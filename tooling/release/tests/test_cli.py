from __future__ import annotations

import json
from pathlib import Path

import pytest

from spine_release.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def gh_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(path))
    return path


def outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


def test_check_tag(workspace: Path, capsys: pytest.CaptureFixture[str], gh_output: Path) -> None:
    root = str(workspace)
    assert (
        run(
            capsys,
            "--root",
            root,
            "check-tag",
            "--tag",
            "demo-core-v1.2.0",
            "--distribution",
            "demo-core",
            "--github-output",
        )[0]
        == 0
    )
    assert outputs(gh_output) == {"version": "1.2.0", "distribution": "demo-core"}

    code, _, err = run(capsys, "--root", root, "check-tag", "--tag", "demo-core-v1.2.1")
    assert code == 1
    assert "says version = '1.2.0'" in err
    # A tag for another package must not publish this one.
    code, _, err = run(
        capsys,
        "--root",
        root,
        "check-tag",
        "--tag",
        "demo-kit-v1.2.0",
        "--distribution",
        "demo-core",
    )
    assert code == 1
    assert "does not release demo-core" in err
    # workflow_dispatch passes a version instead of a tag.
    assert (
        run(
            capsys,
            "--root",
            root,
            "check-tag",
            "--distribution",
            "demo-umbrella",
            "--version",
            "1.3.0",
        )[0]
        == 0
    )
    assert (
        run(
            capsys,
            "--root",
            root,
            "check-tag",
            "--distribution",
            "demo-umbrella",
            "--version",
            "1.2.0",
        )[0]
        == 1
    )


def test_plan_without_asking_the_index(
    workspace: Path, capsys: pytest.CaptureFixture[str], gh_output: Path
) -> None:
    code, out, _ = run(
        capsys,
        "--root",
        str(workspace),
        "plan",
        "--tag",
        "v1.2.0",
        "--assume-unpublished",
        "--github-output",
    )
    assert code == 0
    plan = json.loads(out)
    assert plan["fan_out"] is True
    assert [r["name"] for r in plan["releases"]] == [
        "demo-backend-redis",
        "demo-backend-sqlite",
        "demo-core",
        "demo-kit",
        "demo-umbrella",
    ]
    written = outputs(gh_output)
    assert written["count"] == "5"
    assert json.loads(written["releases"])[0] == {
        "name": "demo-backend-redis",
        "version": "1.2.0",
        "workflow": "publish-demo-backend-redis.yml",
    }


def test_affected(workspace: Path, capsys: pytest.CaptureFixture[str], gh_output: Path) -> None:
    (workspace / "tooling" / "release" / "src" / "demo_release").mkdir(parents=True)
    (workspace / "tooling" / "release" / "src" / "demo_release" / "__init__.py").touch()
    code, out, _ = run(
        capsys,
        "--root",
        str(workspace),
        "affected",
        "--changed",
        "packages/demo-kit/src/demo_kit/__init__.py",
        "--github-output",
    )
    assert code == 0
    assert json.loads(out)["distributions"] == ["demo-backend-redis", "demo-kit", "demo-umbrella"]
    written = outputs(gh_output)
    assert written["unit_paths"] == "packages/demo-kit packages/demo-umbrella"
    assert written["mypy_packages"] == "demo_kit demo_umbrella demo_backend_redis"
    assert written["has_adapters"] == "true"
    assert written["rehearse"] == "true"

    changed = workspace / "changed.txt"
    changed.write_text("docs/index.md\n")
    run(
        capsys,
        "--root",
        str(workspace),
        "affected",
        "--changed-file",
        str(changed),
        "--github-output",
    )
    written = outputs(gh_output)  # later lines win, as on GitHub
    assert written["any"] == "false"
    assert written["unit_paths"] == ""


def test_generate_and_check(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "--root", str(workspace), "generate-workflows", "--check")[0] == 1
    assert run(capsys, "--root", str(workspace), "generate-workflows")[0] == 0
    assert run(capsys, "--root", str(workspace), "generate-workflows", "--check")[0] == 0
    target = workspace / "adapters" / "demo-backend-redis"
    (workspace / ".github/workflows/publish-demo-backend-redis.yml").unlink()
    code, out, _ = run(capsys, "write-workflow", str(target))
    assert code == 0
    assert "publish-demo-backend-redis.yml" in out
