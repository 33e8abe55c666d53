"""Conversation messages: the turns a `State` carries, as spinekit spells them."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, JsonValue

__all__ = ["Message", "Role", "ToolCall", "Usage", "image_part", "text_part"]


class _Model(BaseModel):
    # Unknown fields are kept rather than dropped, so a newer writer's data survives an
    # older reader's read-modify-write.
    # NaN/Infinity are written as bare tokens so `dump_state` can refuse them; pydantic's
    # default would silently turn them into null and lose data.
    model_config = ConfigDict(extra="allow", ser_json_inf_nan="constants")


class Role(StrEnum):
    """Who authored a message."""

    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"


class ToolCall(_Model):
    """A model's request to run a tool; `arguments` are as the model sent them."""

    id: str
    name: str
    arguments: dict[str, JsonValue] = Field(default_factory=dict)


class Message(_Model):
    """One conversation turn.

    `content` is None on an assistant turn that only carries `tool_calls`; `parts` holds
    multimodal blocks (see `text_part`, `image_part`); `tool_call_id` links a tool result to
    its call.
    """

    role: Role
    content: str | None = None
    parts: list[dict[str, JsonValue]] | None = None
    tool_calls: list[ToolCall] = Field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None

    @classmethod
    def system(cls, content: str) -> Message:
        """A system turn."""
        return cls(role=Role.SYSTEM, content=content)

    @classmethod
    def user(cls, content: str) -> Message:
        """A user turn."""
        return cls(role=Role.USER, content=content)

    @classmethod
    def user_parts(cls, parts: list[dict[str, JsonValue]]) -> Message:
        """A user turn made of content blocks (text and images)."""
        return cls(role=Role.USER, parts=parts)

    @classmethod
    def assistant(
        cls, content: str | None = None, tool_calls: list[ToolCall] | None = None
    ) -> Message:
        """An assistant turn: text, tool calls, or both."""
        return cls(role=Role.ASSISTANT, content=content, tool_calls=tool_calls or [])

    @classmethod
    def tool(cls, content: str, tool_call_id: str, name: str | None = None) -> Message:
        """The result of the tool call `tool_call_id`."""
        return cls(role=Role.TOOL, content=content, tool_call_id=tool_call_id, name=name)


def text_part(text: str) -> dict[str, JsonValue]:
    """A text content block."""
    return {"type": "text", "text": text}


def image_part(
    *, url: str | None = None, data: str | None = None, media_type: str = "image/png"
) -> dict[str, JsonValue]:
    """An image content block, by `url` or by base64 `data`; `ValueError` without either."""
    if url is not None:
        return {"type": "image", "url": url}
    if data is not None:
        return {"type": "image", "data": data, "media_type": media_type}
    raise ValueError("image_part needs either url or data")


class Usage(_Model):
    """Token and cost accounting for one or more model calls."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens."""
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        """The sum of two accounts."""
        if not isinstance(other, Usage):
            return NotImplemented
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cost_usd=self.cost_usd + other.cost_usd,
        )
