from __future__ import annotations

from collections.abc import Callable

import pytest

from spine_release.plan import plan_release
from spine_release.tags import TagError
from spine_release.workspace import Distribution

MakeDist = Callable[..., Distribution]


@pytest.fixture
def dists(make_dist: MakeDist) -> list[Distribution]:
    return [
        make_dist("spine-core", "0.2.0"),
        make_dist("spine-testing", "0.2.0"),
        make_dist("spine-backend-redis", "0.1.1", kind="adapter"),
        make_dist("spine-backend-sqlite", "0.1.0", kind="adapter"),
    ]


class on_index:
    """A published-versions lookup over a fixed set of ``name==version`` strings."""

    def __init__(self, *released: str) -> None:
        self.released = set(released)
        self.seen: list[str] = []

    def __call__(self, name: str, version: str) -> bool:
        self.seen.append(f"{name}=={version}")
        return f"{name}=={version}" in self.released


def test_fan_out_publishes_only_what_is_missing(dists: list[Distribution]) -> None:
    plan = plan_release(
        "v0.2.0", dists, on_index("spine-backend-sqlite==0.1.0", "spine-core==0.1.0")
    )
    assert plan.tag.is_fan_out
    assert [(r.name, r.version) for r in plan.releases] == [
        ("spine-core", "0.2.0"),
        ("spine-testing", "0.2.0"),
        ("spine-backend-redis", "0.1.1"),
    ]
    assert [r.name for r in plan.already_published] == ["spine-backend-sqlite"]
    assert plan.releases[0].workflow == "publish-spine-core.yml"
    assert plan.releases[0].as_dict() == {
        "name": "spine-core",
        "version": "0.2.0",
        "workflow": "publish-spine-core.yml",
    }


def test_rerunning_a_finished_fan_out_plans_nothing(dists: list[Distribution]) -> None:
    everything = [f"{d.name}=={d.version}" for d in dists]
    plan = plan_release("v0.2.0", dists, on_index(*everything))
    assert plan.releases == ()
    assert len(plan.already_published) == len(dists)


def test_single_package_tag_plans_that_package_only(dists: list[Distribution]) -> None:
    lookup = on_index()
    plan = plan_release("spine-backend-redis-v0.1.1", dists, lookup)
    assert [r.name for r in plan.releases] == ["spine-backend-redis"]
    assert lookup.seen == ["spine-backend-redis==0.1.1"]


def test_single_package_tag_already_published(dists: list[Distribution]) -> None:
    plan = plan_release("spine-core-v0.2.0", dists, on_index("spine-core==0.2.0"))
    assert plan.releases == ()
    assert [r.name for r in plan.already_published] == ["spine-core"]


def test_a_mismatched_tag_fails_before_the_index_is_asked(dists: list[Distribution]) -> None:
    lookup = on_index()
    with pytest.raises(TagError):
        plan_release("spine-core-v0.3.0", dists, lookup)
    with pytest.raises(TagError):
        plan_release("v9.9.9", dists, lookup)
    assert lookup.seen == []
