"""spinekit's checkpoint conformance suite, ported: every backend behaves the same.

The body is spinekit's contract, written the way spinekit code writes it (`State.add_message`,
`Message.user`, `Message.assistant`, positional constructors, `table=` / `prefix=`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from spine_core import Message, State


async def test_checkpoint_conformance(checkpoint: Any) -> None:
    assert await checkpoint.get("missing") is None

    state = State(session_id="conf")
    state.add_message(Message.user("hello"))
    await checkpoint.put(state)

    loaded = await checkpoint.get("conf")
    assert loaded is not None
    assert loaded.session_id == "conf"
    assert loaded.messages[0].content == "hello"

    state.add_message(Message.assistant("hi back"))
    await checkpoint.put(state)
    again = await checkpoint.get("conf")
    assert again is not None
    assert len(again.messages) == 2
    assert again == state

    await checkpoint.delete("conf")
    assert await checkpoint.get("conf") is None


async def test_revision_counts_puts(checkpoint: Any, checkpoint_backend: str) -> None:
    # spinekit's SQLite store exposed `revision`; every Spine store that advertises it agrees.
    if not hasattr(checkpoint, "revision"):
        assert checkpoint_backend == "memory"
        return
    state = State(session_id="x")
    state.add_message(Message.user("hi"))
    await checkpoint.put(state)
    assert await checkpoint.revision("x") == 1
    await checkpoint.put(state)
    assert await checkpoint.revision("x") == 2
    await checkpoint.delete("x")
    assert await checkpoint.get("x") is None
    assert await checkpoint.revision("missing") == 0


async def test_a_paused_run_survives_a_new_store(
    make_checkpoint: Callable[[], Any], checkpoint_backend: str
) -> None:
    # spinekit's durable human-approval resume: a brand-new store over the same data finds
    # the interrupted run with its pending tool call.
    from spine_core import PendingApproval, RunStatus, ToolCall

    call = ToolCall(id="call-1", name="transfer", arguments={"amount": 50})
    state = State(session_id="run-1", status=RunStatus.INTERRUPTED)
    state.add_message(Message.user("pay invoice"))
    state.add_message(Message.assistant(tool_calls=[call]))
    state.pending = PendingApproval(call=call)
    first = make_checkpoint()
    await first.put(state)
    if hasattr(first, "aclose"):
        await first.aclose()

    second = make_checkpoint()
    try:
        resumed = await second.get("run-1")
    finally:
        if hasattr(second, "aclose"):
            await second.aclose()
    assert resumed == state
    assert resumed is not None
    assert resumed.pending is not None
    assert resumed.pending.call.arguments == {"amount": 50}
    assert resumed.messages[1].content is None
