"""Hostile input is refused with a typed error before anything is written (issue 14).

Defects 5, 6, 8, 9, 10, 14, 16 and 17 at the core level: the shared checks every backend calls.
The kit holds every backend to the same rules (the validation checks in
spine_testing/checks/{checkpoint,memory}/, run by every adapter).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import pytest

from spine_core import (
    STATE_VERSION,
    ConfigError,
    DataError,
    InvalidInput,
    Message,
    State,
    ToolCall,
    dump_state,
    load_state,
    open_checkpoint,
    open_memory,
    register_migration,
)
from spine_core import _migrations as migrations_module
from spine_core._validation import (
    MAX_JSON_DEPTH,
    MAX_TTL_SECONDS,
    encode_metadata,
    validate_embedder,
    validate_items,
    validate_tenant_id,
    validate_ttl,
    validate_vector,
)


def nested(depth: int) -> dict[str, Any]:
    """A JSON object `depth` levels deep (the outermost object is level 1)."""
    root: dict[str, Any] = {}
    cur = root
    for _ in range(depth - 1):
        cur["a"] = {}
        cur = cur["a"]
    return root


# -- 5: one ttl range ----------------------------------------------------------------------


@pytest.mark.parametrize("ttl", [1e17, 1e13, MAX_TTL_SECONDS + 1, 2**63, 10**400])
def test_a_ttl_beyond_the_maximum_is_refused(ttl: float) -> None:
    with pytest.raises(InvalidInput, match="at most"):
        validate_ttl(ttl)


def test_the_maximum_ttl_is_ten_years_and_accepted() -> None:
    assert MAX_TTL_SECONDS == 10 * 365 * 86400
    assert validate_ttl(MAX_TTL_SECONDS) == MAX_TTL_SECONDS
    assert validate_ttl(1e-3) == 1e-3


# -- 6: vectors whose normalisation overflows ----------------------------------------------


@pytest.mark.parametrize(
    "vector",
    [
        [5e-324] + [0.0] * 7,
        [5e-324, -5e-324] + [0.0] * 6,
        [1e-310] * 8,
    ],
)
def test_a_vector_too_small_to_normalise_is_refused(vector: list[float]) -> None:
    with pytest.raises(InvalidInput, match="embedder"):
        validate_vector(vector, 8)


@pytest.mark.parametrize("vector", [[1e308] * 8, [3e-308] + [0.0] * 7, [1.0, 2.0] * 4])
def test_every_accepted_vector_is_a_finite_unit_vector(vector: list[float]) -> None:
    unit = validate_vector(vector, 8)
    assert all(math.isfinite(x) for x in unit)
    assert math.isclose(math.hypot(*unit), 1.0, rel_tol=1e-9)


# -- 8: states that would not come back ----------------------------------------------------


def test_a_lone_surrogate_dict_key_is_refused() -> None:
    state = State(session_id="s")
    state.scratch["\ud800"] = 1
    with pytest.raises(InvalidInput, match="surrogate"):
        dump_state(state)
    call = ToolCall(id="c1", name="t")
    call.arguments["k\udfff"] = "v"
    message = Message.assistant(tool_calls=[call])
    with pytest.raises(InvalidInput, match="surrogate"):
        dump_state(State(session_id="s", messages=[message]))


def test_a_real_replacement_character_is_kept() -> None:
    state = State(session_id="s", scratch={"\ufffd": "\ufffd"})
    assert load_state(dump_state(state), session_id="s") == state


def test_fields_assigned_after_construction_are_checked() -> None:
    bad_step = State(session_id="s")
    bad_step.step = "abc"  # type: ignore[assignment]
    with pytest.raises(InvalidInput, match="step"):
        dump_state(bad_step)
    bad_message = State(session_id="s")
    bad_message.messages.append("x")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="messages"):
        dump_state(bad_message)


@pytest.mark.parametrize("version", [0, 99, STATE_VERSION + 1, -1])
def test_a_state_at_another_version_is_refused_on_write(version: int) -> None:
    with pytest.raises(InvalidInput, match="version"):
        dump_state(State(session_id="s", version=version))


def test_a_version_0_state_is_not_migrated_into_emptiness(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(migrations_module, "_MIGRATIONS", {})
    register_migration(0, lambda d: {"version": 1, "session_id": d["session_id"]})
    with pytest.raises(InvalidInput, match="version"):
        dump_state(State(session_id="s", version=0, messages=[Message(role="user", content="x")]))


# -- 10: a stored state of another session -------------------------------------------------


def test_a_stored_state_naming_another_session_is_a_data_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(migrations_module, "_MIGRATIONS", {})
    register_migration(0, lambda d: {**d, "version": 1})
    raw = dump_state(State(session_id="other"))
    with pytest.raises(DataError, match=r"'mine'.*'other'") as raised:
        load_state(raw, session_id="mine")
    assert raised.value.session_id == "mine"
    with pytest.raises(DataError, match="other"):
        load_state(json.loads(raw), session_id="mine")
    migrated = json.loads(raw) | {"version": 0}
    with pytest.raises(DataError, match="other"):
        load_state(json.dumps(migrated), session_id="mine")


# -- 14: tenant ids ------------------------------------------------------------------------


@pytest.mark.parametrize("tenant", ["t\x00", "\ud800", "x" * 257, 5])
def test_bad_tenant_ids_are_refused(tenant: object) -> None:
    with pytest.raises(InvalidInput, match="tenant"):
        validate_tenant_id(tenant)
    with pytest.raises(InvalidInput, match="tenant"):
        dump_state(State.model_construct(session_id="s", tenant_id=tenant))


@pytest.mark.parametrize("tenant", ["t\x00", "\ud800", "x" * 257])
async def test_list_sessions_refuses_a_bad_tenant_id(tenant: str) -> None:
    store = open_checkpoint("memory://")
    with pytest.raises(InvalidInput, match="tenant"):
        await store.list_sessions(tenant_id=tenant)


# -- 16: deep nesting ----------------------------------------------------------------------


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1000, 100_000])
def test_deep_metadata_is_refused(depth: int) -> None:
    with pytest.raises(InvalidInput, match="deep"):
        encode_metadata(nested(depth))


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH, 500])
def test_deep_lists_in_metadata_are_refused(depth: int) -> None:
    with pytest.raises(InvalidInput, match="deep"):
        encode_metadata({"list": json.loads("[" * depth + "]" * depth)})


def test_metadata_at_the_depth_limit_is_accepted() -> None:
    copy, text = encode_metadata(nested(MAX_JSON_DEPTH))
    assert json.loads(text) == copy
    # Brackets inside strings are text, not nesting.
    encode_metadata({"s": "[" * 10_000 + "{" * 10_000})


@pytest.mark.parametrize("depth", [255, 1000, 100_000])
def test_a_deep_state_is_refused_on_write(depth: int) -> None:
    state = State(session_id="s")
    state.scratch["deep"] = nested(depth)
    with pytest.raises(InvalidInput, match="deep"):
        dump_state(state)


@pytest.mark.parametrize("where", ["scratch", "arguments", "extra"])
def test_the_deepest_state_written_is_read_back(where: str) -> None:
    # Writing stops at pydantic's serializer limit; everything below it must read back,
    # including past the fast JSON parser's own limit (200).
    last = None
    for depth in range(150, 300):
        state = State(session_id="s", messages=[Message(role="user", content="x")])
        if where == "scratch":
            state.scratch["deep"] = nested(depth)
        elif where == "arguments":
            call = ToolCall(id="c1", name="t", arguments={"deep": nested(depth)})
            state.messages.append(Message.assistant(tool_calls=[call]))
        else:
            state.deep = nested(depth)
        try:
            raw = dump_state(state)
        except InvalidInput:
            break
        last = (raw, state)
    assert last is not None
    assert load_state(last[0], session_id="s") == last[1]


@pytest.mark.parametrize("depth", [300, 5_000, 100_000])
def test_a_deep_stored_state_is_a_data_error(depth: int) -> None:
    raw = '{"version":1,"session_id":"s","scratch":{"k":' + "[" * depth + "]" * depth + "}}"
    with pytest.raises(DataError, match="'s'") as raised:
        load_state(raw, session_id="s")
    assert raised.value.session_id == "s"


# -- 9, 17: save_many arguments and embedders ----------------------------------------------


@pytest.mark.parametrize(
    "items",
    [{"content": "hello", "session_id": "s"}, None, "text", b"bytes", 5, {"a", "b"}],
)
def test_save_many_takes_only_a_sequence(items: object) -> None:
    with pytest.raises(InvalidInput, match="save_many"):
        validate_items(items)


@pytest.mark.parametrize("items", [[{"content": "x"}], [None]])
async def test_save_many_refuses_a_mapping_and_none(items: object) -> None:
    memory = open_memory("memory://")
    for bad in (items, {"content": "hello", "session_id": "s"}, None):
        with pytest.raises(InvalidInput):
            await memory.save_many(bad)  # type: ignore[arg-type]
    assert await memory.load("s") == []


class _Embedder:
    dimension = 8
    name = "tiny"

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [[1.0] * 8 for _ in texts]


@pytest.mark.parametrize("embedder", ["x", 5, object(), _Embedder])
def test_a_non_embedder_is_a_config_error_at_construction(embedder: object) -> None:
    with pytest.raises(ConfigError, match="embedder"):
        validate_embedder(embedder)
    with pytest.raises(ConfigError, match="embedder"):
        open_memory("memory://", embedder=embedder)


def test_an_embedder_is_accepted() -> None:
    embedder = _Embedder()
    assert validate_embedder(embedder) is embedder


@pytest.mark.parametrize("url", ["redis://[::1/0", "postgresql://[::1/x", "qdrant://[::1"])
def test_a_malformed_url_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError):
        open_checkpoint(url) if not url.startswith("qdrant") else open_memory(url)
