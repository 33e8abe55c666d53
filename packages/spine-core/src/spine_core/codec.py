"""Serialization of `State` shared by every store, so all backends agree byte for byte."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError
from pydantic_core import PydanticSerializationError

from .errors import DataError, InvalidInput
from .migrations import migrate
from .state import STATE_VERSION, State
from .validation import has_escaped_nul, validate_session_id

__all__ = ["dump_state", "load_state"]


def _reject_constant(token: str) -> Any:
    raise InvalidInput(f"state contains a non-finite number ({token}); JSON cannot carry it")


def dump_state(state: State) -> str:
    """Validate `state` and serialize it to JSON; raises `InvalidInput` before any write."""
    if not isinstance(state, State):
        raise InvalidInput(f"expected a State, got {type(state).__name__}")
    validate_session_id(state.session_id)
    try:
        raw = state.model_dump_json()
    except PydanticSerializationError as exc:
        raise InvalidInput(f"state of session {state.session_id!r} is not JSON: {exc}") from exc
    # Cheap pre-checks on the hot path; the precise (slower) parse runs only on a hit.
    if "NaN" in raw or "Infinity" in raw:
        json.loads(raw, parse_constant=_reject_constant)
    if "\\u0000" in raw and has_escaped_nul(raw):
        raise InvalidInput(
            f"state of session {state.session_id!r} contains a NUL character, "
            "which not every backend can store"
        )
    return raw


def load_state(raw: str | bytes | bytearray | dict[str, Any], *, session_id: str) -> State:
    """Parse, migrate and validate a stored state; raises `DataError` naming the session."""
    if not isinstance(raw, dict):
        # Fast path: a document already at the current version parses straight into the
        # model in pydantic's Rust core, about twice as fast as json.loads + model_validate.
        # Anything else (an old version, invalid data) takes the careful path below.
        try:
            state = State.model_validate_json(raw)
        except (ValidationError, ValueError):
            pass
        else:
            if state.version == STATE_VERSION:
                return state
    try:
        data = json.loads(raw) if not isinstance(raw, dict) else dict(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataError(
            f"stored state of session {session_id!r} is not valid JSON: {exc}",
            session_id=session_id,
        ) from exc
    try:
        upgraded = migrate(data)
    except DataError as exc:
        raise DataError(
            f"stored state of session {session_id!r}: {exc}", session_id=session_id
        ) from exc
    try:
        return State.model_validate(upgraded)
    except ValidationError as exc:
        raise DataError(
            f"stored state of session {session_id!r} does not validate: "
            f"{exc.error_count()} error(s), first: {exc.errors()[0]['msg']}",
            session_id=session_id,
        ) from exc
