"""spinekit's State vocabulary, field for field: documents it wrote read back unchanged."""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest

from spine_core import (
    STATE_VERSION,
    DataError,
    InvalidInput,
    Message,
    PendingApproval,
    Role,
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

# A paused approval run exactly as spinekit's `state.model_dump_json()` writes it.
SPINEKIT_PAUSED = """{"version":1,"session_id":"run-42","tenant_id":null,"messages":[
{"role":"system","content":"You book travel.","parts":null,"tool_calls":[],"tool_call_id":null,
 "name":null},
{"role":"user","content":null,"parts":[{"type":"text","text":"Book this"},
 {"type":"image","data":"aGk=","media_type":"image/png"}],"tool_calls":[],"tool_call_id":null,
 "name":null},
{"role":"assistant","content":null,"parts":null,"tool_calls":[{"id":"call_1","name":"book_flight",
 "arguments":{"flight":"TP1337","seat":"12A"}}],"tool_call_id":null,"name":null}],
"step":2,"usage":{"input_tokens":120,"output_tokens":30,"cost_usd":0.0021},"status":"interrupted",
"depth":0,"pending":{"call":{"id":"call_1","name":"book_flight","arguments":{"flight":"TP1337",
"seat":"12A"}},"mode":"approve","payload":{"prompt":"Book TP1337 for EUR 189?"}},"scratch":{}}"""


def test_spinekit_paused_approval_document_reads_and_resumes() -> None:
    state = load_state(SPINEKIT_PAUSED, session_id="run-42")
    assert state.status is RunStatus.INTERRUPTED
    assert state.pending is not None
    assert state.pending.mode == "approve"
    assert state.pending.call == ToolCall(
        id="call_1", name="book_flight", arguments={"flight": "TP1337", "seat": "12A"}
    )
    assert state.pending.payload == {"prompt": "Book TP1337 for EUR 189?"}
    assistant = state.messages[2]
    assert assistant.role is Role.ASSISTANT
    assert assistant.content is None
    assert assistant.tool_calls[0].name == "book_flight"
    assert state.messages[1].parts == [
        text_part("Book this"),
        image_part(data="aGk=", media_type="image/png"),
    ]
    assert state.usage.total_tokens == 150
    # Resume: the human approved; the run goes on and is written back in the same shape.
    state.pending = None
    state.status = RunStatus.RUNNING
    state.add_message(Message.tool("booked", "call_1", name="book_flight"))
    state.add_message(Message.assistant("Done."))
    state.add_usage(Usage(input_tokens=10, output_tokens=2, cost_usd=0.25))
    raw = dump_state(state)
    again = load_state(raw, session_id="run-42")
    assert again == state
    document = json.loads(raw)
    assert document["status"] == "running"
    assert document["messages"][2]["content"] is None
    assert document["usage"] == {
        "input_tokens": 130,
        "output_tokens": 32,
        "cost_usd": 0.0021 + 0.25,
    }
    # Same field names as spinekit wrote: nothing renamed, nothing added to spinekit's shape.
    original = json.loads(SPINEKIT_PAUSED)
    assert set(document) == set(original)
    assert set(document["messages"][0]) == set(original["messages"][0])


@pytest.mark.parametrize("status", ["running", "done", "interrupted", "error"])
def test_run_status_values_are_spinekits(status: str) -> None:
    state = load_state(
        json.dumps({"version": 1, "session_id": "s", "status": status}), session_id="s"
    )
    assert state.status == status
    assert [s.value for s in RunStatus] == ["running", "done", "interrupted", "error"]


def test_pending_approval_defaults_and_manual_mode() -> None:
    pending = PendingApproval(call=ToolCall(id="c", name="t"))
    assert (pending.mode, pending.payload, pending.call.arguments) == ("approve", None, {})
    manual = PendingApproval(call=ToolCall(id="c", name="t"), mode="manual", payload="why")
    state = State(session_id="s", status=RunStatus.INTERRUPTED, pending=manual)
    assert load_state(dump_state(state), session_id="s").pending == manual


def test_message_helpers() -> None:
    call = ToolCall(id="c1", name="search", arguments={"q": "x"})
    assert Message.system("s") == Message(role=Role.SYSTEM, content="s")
    assert Message.user("u").role == "user"
    assert Message.user_parts([text_part("t")]).parts == [{"type": "text", "text": "t"}]
    assert Message.user_parts([text_part("t")]).content is None
    only_calls = Message.assistant(tool_calls=[call])
    assert (only_calls.content, only_calls.tool_calls) == (None, [call])
    assert Message.assistant().tool_calls == []
    tool = Message.tool("result", "c1", name="search")
    assert (tool.role, tool.tool_call_id, tool.name) == (Role.TOOL, "c1", "search")
    assert Message(role="assistant").content is None
    assert Role("tool") is Role.TOOL
    assert Role.USER == "user"


def test_content_parts() -> None:
    assert image_part(url="https://x.test/a.png") == {
        "type": "image",
        "url": "https://x.test/a.png",
    }
    assert image_part(data="QQ==", media_type="image/jpeg") == {
        "type": "image",
        "data": "QQ==",
        "media_type": "image/jpeg",
    }
    with pytest.raises(ValueError, match="url or data"):
        image_part()


def test_usage_adds_up() -> None:
    total = Usage(input_tokens=1, output_tokens=2, cost_usd=0.5) + Usage(input_tokens=3)
    assert total == Usage(input_tokens=4, output_tokens=2, cost_usd=0.5)
    assert total.total_tokens == 6
    state = State(session_id="s")
    state.add_usage(total)
    state.add_usage(total)
    assert state.usage.input_tokens == 8


def test_unknown_fields_survive_at_every_level() -> None:
    document = json.loads(SPINEKIT_PAUSED)
    document["future"] = 1
    document["messages"][0]["cache_hint"] = "x"
    document["pending"]["call"]["origin"] = "mcp"
    state = load_state(json.dumps(document), session_id="run-42")
    written = json.loads(dump_state(state))
    assert written["future"] == 1
    assert written["messages"][0]["cache_hint"] == "x"
    assert written["pending"]["call"]["origin"] == "mcp"


@pytest.mark.parametrize(
    "bad",
    [
        lambda: State(
            session_id="s",
            pending=PendingApproval(call=ToolCall(id="c", name="t"), payload={"x": float("nan")}),
        ),
        lambda: State(
            session_id="s",
            messages=[
                Message.assistant(
                    tool_calls=[ToolCall(id="c", name="t", arguments={"v": float("inf")})]
                )
            ],
        ),
        lambda: State(session_id="s", messages=[Message.user_parts([text_part("a\x00b")])]),
        lambda: State(session_id="s", messages=[Message.assistant("lone \ud800")]),
        lambda: State(session_id="s", pending=PendingApproval(call=ToolCall(id="c\x00", name="t"))),
    ],
    ids=["nan-payload", "inf-arguments", "nul-part", "lone-surrogate", "nul-call-id"],
)
def test_codec_guarantees_cover_the_new_fields(bad: Any) -> None:
    with pytest.raises(InvalidInput):
        dump_state(bad())


def test_non_json_payload_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="JSON"):
        PendingApproval(call=ToolCall(id="c", name="t"), payload=object())


