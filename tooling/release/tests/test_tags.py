from __future__ import annotations

from collections.abc import Callable

import pytest

from spine_release.tags import TagError, check_tag, check_version, parse_tag
from spine_release.workspace import Distribution

MakeDist = Callable[..., Distribution]


@pytest.fixture
def dists(make_dist: MakeDist) -> list[Distribution]:
    return [
        make_dist("spine-core", "0.2.0"),
        make_dist("spine-backends", "0.3.0"),
        make_dist("spine-backend-redis", "0.2.1", kind="adapter"),
    ]


@pytest.mark.parametrize(
    ("tag", "distribution", "version"),
    [
        ("spine-core-v0.2.0", "spine-core", "0.2.0"),
        ("refs/tags/spine-core-v0.2.0", "spine-core", "0.2.0"),
        ("spine-backends-v0.3.0", "spine-backends", "0.3.0"),
        # The longest matching prefix wins: not spine-backend... nor spine-...
        ("spine-backend-redis-v0.2.1", "spine-backend-redis", "0.2.1"),
        ("spine-core-v1.0.0rc1", "spine-core", "1.0.0rc1"),
        ("spine-core-v1.0.0-rc.1", "spine-core", "1.0.0rc1"),  # PEP 440 normalisation
        ("v0.3.0", None, "0.3.0"),
        ("refs/tags/v1.0", None, "1.0"),
    ],
)
def test_parse_tag(
    dists: list[Distribution], tag: str, distribution: str | None, version: str
) -> None:
    parsed = parse_tag(tag, dists)
    assert parsed.distribution == distribution
    assert parsed.version == version
    assert parsed.is_fan_out is (distribution is None)


@pytest.mark.parametrize(
    ("tag", "message"),
    [
        ("", "empty tag"),
        ("release-1", "neither v<version> nor <distribution>-v<version>"),
        ("spine-cli-v0.1.0", "neither"),  # no such distribution
        ("spine-core-0.2.0", "neither"),  # the "v" is required
        ("spine-core-vnext", "not a PEP 440 version"),
        ("vnext", "neither"),
        ("v1.0+local", "local versions"),
    ],
)
def test_parse_tag_rejects(dists: list[Distribution], tag: str, message: str) -> None:
    with pytest.raises(TagError, match=message):
        parse_tag(tag, dists)


def test_single_package_tag_must_match_its_version(dists: list[Distribution]) -> None:
    assert check_tag("spine-core-v0.2.0", dists).version == "0.2.0"
    with pytest.raises(TagError, match=r"says version = '0.2.0'"):
        check_tag("spine-core-v0.2.1", dists)
    # 0.2 and 0.2.0 are equal versions but different releases: the tag must be exact.
    with pytest.raises(TagError, match="bump the version or fix the tag"):
        check_tag("spine-core-v0.2", dists)


def test_fan_out_tag_must_name_some_current_version(dists: list[Distribution]) -> None:
    assert check_tag("v0.3.0", dists).is_fan_out
    assert check_tag("v0.2.1", dists).is_fan_out
    with pytest.raises(TagError, match="no distribution has"):
        check_tag("v0.4.0", dists)


def test_check_version(make_dist: MakeDist) -> None:
    dist = make_dist("spine-core", "1.0.0rc1")
    assert check_version(dist, "1.0.0-rc.1") == "1.0.0rc1"
    with pytest.raises(TagError):
        check_version(dist, "1.0.0")
