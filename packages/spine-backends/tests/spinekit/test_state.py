"""spinekit's State serialization tests, ported."""

from __future__ import annotations

import json

import pytest

from spine_core import Message, Role, State, ToolCall, Usage, image_part, text_part
from spine_core.state import STATE_VERSION, PendingApproval, RunStatus


def test_state_round_trips_through_json() -> None:
    state = State(session_id="s1")
    state.add_message(Message.user("hello"))
    state.add_message(Message.assistant("hi"))
    state.add_usage(Usage(input_tokens=10, output_tokens=3, cost_usd=0.01))

    restored = State.model_validate_json(state.model_dump_json())
    assert restored == state
    assert restored.version == STATE_VERSION
    assert restored.usage.total_tokens == 13


def test_usage_adds_up() -> None:
    total = Usage(input_tokens=1, output_tokens=2, cost_usd=0.5) + Usage(
        input_tokens=3, output_tokens=4, cost_usd=0.25
    )
    assert (total.input_tokens, total.output_tokens, total.cost_usd) == (4, 6, 0.75)


def test_message_helpers_are_spinekits() -> None:
    call = ToolCall(id="c1", name="lookup", arguments={"q": "x"})
    assert Message.system("s").role is Role.SYSTEM
    assert Message.user("u").role == "user"
    assert Message.assistant().content is None
    assert Message.assistant(tool_calls=[call]).tool_calls == [call]
    tool = Message.tool("result", "c1", name="lookup")
    assert (tool.role, tool.tool_call_id, tool.name) == (Role.TOOL, "c1", "lookup")
    parts = [text_part("look"), image_part(url="https://example.invalid/cat.png")]
    assert Message.user_parts(parts).parts == parts
    assert image_part(data="AAAA") == {"type": "image", "data": "AAAA", "media_type": "image/png"}
    with pytest.raises(ValueError, match="url or data"):
        image_part()


def test_spinekit_document_reads() -> None:
    # A paused approval run exactly as spinekit serialized it.
    document = {
        "version": 1,
        "session_id": "run-7",
        "tenant_id": None,
        "messages": [
            {
                "role": "user",
                "content": "pay",
                "parts": None,
                "tool_calls": [],
                "tool_call_id": None,
                "name": None,
            },
            {
                "role": "assistant",
                "content": None,
                "parts": None,
                "tool_calls": [{"id": "c9", "name": "transfer", "arguments": {"amount": 5}}],
                "tool_call_id": None,
                "name": None,
            },
        ],
        "step": 1,
        "usage": {"input_tokens": 12, "output_tokens": 4, "cost_usd": 0.001},
        "status": "interrupted",
        "depth": 0,
        "pending": {
            "call": {"id": "c9", "name": "transfer", "arguments": {"amount": 5}},
            "mode": "approve",
            "payload": {"why": "over limit"},
        },
        "scratch": {},
    }
    state = State.model_validate_json(json.dumps(document))
    assert state.status is RunStatus.INTERRUPTED
    assert isinstance(state.pending, PendingApproval)
    assert state.pending.call.name == "transfer"
    assert state.messages[1].content is None
    assert {s.value for s in RunStatus} == {"running", "done", "interrupted", "error"}
