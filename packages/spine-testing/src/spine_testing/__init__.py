"""Spine conformance kit: one set of checks, run by pytest base classes and by a runner.

from spine_testing import CheckpointStoreContract, run_conformance

class TestMyStore(CheckpointStoreContract):
    @pytest.fixture
    def store_factory(self):
        return lambda **options: MyStore(**options)

report = await run_conformance(lambda **o: MyStore(**o))
print(report.render())  # per check, then the level (none < base < validated < standard < full)

The runner needs no test framework; the base classes need pytest (`spine-testing[pytest]`).
"""

from typing import TYPE_CHECKING, Any

from .context import CheckContext, StoreFactory
from .crossprocess import cas_across_processes
from .expect import CheckFailed, CheckSkipped, NotAdvertised
from .factories import factory_for, shared_factory
from .registry import FUNCTIONAL, GROUPS, Check, get_check, list_checks
from .report import LEVELS, CheckResult, ConformanceReport, Level, Status, Verdict
from .runner import run_conformance, run_conformance_sync

if TYPE_CHECKING:
    from .contracts import CheckpointStoreContract, Intermittent, MemoryContract

__all__ = [
    "FUNCTIONAL",
    "GROUPS",
    "LEVELS",
    "Check",
    "CheckContext",
    "CheckFailed",
    "CheckResult",
    "CheckSkipped",
    "CheckpointStoreContract",
    "ConformanceReport",
    "Intermittent",
    "Level",
    "MemoryContract",
    "NotAdvertised",
    "Status",
    "StoreFactory",
    "Verdict",
    "cas_across_processes",
    "factory_for",
    "get_check",
    "list_checks",
    "run_conformance",
    "run_conformance_sync",
    "shared_factory",
]

_PYTEST_FACE = frozenset({"CheckpointStoreContract", "Intermittent", "MemoryContract"})
"""Names of the pytest face (`contracts`): loaded on first access, as they import pytest."""


def __getattr__(name: str) -> Any:
    # The runner behind `spine check` must work where pytest is not installed (a plain
    # `pip install spine-backends`); the base classes come with `spine-testing[pytest]`.
    if name not in _PYTEST_FACE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        from . import contracts
    except ModuleNotFoundError as exc:
        if exc.name not in ("pytest", "_pytest"):
            raise
        raise ModuleNotFoundError(
            f"spine_testing.{name} is the kit's pytest face and needs pytest: "
            'pip install "spine-testing[pytest]"',
            name=exc.name,
        ) from None
    value = getattr(contracts, name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    # Public names and submodules; not the typing helpers this module imports.
    return sorted({*globals(), *_PYTEST_FACE} - {"TYPE_CHECKING", "Any"})
