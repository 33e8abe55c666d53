"""What a release tag publishes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from spine_release.index import PublishedLookup
from spine_release.tags import ReleaseTag, check_tag, normalize_version
from spine_release.workspace import Distribution


@dataclass(frozen=True)
class PlannedRelease:
    """One distribution a tag will publish."""

    name: str
    version: str
    workflow: str
    """Its publish workflow's file name, for ``gh workflow run``."""

    def as_dict(self) -> dict[str, str]:
        """JSON-ready form (used as a GitHub Actions matrix entry)."""
        return {"name": self.name, "version": self.version, "workflow": self.workflow}


@dataclass(frozen=True)
class ReleasePlan:
    """The outcome of planning a tag: what to publish and what is already out."""

    tag: ReleaseTag
    releases: tuple[PlannedRelease, ...]
    already_published: tuple[PlannedRelease, ...]


def plan_release(
    tag: str, dists: Iterable[Distribution], is_published: PublishedLookup
) -> ReleasePlan:
    """Plan ``tag``: check it against the pyproject versions, then drop what is published.

    A single-package tag plans that package; a fan-out tag plans every
    distribution. Either way, a version ``is_published`` reports as already on
    the index is listed under ``already_published`` instead, so re-running a
    release publishes only what is missing.
    """
    dists = list(dists)
    parsed = check_tag(tag, dists)
    chosen = [d for d in dists if parsed.distribution in (None, d.name)]
    todo: list[PlannedRelease] = []
    done: list[PlannedRelease] = []
    for dist in chosen:
        item = PlannedRelease(dist.name, normalize_version(dist.version), dist.workflow_file)
        (done if is_published(item.name, item.version) else todo).append(item)
    return ReleasePlan(tag=parsed, releases=tuple(todo), already_published=tuple(done))
