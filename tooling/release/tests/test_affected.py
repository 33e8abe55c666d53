from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from spine_release.affected import affected
from spine_release.workspace import Distribution, discover

MakeDist = Callable[..., Distribution]
TOOLING = ("tooling/release", "tooling/cookiecutter-spine-backend")


@pytest.fixture
def dists(make_dist: MakeDist) -> list[Distribution]:
    return [
        make_dist("spine-core"),
        make_dist("spine-testing", requires=("spine-core",)),
        make_dist(
            "spine-backends",
            requires=("spine-core", "spine-backend-sqlite"),
            extras={"redis": ("spine-backend-redis",), "all": ("spine-backend-redis",)},
        ),
        make_dist(
            "spine-backend-sqlite",
            kind="adapter",
            requires=("spine-core",),
            dev_requires=("spine-testing",),
        ),
        make_dist(
            "spine-backend-redis",
            kind="adapter",
            requires=("spine-core",),
            dev_requires=("spine-testing",),
            services=("redis",),
        ),
    ]


def names(changed: list[str], dists: list[Distribution]) -> list[str]:
    return [d.name for d in affected(changed, dists, TOOLING).distributions]


def test_an_adapter_change_affects_it_and_the_umbrella(dists: list[Distribution]) -> None:
    assert names(["adapters/spine-backend-redis/src/spine_backend_redis/memory.py"], dists) == [
        "spine-backend-redis",
        "spine-backends",
    ]


def test_a_core_change_affects_everything_that_depends_on_it(dists: list[Distribution]) -> None:
    assert names(["packages/spine-core/src/spine_core/state.py"], dists) == sorted(
        d.name for d in dists
    )


def test_the_kit_reaches_adapters_through_their_dev_groups(dists: list[Distribution]) -> None:
    assert names(["packages/spine-testing/src/spine_testing/kit.py"], dists) == [
        "spine-backend-redis",
        "spine-backend-sqlite",
        "spine-backends",
        "spine-testing",
    ]


def test_the_umbrella_affects_only_itself(dists: list[Distribution]) -> None:
    assert names(["packages/spine-backends/README.md"], dists) == ["spine-backends"]


def test_packages_reach_the_adapter_template_but_adapters_do_not(
    dists: list[Distribution],
) -> None:
    template = "tooling/cookiecutter-spine-backend"
    assert affected(["packages/spine-core/x.py"], dists, TOOLING).tooling == (template,)
    assert affected(["adapters/spine-backend-redis/x.py"], dists, TOOLING).tooling == ()


def test_docs_affect_nothing(dists: list[Distribution]) -> None:
    result = affected(["docs/index.md", "README.md", "RELEASING.md"], dists, TOOLING)
    assert not result.everything
    assert result.distributions == ()
    assert result.tooling == ()


@pytest.mark.parametrize(
    "path", ["pyproject.toml", ".ci/run", ".github/workflows/ci.yml", "./pyproject.toml"]
)
def test_shared_configuration_affects_everything(dists: list[Distribution], path: str) -> None:
    result = affected([path], dists, TOOLING)
    assert result.everything
    assert len(result.distributions) == len(dists)
    assert result.tooling == tuple(sorted(TOOLING))


def test_release_tooling_follows_workflows_and_member_pyprojects(
    dists: list[Distribution],
) -> None:
    assert affected([".github/workflows/publish-spine-core.yml"], dists, TOOLING).tooling == (
        "tooling/release",
    )
    result = affected(["adapters/spine-backend-redis/pyproject.toml"], dists, TOOLING)
    assert result.tooling == ("tooling/release",)
    result = affected(["tooling/cookiecutter-spine-backend/cookiecutter.json"], dists, TOOLING)
    assert result.tooling == ("tooling/cookiecutter-spine-backend",)
    assert result.distributions == ()


def test_prefixes_do_not_match_sibling_folders(make_dist: MakeDist) -> None:
    dists = [make_dist("spine-backend"), make_dist("spine-backend-redis")]
    assert names(["packages/spine-backend-redis/x.py"], dists) == ["spine-backend-redis"]


def test_as_dict_is_shaped_for_matrices(dists: list[Distribution]) -> None:
    out = affected(["adapters/spine-backend-redis/x.py"], dists, TOOLING).as_dict()
    assert out["all"] is False
    assert out["adapters"] == [
        {
            "name": "spine-backend-redis",
            "path": "adapters/spine-backend-redis",
            "services": ["redis"],
        }
    ]
    assert out["packages"] == [
        {"name": "spine-backends", "path": "packages/spine-backends", "services": []}
    ]
    assert out["unit_paths"] == ["packages/spine-backends"]


def test_the_real_graph(repo_root: Path) -> None:
    dists = discover(repo_root)
    core = next((d for d in dists if d.name == "spine-core"), None)
    if core is None:
        pytest.skip("packages/spine-core is not in the workspace yet")
    result = affected([f"{core.path}/src/spine_core/__init__.py"], dists)
    # Every distribution of the workspace builds on the core.
    assert {d.name for d in result.distributions} == {d.name for d in dists}
