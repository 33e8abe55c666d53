"""Spine conformance kit: one set of checks, run by pytest base classes and by a runner.

from spine_testing import CheckpointStoreContract, run_conformance

class TestMyStore(CheckpointStoreContract):
    @pytest.fixture
    def store_factory(self):
        return lambda **options: MyStore(**options)

report = await run_conformance(lambda **o: MyStore(**o))
print(report.render())  # per check, then the level (none < base < validated < standard < full)
"""

from .context import CheckContext, StoreFactory
from .contracts import CheckpointStoreContract, Intermittent, MemoryContract
from .crossprocess import cas_across_processes
from .expect import CheckFailed, CheckSkipped, NotAdvertised
from .factories import factory_for, shared_factory
from .registry import FUNCTIONAL, GROUPS, Check, get_check, list_checks
from .report import LEVELS, CheckResult, ConformanceReport, Level, Status, Verdict
from .runner import run_conformance, run_conformance_sync

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
