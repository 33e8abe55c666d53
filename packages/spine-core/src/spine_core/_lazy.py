"""Lazy package exports, so importing an adapter package never imports its driver."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, homes: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Module `__getattr__` and `__dir__` that import each name from its submodule on first use.

    __getattr__, __dir__ = lazy_exports(__name__, {"RedisCheckpoint": "checkpoint"})
    """

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        try:
            module = import_module(f"{package}.{home}")
        except ModuleNotFoundError as exc:
            missing = exc.name or ""
            if missing == package or missing.startswith(f"{package}."):
                raise  # our own module is missing: a broken install, say so as it is
            # A driver the package depends on is absent (e.g. installed with --no-deps).
            raise ModuleNotFoundError(
                f"{package}.{name} needs the Python module {missing!r}, which is not "
                f"installed; reinstall {_distribution(package)} with its dependencies: "
                f'pip install "{_distribution(package)}"',
                name=missing,
            ) from exc
        value = getattr(module, name)
        setattr(sys.modules[package], name, value)  # later lookups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *homes})

    return __getattr__, __dir__


def _distribution(package: str) -> str:
    """The distribution that installed import package `package` (else its dashed name)."""
    from importlib.metadata import packages_distributions

    names = packages_distributions().get(package.partition(".")[0])
    return names[0] if names else package.replace("_", "-")
