from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from spine_release import rehearsal
from spine_release.workspace import Distribution, discover


def test_scenarios_cover_each_distribution_and_each_umbrella_extra(workspace: Path) -> None:
    labels = [s.label for s in rehearsal.scenarios(discover(workspace))]
    assert labels == [
        "demo-backend-redis",
        "demo-backend-sqlite",
        "demo-core",
        "demo-kit",
        "demo-umbrella",
        "demo-umbrella[all]",
        "demo-umbrella[redis]",
    ]  # no [docs]: it installs nothing of ours


def test_expected_installed(workspace: Path) -> None:
    dists = discover(workspace)
    assert rehearsal.expected_installed(rehearsal.Scenario("demo-umbrella"), dists) == {
        "demo-umbrella",
        "demo-core",
        "demo-backend-sqlite",
    }
    assert rehearsal.expected_installed(rehearsal.Scenario("demo-umbrella", "all"), dists) == {
        "demo-umbrella",
        "demo-core",
        "demo-backend-sqlite",
        "demo-backend-redis",
    }
    # Dependency groups are for tests, not for users.
    assert rehearsal.expected_installed(rehearsal.Scenario("demo-backend-redis"), dists) == {
        "demo-backend-redis",
        "demo-core",
    }


def test_prerequisites_name_what_is_missing(
    workspace: Path, add_member: Callable[..., Path], make_dist: Callable[..., Distribution]
) -> None:
    assert rehearsal.prerequisites(workspace) == []
    (workspace / "adapters" / "demo-backend-wip").mkdir()
    add_member(
        workspace,
        "adapters/demo-backend-nosrc",
        '[project]\nname = "demo-backend-nosrc"\nversion = "1"\n',
    )
    text = (workspace / "pyproject.toml").read_text()
    (workspace / "pyproject.toml").write_text(text + "demo-extra = { workspace = true }\n")
    assert rehearsal.prerequisites(workspace) == [
        "adapters/demo-backend-wip has no pyproject.toml yet",
        "demo-extra is a workspace source in pyproject.toml but has no member folder yet",
        "adapters/demo-backend-nosrc has no src/<package>/__init__.py yet",
    ]


@pytest.mark.rehearsal
def test_release_rehearsal(repo_root: Path, tmp_path: Path) -> None:
    """Build every distribution, check it, install it cleanly from the wheels and run it."""
    reasons = rehearsal.prerequisites(repo_root)
    if reasons:
        pytest.skip("the workspace is not complete yet: " + "; ".join(reasons))
    start = time.perf_counter()
    report = rehearsal.rehearse(repo_root, tmp_path)
    elapsed = time.perf_counter() - start
    print(f"\nrehearsal took {elapsed:.1f}s\n{report.summary()}")
    assert report.ok, report.summary()
