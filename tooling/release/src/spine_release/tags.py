"""Release tags: ``<distribution>-v<version>`` releases one package, ``v<version>`` fans out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from packaging.version import InvalidVersion, Version

from spine_release.workspace import Distribution

_REF_PREFIX = "refs/tags/"


class TagError(ValueError):
    """A tag that cannot release anything; the message says why."""


@dataclass(frozen=True)
class ReleaseTag:
    """A parsed release tag."""

    tag: str
    version: str
    """The tag's version, in canonical PEP 440 form."""
    distribution: str | None
    """The one distribution it releases, or ``None`` for a fan-out tag."""

    @property
    def is_fan_out(self) -> bool:
        """Whether the tag releases every distribution that is not yet published."""
        return self.distribution is None


def normalize_version(text: str) -> str:
    """Canonical PEP 440 form of ``text``; :class:`TagError` if it is no version."""
    try:
        return str(Version(text))
    except InvalidVersion as exc:
        raise TagError(f"{text!r} is not a PEP 440 version") from exc


def parse_tag(tag: str, dists: Iterable[Distribution]) -> ReleaseTag:
    """Parse ``tag`` (a bare tag or ``refs/tags/...``) against the workspace's distributions.

    The distribution is matched by the longest known ``<name>-v`` prefix, so a
    name that itself contains ``-v`` cannot be mistaken for a shorter one.
    """
    bare = tag.removeprefix(_REF_PREFIX)
    if not bare:
        raise TagError("empty tag")
    if bare.startswith("v") and bare[1:2].isdigit():
        return ReleaseTag(tag=bare, version=_tag_version(bare, bare[1:]), distribution=None)
    matches = [d for d in dists if bare.startswith(d.tag_prefix)]
    if not matches:
        raise TagError(
            f"tag {bare!r} is neither v<version> nor <distribution>-v<version> "
            "for a distribution of this workspace"
        )
    dist = max(matches, key=lambda d: len(d.tag_prefix))
    return ReleaseTag(
        tag=bare,
        version=_tag_version(bare, bare[len(dist.tag_prefix) :]),
        distribution=dist.name,
    )


def check_tag(tag: str, dists: Iterable[Distribution]) -> ReleaseTag:
    """Parse ``tag`` and check it against the versions in the pyproject files.

    A single-package tag must name that package's current version exactly. A
    fan-out tag must name the current version of at least one distribution, so
    a mistyped release tag fails here, before anything is built.
    """
    dists = list(dists)
    parsed = parse_tag(tag, dists)
    if parsed.distribution is not None:
        dist = next(d for d in dists if d.name == parsed.distribution)
        check_version(dist, parsed.version)
        return parsed
    current = {normalize_version(d.version) for d in dists}
    if parsed.version not in current:
        listed = ", ".join(f"{d.name} {d.version}" for d in dists) or "none"
        raise TagError(
            f"tag {parsed.tag!r} names version {parsed.version}, which no distribution "
            f"has; current versions: {listed}"
        )
    return parsed


def check_version(dist: Distribution, version: str) -> str:
    """Check that ``version`` is ``dist``'s current version; return it in canonical form."""
    wanted = normalize_version(version)
    current = normalize_version(dist.version)
    if wanted != current:
        raise TagError(
            f"{dist.name}: asked to release {version}, but {dist.path}/pyproject.toml "
            f"says version = {dist.version!r}; bump the version or fix the tag"
        )
    return current


def _tag_version(tag: str, text: str) -> str:
    try:
        version = Version(text)
    except InvalidVersion as exc:
        raise TagError(f"tag {tag!r}: {text!r} is not a PEP 440 version") from exc
    if version.local is not None:
        raise TagError(f"tag {tag!r}: local versions ({version}) cannot be published")
    return str(version)
