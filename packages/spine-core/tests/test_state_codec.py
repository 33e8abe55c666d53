"""State serialization, migrations and the codec every store shares."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from spine_core import (
    STATE_VERSION,
    DataError,
    InvalidInput,
    Message,
    PendingApproval,
    RunStatus,
    State,
    ToolCall,
    Usage,
    dump_state,
    image_part,
    load_state,
    migrate,
    register_migration,
    text_part,
)
from spine_core import _migrations as migrations_module


def rich_state() -> State:
    return State(
        session_id="s-☃-会话",
        tenant_id="acme",
        messages=[
            Message.system("be brief"),
            Message.user_parts([text_part("héllo 👋"), image_part(url="https://x.test/a.png")]),
            Message.assistant(tool_calls=[ToolCall(id="c1", name="search")]),
            Message.tool("{}", "c1", name="search"),
        ],
        step=3,
        usage=Usage(input_tokens=10, output_tokens=5, cost_usd=0.25),
        status=RunStatus.INTERRUPTED,
        depth=1,
        pending=PendingApproval(
            call=ToolCall(id="c2", name="pay", arguments={"amount": 10.5}),
            payload={"reason": "over the limit", "at": datetime.now(UTC).isoformat()},
        ),
        scratch={"nested": {"list": [1, 2.5, None, True, "x"]}, "empty": {}},
    )


def test_round_trip_is_exact() -> None:
    state = rich_state()
    assert load_state(dump_state(state), session_id=state.session_id) == state


def test_unknown_fields_survive_round_trip() -> None:
    raw = json.dumps({"version": STATE_VERSION, "session_id": "s", "future_field": [1]})
    state = load_state(raw, session_id="s")
    assert json.loads(dump_state(state))["future_field"] == [1]


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_numbers_are_refused(bad: float) -> None:
    with pytest.raises(InvalidInput, match="non-finite"):
        dump_state(State(session_id="s", scratch={"x": [1, {"y": bad}]}))


def test_nul_is_refused_but_escaped_backslash_is_fine() -> None:
    with pytest.raises(InvalidInput, match="NUL"):
        dump_state(State(session_id="s", messages=[Message.user("a\x00b")]))
    literal = State(session_id="s", scratch={"x": "a\\u0000b", "y": "NaN and Infinity"})
    assert load_state(dump_state(literal), session_id="s") == literal


@pytest.mark.parametrize("session_id", ["", "x" * 257, "a\x00b"])
def test_bad_session_ids_are_refused(session_id: str) -> None:
    with pytest.raises(InvalidInput):
        dump_state(State.model_construct(session_id=session_id))


def test_non_state_is_refused() -> None:
    with pytest.raises(InvalidInput):
        dump_state({"session_id": "s"})  # type: ignore[arg-type]


def test_corrupt_data_names_the_session() -> None:
    with pytest.raises(DataError, match="'s9'") as info:
        load_state("{not json", session_id="s9")
    assert info.value.session_id == "s9"
    with pytest.raises(DataError, match="'s9'"):
        load_state(
            json.dumps({"version": STATE_VERSION, "session_id": "s9", "step": "x"}), session_id="s9"
        )
    with pytest.raises(DataError, match="newer"):
        load_state(json.dumps({"version": STATE_VERSION + 1, "session_id": "s9"}), session_id="s9")


@pytest.fixture
def clean_migrations(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(migrations_module, "_MIGRATIONS", {})


@pytest.mark.usefixtures("clean_migrations")
def test_migrations_walk_forward() -> None:
    def v1_to_v2(d: dict[str, Any]) -> dict[str, Any]:
        d["steps"] = d.pop("steps_done", 0)
        return {**d, "version": 2}

    def v2_to_v3(d: dict[str, Any]) -> dict[str, Any]:
        d["step"] = d.pop("steps")
        return {**d, "version": 3}

    register_migration(1, v1_to_v2)
    register_migration(2, v2_to_v3)
    register_migration(2, v2_to_v3)  # same function again: harmless
    assert migrate({"version": 1, "steps_done": 4}, target=3) == {"version": 3, "step": 4}


@pytest.mark.usefixtures("clean_migrations")
def test_migration_gap_and_stall_fail_loud() -> None:
    with pytest.raises(DataError, match="no migration registered from state version 0"):
        migrate({"version": 0}, target=1)
    register_migration(0, lambda d: d)
    with pytest.raises(DataError, match="did not advance"):
        migrate({"version": 0}, target=1)


@pytest.mark.usefixtures("clean_migrations")
def test_conflicting_migration_registration_fails() -> None:
    from spine_core import ConfigError

    register_migration(0, lambda d: {**d, "version": 1})
    with pytest.raises(ConfigError, match="already registered"):
        register_migration(0, lambda d: {**d, "version": 1})
