"""Run state: what a checkpoint store persists per session (spinekit's document, version 1)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, JsonValue

from .messages import Message, Role, ToolCall, Usage, _Model

__all__ = [
    "STATE_VERSION",
    "Message",
    "PendingApproval",
    "Role",
    "RunStatus",
    "State",
    "ToolCall",
    "Usage",
]

STATE_VERSION = 1
"""Schema version written into every serialized `State`; see `register_migration`."""


class RunStatus(StrEnum):
    """Where a run is in its life."""

    RUNNING = "running"
    DONE = "done"
    INTERRUPTED = "interrupted"
    ERROR = "error"


class PendingApproval(_Model):
    """A tool call paused for a human decision.

    `mode` is "approve" for an approval gate and "manual" for a tool that interrupted itself;
    `payload` is what the host shows the human.
    """

    call: ToolCall
    mode: str = "approve"
    payload: JsonValue = None


class State(_Model):
    """Durable run state of one agent session."""

    version: int = STATE_VERSION
    session_id: str
    tenant_id: str | None = None
    messages: list[Message] = Field(default_factory=list)
    step: int = 0
    usage: Usage = Field(default_factory=Usage)
    status: RunStatus = RunStatus.RUNNING
    depth: int = 0
    pending: PendingApproval | None = None
    scratch: dict[str, JsonValue] = Field(default_factory=dict)

    def add_message(self, message: Message) -> None:
        """Append a turn."""
        self.messages.append(message)

    def add_usage(self, usage: Usage) -> None:
        """Add a model call's usage to the run's total."""
        self.usage = self.usage + usage
