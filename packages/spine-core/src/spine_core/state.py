"""Run state: what a checkpoint store persists per session."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

__all__ = [
    "STATE_VERSION",
    "Message",
    "PendingApproval",
    "Role",
    "RunStatus",
    "State",
    "Usage",
]

STATE_VERSION = 1
"""Schema version written into every serialized `State`; see `register_migration`."""

Role = Literal["system", "user", "assistant", "tool"]


class _Model(BaseModel):
    # Unknown fields are kept rather than dropped, so a newer writer's data survives an
    # older reader's read-modify-write.
    # NaN/Infinity are written as bare tokens so `dump_state` can refuse them; pydantic's
    # default would silently turn them into null and lose data.
    model_config = ConfigDict(extra="allow", ser_json_inf_nan="constants")


class Message(_Model):
    """One conversation message."""

    role: Role
    content: str = ""
    name: str | None = None
    tool_call_id: str | None = None
    tool_calls: list[dict[str, JsonValue]] = Field(default_factory=list)
    metadata: dict[str, JsonValue] = Field(default_factory=dict)


class Usage(_Model):
    """Token and cost accounting for a run."""

    input_tokens: int = 0
    output_tokens: int = 0
    requests: int = 0
    cost_usd: float = 0.0

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens."""
        return self.input_tokens + self.output_tokens


class RunStatus(StrEnum):
    """Where a run is in its life."""

    RUNNING = "running"
    AWAITING_APPROVAL = "awaiting_approval"
    PAUSED = "paused"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class PendingApproval(_Model):
    """A tool call waiting for a human decision."""

    id: str
    tool: str
    arguments: dict[str, JsonValue] = Field(default_factory=dict)
    reason: str | None = None
    requested_at: datetime | None = None


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
