"""The kit drops every namespace it made (through a store's `_drop_namespace`), and only those."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import pytest

from spine_core import InMemoryVectorMemory
from spine_testing import run_conformance
from spine_testing.context import drop_namespace


class DroppableMemory(InMemoryVectorMemory):
    """The reference memory, sharing data per namespace and remembering what was dropped."""

    data: ClassVar[dict[str, dict[str, Any]]] = {}
    opened: ClassVar[set[str]] = set()
    dropped: ClassVar[list[str]] = []

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._rows = self.data.setdefault(self.namespace, {})  # equal options → same data

    async def _open(self) -> None:
        self.opened.add(self.namespace)  # used, not only built (the kit builds trial stores)

    async def _drop_namespace(self) -> None:
        self.dropped.append(self.namespace)
        self.data.pop(self.namespace, None)


@pytest.fixture(autouse=True)
def fresh_state() -> None:
    DroppableMemory.data.clear()
    DroppableMemory.opened.clear()
    DroppableMemory.dropped.clear()


def test_the_runner_drops_every_namespace_it_made() -> None:
    report = asyncio.run(run_conformance(DroppableMemory, kind="memory"))
    assert report.ok, report.render()
    made = {ns for ns in DroppableMemory.opened if ns.startswith("spk_")}
    assert len(made) > 40  # one per check, plus the ones checks make themselves
    assert set(DroppableMemory.dropped) == made
    assert not made & set(DroppableMemory.data)


def test_only_kit_namespaces_are_dropped() -> None:
    users = DroppableMemory(namespace="default")
    with pytest.raises(ValueError, match="the kit did not make it"):
        asyncio.run(drop_namespace(users))
    assert DroppableMemory.dropped == []
    assert asyncio.run(drop_namespace(DroppableMemory(namespace="spk_0123456789ab")))
    assert DroppableMemory.dropped == ["spk_0123456789ab"]
    assert not asyncio.run(drop_namespace(InMemoryVectorMemory(namespace="spk_0123456789ab")))
