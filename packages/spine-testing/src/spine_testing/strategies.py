"""Hypothesis strategies for Spine's vocabulary: ids, tenants, JSON metadata and States.

Needs the `hypothesis` extra (`spine-testing[hypothesis]`); nothing else in the kit imports
this module, so `spine_testing` stays importable without it.

Each kind comes in two flavours: the valid one (every backend must round-trip it exactly) and
a hostile one (inputs a store must either round-trip or refuse with `InvalidInput`, writing
nothing): empty and NUL ids, lone surrogates, ids over the length limit, NaN and infinities,
JSON nested past `MAX_JSON_DEPTH`.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from spine_core._validation import MAX_JSON_DEPTH, MAX_SESSION_ID_CHARS
from spine_core.messages import Message, Role, ToolCall, Usage, image_part, text_part
from spine_core.state import PendingApproval, RunStatus, State

__all__ = [
    "hostile_json",
    "hostile_metadata",
    "hostile_session_ids",
    "hostile_states",
    "hostile_tenant_ids",
    "json_values",
    "memory_contents",
    "messages",
    "metadata",
    "pending_approvals",
    "session_ids",
    "states",
    "tenant_ids",
    "tool_calls",
]

# Text every backend stores: any Unicode but NUL and the surrogates (hypothesis's default
# alphabet already leaves surrogates out).
_TEXT_CHARS = st.characters(blacklist_characters="\x00", blacklist_categories=["Cs"])
_ODD_IDS = (
    "a",
    " ",
    "a b",
    "a/b",
    "a:b",
    "{a}",
    "*",
    "?",
    "[x]",
    "..",
    "%00",
    "'; DROP TABLE x; --",
    '"quoted"',
    "\\",
    "tab\there",
    "new\nline",
    "é",
    "e\u0301",
    "日本語",
    "🦀",
    "\u200b",
    "\ufeff",
    "\uffff",
    "\U0010ffff",
    "x" * MAX_SESSION_ID_CHARS,
    "🦀" * MAX_SESSION_ID_CHARS,
)
_SURROGATES = ("\ud800", "\udfff", "\udc80", "a\ud83d")
_BIG_INTS = (2**31, 2**53 + 1, 2**63 - 1, 2**63, -(2**63), 2**64, 10**30, -(10**40))
_ODD_FLOATS = (-0.0, 5e-324, 1.7976931348623157e308, 0.1, 1e16, 1e-7, -2.5e-310)


def session_ids() -> st.SearchStrategy[str]:
    """Valid session ids: 1-256 characters, no NUL, valid UTF-8; odd punctuation and unicode."""
    return st.one_of(
        st.sampled_from(_ODD_IDS),
        st.text(_TEXT_CHARS, min_size=1, max_size=40),
        st.text(_TEXT_CHARS, min_size=MAX_SESSION_ID_CHARS - 2, max_size=MAX_SESSION_ID_CHARS),
    )


def hostile_session_ids() -> st.SearchStrategy[str]:
    """Session ids every store must refuse with `InvalidInput`."""
    return st.one_of(
        st.just(""),
        st.builds(
            lambda a, b: f"{a}\x00{b}", st.text(_TEXT_CHARS, max_size=5), st.text(max_size=5)
        ),
        st.builds(
            lambda a, s: f"{a}{s}", st.text(_TEXT_CHARS, max_size=5), st.sampled_from(_SURROGATES)
        ),
        st.integers(MAX_SESSION_ID_CHARS + 1, MAX_SESSION_ID_CHARS + 40).map(lambda n: "x" * n),
    )


def tenant_ids() -> st.SearchStrategy[str | None]:
    """Valid tenant ids: `None`, "" (a tenant of its own) or a session-id-like string."""
    return st.one_of(st.none(), st.just(""), session_ids())


def hostile_tenant_ids() -> st.SearchStrategy[str]:
    """Tenant ids every store must refuse: NUL, lone surrogates, over 256 characters."""
    return hostile_session_ids().filter(bool)


def _scalars(finite: bool = True) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.sampled_from(_BIG_INTS),
        st.floats(allow_nan=not finite, allow_infinity=not finite),
        st.sampled_from(_ODD_FLOATS),
        st.text(_TEXT_CHARS, max_size=20),
    )


def json_values(*, max_leaves: int = 12) -> st.SearchStrategy[Any]:
    """JSON documents every backend stores: nested, unicode, big ints, -0.0, no NaN/inf."""
    return st.recursive(
        _scalars(),
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(st.text(_TEXT_CHARS, max_size=8), children, max_size=4),
        ),
        max_leaves=max_leaves,
    )


def metadata(*, max_leaves: int = 12) -> st.SearchStrategy[dict[str, Any]]:
    """Valid metadata: a JSON object of `json_values`."""
    return st.dictionaries(
        st.text(_TEXT_CHARS, max_size=8), json_values(max_leaves=max_leaves), max_size=5
    )


def _nested(depth: int, leaf: Any) -> Any:
    value = leaf
    for i in range(depth - 1):
        value = {"k": value} if i % 2 else [value]
    return value


def hostile_json() -> st.SearchStrategy[Any]:
    """JSON-ish values a store must refuse (or keep exactly): NaN, inf, NUL, surrogates, depth."""
    return st.one_of(
        st.sampled_from([float("nan"), float("inf"), float("-inf")]),
        st.builds(lambda a: f"{a}\x00", st.text(_TEXT_CHARS, max_size=5)),
        st.sampled_from(_SURROGATES),
        st.builds(lambda s: {s: 1}, st.sampled_from(_SURROGATES)),
        st.integers(MAX_JSON_DEPTH + 1, MAX_JSON_DEPTH + 30).map(lambda d: _nested(d, 1)),
        st.sampled_from([10**400, -(10**400)]),
    )


def hostile_metadata() -> st.SearchStrategy[dict[str, Any]]:
    """A metadata dict with one hostile value, somewhere near the top, among valid ones."""
    return st.builds(
        lambda ok, key, bad, wrap: {**ok, key: [bad] if wrap else bad},
        metadata(max_leaves=4),
        st.text(_TEXT_CHARS, max_size=8),
        hostile_json(),
        st.booleans(),
    )


def tool_calls(*, max_leaves: int = 6) -> st.SearchStrategy[ToolCall]:
    """A model's tool call with JSON arguments."""
    return st.builds(
        ToolCall,
        id=st.text(_TEXT_CHARS, min_size=1, max_size=12),
        name=st.text(_TEXT_CHARS, min_size=1, max_size=12),
        arguments=metadata(max_leaves=max_leaves),
    )


