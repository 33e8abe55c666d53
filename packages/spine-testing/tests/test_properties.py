"""Property-based checks on the in-memory reference stores, and proof the comparison bites.

The same checks run on every backend from its adapter's tests/test_properties.py.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from spine_core._reference import InMemoryCheckpointStore, InMemoryVectorMemory
from spine_core.errors import InvalidInput
from spine_core.state import State
from spine_testing import properties, strategies


def test_states_round_trip_on_the_reference() -> None:
    tally = properties.run_state_properties(InMemoryCheckpointStore, max_examples=60)
    assert tally["stored"] >= 60
    assert tally["refused"] > 0  # the hostile strategy does produce refusals


def test_records_round_trip_on_the_reference() -> None:
    tally = properties.run_record_properties(InMemoryVectorMemory, max_examples=60)
    assert tally["stored"] >= 60
    assert tally["refused"] > 0


def test_the_comparison_has_no_false_alarms_on_the_reference_itself() -> None:
    # Every backend runs >= 1,000 steps in its own tests; here a short run shows the
    # machine itself agrees with an identical store.
    assert properties.run_checkpoint_comparison(InMemoryCheckpointStore, examples=8) > 0
    assert properties.run_memory_comparison(InMemoryVectorMemory, examples=8) > 0


class ForgetfulRevisions(InMemoryCheckpointStore):
    """Broken on purpose: an overwrite keeps the old revision."""

    async def put(
        self, state: State, *, expected_revision: int | None = None, ttl: float | None = None
    ) -> None:
        before = await self.revision(state.session_id)
        await super().put(state, expected_revision=expected_revision, ttl=ttl)
        if before:
            self._data[state.session_id].revision = before


class LeakyRefusals(InMemoryCheckpointStore):
    """Broken on purpose: writes the session's tenant marker before validating the state."""

    async def put(
        self, state: State, *, expected_revision: int | None = None, ttl: float | None = None
    ) -> None:
        try:
            await super().put(state, expected_revision=expected_revision, ttl=ttl)
        except InvalidInput:
            if state.session_id and "\x00" not in state.session_id:
                await super().put(State(session_id=state.session_id[:256]))
            raise


def test_the_comparison_catches_a_store_that_forgets_to_bump_revisions() -> None:
    with pytest.raises(AssertionError, match="revision"):
        properties.run_checkpoint_comparison(ForgetfulRevisions, examples=20, shrink=False)


def test_the_round_trip_catches_a_refusal_that_leaves_a_trace() -> None:
    with pytest.raises(AssertionError, match="left a trace"):
        properties.run_state_properties(LeakyRefusals, max_examples=60, shrink=False)


def test_strategies_generate_what_they_promise() -> None:
    from hypothesis import given, settings

    from spine_core._validation import validate_session_id, validate_tenant_id

    @settings(max_examples=200, deadline=None, database=None)
    @given(
        sid=strategies.session_ids(),
        bad=strategies.hostile_session_ids(),
        tenant=strategies.tenant_ids(),
        bad_tenant=strategies.hostile_tenant_ids(),
    )
    def check(sid: str, bad: str, tenant: str | None, bad_tenant: str) -> None:
        assert validate_session_id(sid) == sid
        with pytest.raises(InvalidInput):
            validate_session_id(bad)
        if tenant is not None:
            validate_tenant_id(tenant)
        with pytest.raises(InvalidInput):
            validate_tenant_id(bad_tenant)

    check()


def test_the_kit_imports_without_hypothesis(tmp_path: Any) -> None:
    # A meta-path blocker makes `import hypothesis` fail, as in an install without the extra.
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'hypothesis':\n"
        "            raise ImportError('no hypothesis')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import spine_testing, spine_testing.plugin\n"
        "try:\n"
        "    import spine_testing.strategies\n"
        "except ImportError:\n"
        "    print('ok')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "ok", out.stderr
