"""Version facts shown by `spine --version` and recorded in benchmark results."""

from __future__ import annotations

import platform
from importlib import metadata

from spine_core import SPI_VERSION

__all__ = ["distribution_version", "version_line"]


def distribution_version(name: str) -> str | None:
    """The installed version of a distribution, or None."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def version_line() -> str:
    """`spine 0.1.0 (spine-core 0.1.0, SPI 0.1, Python 3.11.7)`."""
    own = distribution_version("spine-backends") or "0+unknown"
    core = distribution_version("spine-core") or "0+unknown"
    return f"spine {own} (spine-core {core}, SPI {SPI_VERSION}, Python {platform.python_version()})"