def _parts() -> st.SearchStrategy[list[dict[str, Any]]]:
    return st.lists(
        st.one_of(
            st.builds(text_part, st.text(_TEXT_CHARS, max_size=30)),
            st.builds(lambda u: image_part(url=u), st.text(_TEXT_CHARS, max_size=20)),
            st.builds(
                lambda d: image_part(data=d, media_type="image/jpeg"),
                st.text("ABCDEFabcdef0123456789+/=", max_size=20),
            ),
        ),
        min_size=1,
        max_size=3,
    )


def messages(*, max_leaves: int = 6) -> st.SearchStrategy[Message]:
    """Turns of every role: text, multimodal parts, tool calls, tool results."""
    text = st.text(_TEXT_CHARS, max_size=60)
    return st.one_of(
        st.builds(Message.system, text),
        st.builds(Message.user, text),
        st.builds(Message.user_parts, _parts()),
        st.builds(
            Message.assistant,
            st.none() | text,
            st.lists(tool_calls(max_leaves=max_leaves), max_size=2),
        ),
        st.builds(
            Message.tool,
            text,
            st.text(_TEXT_CHARS, min_size=1, max_size=12),
            st.none() | st.text(_TEXT_CHARS, min_size=1, max_size=12),
        ),
        st.builds(Message, role=st.sampled_from(Role), content=st.none() | text),
    )


def pending_approvals(*, max_leaves: int = 6) -> st.SearchStrategy[PendingApproval]:
    """A tool call paused for a human, with a JSON payload."""
    return st.builds(
        PendingApproval,
        call=tool_calls(max_leaves=max_leaves),
        mode=st.sampled_from(["approve", "manual"]),
        payload=json_values(max_leaves=max_leaves),
    )


def states(
    session_id: st.SearchStrategy[str] | None = None,
    tenant_id: st.SearchStrategy[str | None] | None = None,
    *,
    max_messages: int = 4,
    max_leaves: int = 12,
) -> st.SearchStrategy[State]:
    """Valid States in spinekit's vocabulary (version `STATE_VERSION`).

    `max_leaves` bounds each JSON document inside (scratch, tool arguments, payloads).
    """
    small = max(1, max_leaves // 2)
    return st.builds(
        State,
        session_id=session_ids() if session_id is None else session_id,
        tenant_id=tenant_ids() if tenant_id is None else tenant_id,
        messages=st.lists(messages(max_leaves=small), max_size=max_messages),
        step=st.integers(0, 2**40),
        usage=st.builds(
            Usage,
            input_tokens=st.integers(0, 2**40),
            output_tokens=st.integers(0, 2**40),
            cost_usd=st.floats(0, 1e6),
        ),
        status=st.sampled_from(RunStatus),
        depth=st.integers(0, 50),
        pending=st.none() | pending_approvals(max_leaves=small),
        scratch=metadata(max_leaves=max_leaves),
    )


def hostile_states(session_id: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[State]:
    """States a store must refuse (or keep exactly): hostile ids, tenants or JSON inside."""
    sid = session_ids() if session_id is None else session_id
    return st.one_of(
        states(session_id=hostile_session_ids(), max_messages=1),
        st.builds(
            lambda s, t: s.model_copy(update={"tenant_id": t}),
            states(session_id=sid, max_messages=1),
            hostile_tenant_ids(),
        ),
        st.builds(
            lambda s, bad: s.model_copy(update={"scratch": bad}),
            states(session_id=sid, max_messages=1),
            hostile_metadata(),
        ),
        st.builds(
            lambda s, bad: s.model_copy(update={"messages": [Message.user(bad)]}),
            states(session_id=sid, max_messages=0),
            st.builds(lambda a, s: f"{a}{s}", st.text(max_size=3), st.sampled_from(_SURROGATES))
            | st.just("nul\x00"),
        ),
    )


def memory_contents() -> st.SearchStrategy[str]:
    """Text a memory store must keep exactly: non-blank, no NUL, any Unicode."""
    return st.text(_TEXT_CHARS, min_size=1, max_size=80).filter(lambda s: bool(s.strip()))