@pytest.mark.parametrize(
    ("module", "names"),
    [
        ("spine_core.state", ["STATE_VERSION", "RunStatus", "PendingApproval", "State"]),
        (
            "spine_core.messages",
            ["Role", "ToolCall", "Message", "Usage", "text_part", "image_part"],
        ),
        ("spine_core.memory", ["MemoryRecord", "MemoryHit", "Embedder", "Memory"]),
        ("spine_core.checkpoint", ["CheckpointStore", "InMemoryCheckpointStore"]),
    ],
)
def test_spinekit_modules_import_their_names(module: str, names: list[str]) -> None:
    imported = importlib.import_module(module)
    top = importlib.import_module("spine_core")
    for name in names:
        assert getattr(imported, name) is getattr(top, name), name


async def test_spinekit_checkpoint_module_store_round_trips() -> None:
    from spine_core.checkpoint import CheckpointStore, InMemoryCheckpointStore

    store = InMemoryCheckpointStore()
    assert isinstance(store, CheckpointStore)
    state = load_state(SPINEKIT_PAUSED, session_id="run-42")
    await store.put(state)
    assert await store.get("run-42") == state


# -- migrations: spinekit's reading, Spine's errors ---------------------------------------------


@pytest.fixture
def clean_migrations(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(migrations_module, "_MIGRATIONS", {})


@pytest.mark.usefixtures("clean_migrations")
def test_migration_gap_is_a_value_error_and_a_data_error() -> None:
    with pytest.raises(ValueError, match="no migration registered from state version 1") as info:
        migrate({"version": 1}, target=2)
    assert isinstance(info.value, DataError)
    register_migration(1, lambda d: {**d})
    with pytest.raises(ValueError, match="did not advance"):  # spinekit's callers catch this
        migrate({"version": 1}, target=2)


@pytest.mark.usefixtures("clean_migrations")
def test_document_without_version_is_version_one_and_a_versionless_step_advances() -> None:
    def add_field(d: dict[str, Any]) -> dict[str, Any]:
        d.pop("version", None)
        return {**d, "added": True}

    register_migration(1, add_field)
    assert migrate({"session_id": "s"}, target=2) == {
        "session_id": "s",
        "added": True,
        "version": 2,
    }
    assert migrate({"session_id": "s"}) == {"session_id": "s"}  # already current (1)


def test_state_version_is_one() -> None:
    assert STATE_VERSION == 1
    assert State(session_id="s").version == 1
