from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from spine_release import workflows
from spine_release.workspace import by_name, discover


def test_the_repository_has_no_drift(repo_root: Path) -> None:
    """Every distribution has its publish workflow, exactly as the generator writes it."""
    problems = workflows.drift(repo_root)
    assert not problems, (
        "run `spine-release generate-workflows` and commit the result:\n  " + "\n  ".join(problems)
    )


def test_drift_is_detected(workspace: Path) -> None:
    assert sorted(p.name for p in workflows.generate(workspace)) == [
        "publish-demo-backend-redis.yml",
        "publish-demo-backend-sqlite.yml",
        "publish-demo-core.yml",
        "publish-demo-kit.yml",
        "publish-demo-umbrella.yml",
    ]
    assert workflows.drift(workspace) == []
    folder = workspace / ".github" / "workflows"

    (folder / "publish-demo-kit.yml").unlink()
    edited = folder / "publish-demo-core.yml"
    edited.write_text(edited.read_text() + "# hand edit\n")
    stale = folder / "publish-demo-gone.yml"
    stale.write_text((folder / "publish-demo-core.yml").read_text())
    (folder / "ci.yml").write_text("name: ci\n")  # hand-written workflows are left alone

    assert workflows.drift(workspace) == [
        ".github/workflows/publish-demo-core.yml differs from the generator's output",
        ".github/workflows/publish-demo-kit.yml is missing",
        ".github/workflows/publish-demo-gone.yml belongs to no distribution of the workspace",
    ]
    with pytest.raises(workflows.DriftError, match="generate-workflows"):
        workflows.check(workspace)

    workflows.generate(workspace)
    assert workflows.drift(workspace) == []
    assert not stale.exists()
    assert (folder / "ci.yml").exists()


def test_write_workflow_for_a_new_adapter(workspace: Path, add_member: Callable[..., Path]) -> None:
    folder = add_member(
        workspace,
        "adapters/demo-backend-qdrant",
        '[project]\nname = "demo-backend-qdrant"\nversion = "0.1.0"\n',
        package="demo_backend_qdrant",
    )
    target = workflows.write_workflow(folder)
    assert target == workspace / ".github/workflows/publish-demo-backend-qdrant.yml"
    text = target.read_text()
    assert text == workflows.render_workflow(by_name(discover(workspace))["demo-backend-qdrant"])
    assert '- "demo-backend-qdrant-v*"' in text
    assert "image: qdrant/qdrant:" in text
    assert "SPINE_QDRANT_URL: http://127.0.0.1:6333" in text
    with pytest.raises(FileNotFoundError):
        workflows.write_workflow(workspace / "adapters")


def test_rendered_workflow_shape(workspace: Path) -> None:
    dists = by_name(discover(workspace))
    redis = workflows.render_workflow(dists["demo-backend-redis"])
    core = workflows.render_workflow(dists["demo-core"])
    assert "@@{" not in redis + core
    assert "services:" in redis
    assert "services:" not in core
    assert "image: redis:8" in redis
    assert "image: redis:7" in redis
    assert "SPINE_REDIS_URL: redis://127.0.0.1:6379/0" in redis
    assert "SPINE_LEGACY_REDIS_URL: redis://127.0.0.1:6378/0" in redis
    for text in (redis, core):
        # Least privilege: nothing at the top, id-token only where it publishes.
        assert "\npermissions: {}\n" in text
        assert text.count("id-token: write") == 1
        assert "environment:\n      name: pypi" in text
        assert "enable-cache: false" in text
        assert "persist-credentials: false" in text


def _uses_lines(text: str) -> list[str]:
    return [m.group(1).strip() for m in re.finditer(r"^\s*(?:-\s+)?uses:\s*(.+)$", text, re.M)]


def test_every_action_is_pinned_to_a_commit(repo_root: Path) -> None:
    pinned = set(workflows.ACTIONS.values())
    files = sorted((repo_root / ".github" / "workflows").glob("*.yml"))
    assert files
    for path in files:
        for uses in _uses_lines(path.read_text()):
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+", uses), (
                f"{path.name}: {uses!r} is not pinned to a full commit with a version comment"
            )
            assert uses in pinned, f"{path.name}: {uses!r} differs from workflows.ACTIONS"


def test_ci_starts_the_same_servers_as_the_publish_workflows(repo_root: Path) -> None:
    ci = (repo_root / ".github" / "workflows" / "ci.yml").read_text()
    for containers in workflows.SERVICE_CONTAINERS.values():
        for c in containers:
            assert f"image: {c.image}\n" in ci
            assert f'"{c.port}:{c.container_port}"' in ci
            assert f"{c.env_var}: {c.url}\n" in ci


def test_workflows_name_no_host_but_loopback(repo_root: Path) -> None:
    """They rely on the tools' default index and never spell a host (DESIGN.md §7)."""
    url = re.compile(r"[a-z][a-z0-9+.-]*://(?:[^/@\s]*@)?([^/:\s\"']+)", re.I)
    for path in sorted((repo_root / ".github" / "workflows").glob("*.yml")):
        hosts = {m.group(1) for m in url.finditer(path.read_text())}
        assert hosts <= {"127.0.0.1"}, f"{path.name} names {sorted(hosts)}"
