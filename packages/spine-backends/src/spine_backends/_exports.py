"""Lazy re-exports of names another distribution defines, with a missing-extra hint."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

from spine_core import ConfigError, Kind
from spine_core._backends import BACKENDS, missing_driver
from spine_core.registry import _find_factory

__all__ = ["MissingExtraError", "ensure_registered", "lazy_reexports"]


class MissingExtraError(ConfigError, ImportError):
    """A backend class was requested whose package (the extra that provides it) is missing.

    It is a `ConfigError` (Spine's "missing extra" error) and an `ImportError`, so both
    `except SpineError` and the usual `except ImportError` for optional features catch it.
    """


def lazy_reexports(
    package: str, homes: Mapping[str, tuple[str, str]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Module `__getattr__` and `__dir__` importing each name from its home on first access.

    `homes` maps a name to (the module that defines it, what to `pip install` when that
    module cannot be imported); the miss raises `MissingExtraError` naming the install.
    """

    def __getattr__(name: str) -> Any:
        spec = homes.get(name)
        if spec is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module_name, requirement = spec
        try:
            module = importlib.import_module(module_name)
            _check_driver(module_name, name)
        except ImportError as exc:
            # The adapter or its driver is absent: name the extra, keep the cause for debugging.
            raise MissingExtraError(
                f'{name} is not available ({exc}). Install it with: pip install "{requirement}"',
                name=module_name,
            ) from exc
        value = getattr(module, name)
        setattr(sys.modules[package], name, value)  # later accesses skip __getattr__
        return value

    def __dir__() -> list[str]:
        # Public names only: not the module's imports (Any, TYPE_CHECKING, …).
        module = sys.modules[package]
        public = getattr(module, "__all__", None)
        if public is None:
            public = [n for n in vars(module) if not n.startswith("_")]
        return sorted({*public, *homes})

    return __getattr__, __dir__


def _check_driver(module_name: str, attr: str) -> None:
    """Raise `ModuleNotFoundError` when the first-party class's driver is not installed.

    The adapters import their drivers lazily, so the class imports without it; the
    re-export checks, so `from spine_backends import RedisCheckpoint` fails with the hint
    instead of the first use failing with a bare `ModuleNotFoundError`.
    """
    for row in BACKENDS.values():
        if f"{module_name}:{attr}" in row.classes.values():
            missing = missing_driver(row.name)
            if missing is not None:
                raise ModuleNotFoundError(f"No module named {missing!r}", name=missing)


def ensure_registered(*backends: tuple[Kind, str]) -> None:
    """Load the (kind, name) backends into the registry, as spinekit's `register()` did.

    Spine registers them through entry points on first use, so this is only needed by code
    that called spinekit's `register()` functions.
    """
    for kind, name in backends:
        _find_factory(kind, name)
