from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from spine_release.workspace import (
    WorkspaceError,
    by_name,
    declared_sources,
    dependants,
    discover,
    find_root,
    incomplete_members,
)


def test_discover_reads_every_member(workspace: Path) -> None:
    dists = by_name(discover(workspace))
    assert sorted(dists) == [
        "demo-backend-redis",
        "demo-backend-sqlite",
        "demo-core",
        "demo-kit",
        "demo-umbrella",
    ]
    umbrella = dists["demo-umbrella"]
    assert umbrella.version == "1.3.0"
    assert umbrella.path == Path("packages/demo-umbrella")
    assert umbrella.kind == "package"
    assert umbrella.requires == {"demo-core", "demo-backend-sqlite"}
    # `all` refers to the umbrella's own `redis` extra; third-party-only extras are empty.
    assert umbrella.extras == {
        "redis": {"demo-backend-redis"},
        "all": {"demo-backend-redis"},
        "docs": set(),
    }
    assert umbrella.entry_points["console_scripts"] == {"spine": "demo_umbrella.cli:main"}
    assert dists["demo-core"].entry_points["spine.plugins"] == {
        "memory.checkpoint": "demo_core.ref:Mem"
    }
    redis = dists["demo-backend-redis"]
    assert redis.kind == "adapter"
    assert redis.dev_requires == {"demo-kit"}


def test_services_come_from_the_table_else_from_the_name(workspace: Path) -> None:
    dists = by_name(discover(workspace))
    assert dists["demo-backend-redis"].services == ("redis",)  # guessed from the name
    assert dists["demo-backend-sqlite"].services == ()  # declared: none
    assert dists["demo-core"].services == ()


def test_declared_services_are_validated(workspace: Path, add_member: Callable[..., Path]) -> None:
    add_member(
        workspace,
        "adapters/demo-backend-x",
        '[project]\nname = "demo-backend-x"\nversion = "1"\n'
        '[tool.spine.release]\nservices = ["postgres", "redis"]\n',
    )
    assert by_name(discover(workspace))["demo-backend-x"].services == ("redis", "postgres")
    add_member(
        workspace,
        "adapters/demo-backend-x",
        '[project]\nname = "demo-backend-x"\nversion = "1"\n'
        '[tool.spine.release]\nservices = ["mongodb"]\n',
    )
    with pytest.raises(WorkspaceError, match="unknown services"):
        discover(workspace)


def test_members_without_a_pyproject_are_reported_not_read(workspace: Path) -> None:
    (workspace / "adapters" / "demo-backend-wip" / "src").mkdir(parents=True)
    assert "demo-backend-wip" not in by_name(discover(workspace))
    assert incomplete_members(workspace) == ["adapters/demo-backend-wip has no pyproject.toml yet"]


def test_duplicate_names_fail(workspace: Path, add_member: Callable[..., Path]) -> None:
    add_member(workspace, "adapters/copy", '[project]\nname = "demo_core"\nversion = "1"\n')
    with pytest.raises(WorkspaceError, match="declared twice"):
        discover(workspace)


def test_dependants_follow_runtime_extras_and_dev_groups(workspace: Path) -> None:
    dists = discover(workspace)
    assert dependants(dists, ["demo-backend-redis"]) == {"demo-backend-redis", "demo-umbrella"}
    assert dependants(dists, ["demo-kit"]) == {"demo-kit", "demo-backend-redis", "demo-umbrella"}
    assert dependants(dists, ["demo-core"]) == {d.name for d in dists}


def test_find_root_and_sources(workspace: Path) -> None:
    assert find_root(workspace / "adapters" / "demo-backend-redis" / "src") == workspace
    assert "demo-core" in declared_sources(workspace)


def test_the_real_workspace_is_readable(repo_root: Path) -> None:
    dists = discover(repo_root)
    assert dists, "no distribution found under packages/ or adapters/"
    for dist in dists:
        assert dist.path.parts[0] in {"packages", "adapters"}
        assert dist.name == dist.name.lower()
