"""Test data shared by the checks: rich states, metadata and unicode samples."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from spine_core import (
    Message,
    PendingApproval,
    Role,
    RunStatus,
    State,
    ToolCall,
    Usage,
    image_part,
    text_part,
)

__all__ = [
    "TINY",
    "UNICODE_TEXTS",
    "big_state",
    "nested",
    "rich_metadata",
    "rich_state",
    "unicode_ids",
]

TINY = 5e-324
"""The smallest subnormal float: a vector of it has a norm whose inverse overflows."""

UNICODE_TEXTS: tuple[str, ...] = (
    "héllo wörld — ça va? ß Ω",
    "会话记忆 日本語のテキスト 한국어 문장",
    "مرحبا بالعالم שלום עולם",  # right to left
    "emoji 🚀🔥 family 👩‍👩‍👧 flag 🇺🇦 skin 👍🏽",
    "combining e\u0301 vs é, zero\u200bwidth, astral "
    "\U0001d518\U0001d52b\U0001d526\U0001d520\U0001d52c\U0001d521\U0001d522",
    "quotes ' \" ` backslash \\ tab\tnewline\nend",
)


def unicode_ids(unique: str) -> list[str]:
    """Session ids mixing scripts, emoji, RTL text and combining marks (all unique)."""
    return [
        f"会话-🚀-{unique}",
        f"שיחה-{unique}",
        f"جلسة {unique}",
        f"e\u0301-combining-{unique}",
        f"\U0001d518\U0001d52b\U0001d526-astral-{unique}",
        f"👩‍👩‍👧-{unique}",
    ]


def rich_state(session_id: str, *, tenant_id: str | None = None, step: int = 3) -> State:
    """A state using every field: messages of each role, usage, status, pending, nested scratch."""
    return State(
        session_id=session_id,
        tenant_id=tenant_id,
        messages=[
            Message.system("You are a careful assistant."),
            Message.user("Book a flight to Kyōto ✈️"),
            Message.user_parts([text_part("and this one 🛫"), image_part(data="aGk=")]),
            Message.assistant(
                tool_calls=[ToolCall(id="call_1", name="search", arguments={"city": "京都"})]
            ),
            Message.tool('{"flights": 3}', "call_1", name="search"),
        ],
        step=step,
        usage=Usage(input_tokens=1234, output_tokens=567, cost_usd=0.0123),
        status=RunStatus.INTERRUPTED,
        depth=2,
        pending=PendingApproval(
            call=ToolCall(
                id="call_2",
                name="book",
                arguments={"amount": 412.5, "currency": "EUR", "seats": [1, 2]},
            ),
            mode="approve",
            payload={
                "reason": "over the spending limit",
                "requested_at": "2025-03-04T05:06:07+09:00",
            },
        ),
        scratch={
            "nested": {"list": [1, 2.5, "three", None, True, {"deep": ["x", {"y": []}]}]},
            "empty_object": {},
            "empty_list": [],
            "big_int": 2**53,
            "negative": -7,
            "float": 0.1,
            "false": False,
            "null": None,
            "unicode": "مرحبا 世界 🚀",
            "ключ": "значение",
        },
    )


def big_state(session_id: str, *, approx_bytes: int = 2 * 1024 * 1024) -> State:
    """A state whose JSON is about `approx_bytes` long (many long, partly non-ASCII messages)."""
    chunk = ("lorem ipsum dolor sit amet, 世界 ✈️ " * 512)[:16_000]
    count = max(1, approx_bytes // (len(chunk.encode()) + 64))
    state = rich_state(session_id)
    state.messages = [
        Message(role=Role.USER if i % 2 else Role.ASSISTANT, content=f"{i}:{chunk}")
        for i in range(count)
    ]
    state.scratch["blob"] = "x" * 100_000
    return state


def rich_metadata() -> dict[str, Any]:
    """JSON metadata with every JSON type, nesting, and non-ASCII keys and values."""
    return {
        "str": "plain",
        "unicode": "héllo 世界 🚀 مرحبا",
        "int": 42,
        "negative": -7,
        "float": 2.5,
        "big": 2**53,
        "true": True,
        "false": False,
        "null": None,
        "list": [1, "two", 3.5, None, [False, {"k": "v"}]],
        "nested": {"a": {"b": {"c": [{"d": "deep"}]}}},
        "empty_object": {},
        "empty_list": [],
        "ключ": "значение",
        "emoji 🔑": "value",
    }


def utc(year: int, month: int = 1, day: int = 1) -> datetime:
    """An aware UTC datetime."""
    return datetime(year, month, day, tzinfo=UTC)


def nested(depth: int) -> dict[str, Any]:
    """``{"a": {"a": ...}}`` nested `depth` levels deep."""
    root: dict[str, Any] = {}
    cur = root
    for _ in range(depth - 1):
        cur["a"] = {}
        cur = cur["a"]
    return root
