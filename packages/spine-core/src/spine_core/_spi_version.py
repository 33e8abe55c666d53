"""The SPI version and the compatibility rule for plugins (a leaf: the bases import it)."""

from __future__ import annotations

from .errors import ConfigError

__all__ = ["SPI_VERSION", "check_spi_version"]

SPI_VERSION = "0.1"
"""Version of the store contract; stores carry the version they were written against."""


def _parse(version: str) -> tuple[int, int]:
    major, _, minor = version.partition(".")
    return int(major), int(minor or 0)


def check_spi_version(declared: object, *, owner: str) -> None:
    """Fail loud when `owner` declares an SPI version this core cannot serve.

    Same major (and, while the major is 0, the same minor), and a minor no newer than ours.
    """
    if not isinstance(declared, str):
        raise ConfigError(f"{owner} does not declare SPI_VERSION (a 'major.minor' str)")
    try:
        theirs, ours = _parse(declared), _parse(SPI_VERSION)
    except ValueError:
        raise ConfigError(f"{owner} declares a malformed SPI_VERSION {declared!r}") from None
    compatible = theirs[0] == ours[0] and (
        theirs[1] == ours[1] if ours[0] == 0 else theirs[1] <= ours[1]
    )
    if not compatible:
        raise ConfigError(
            f"{owner} implements SPI {declared} but this spine-core provides SPI {SPI_VERSION}; "
            "install versions that agree (see `spine plugin list`)"
        )
