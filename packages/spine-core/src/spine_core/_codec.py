"""Serialization of `State` shared by every store, so all backends agree byte for byte."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError
from pydantic_core import PydanticSerializationError

from ._migrations import migrate
from ._validation import has_escaped_nul, validate_session_id, validate_tenant_id
from .errors import DataError, InvalidInput
from .state import STATE_VERSION, State

__all__ = ["dump_state", "load_metadata", "load_state"]


def _reject_constant(token: str) -> Any:
    raise InvalidInput(f"state contains a non-finite number ({token}); JSON cannot carry it")


def _surrogate_key(value: object) -> bool:
    """Whether any dict key at any depth holds a lone surrogate (iterative: no recursion)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key in item:
                if isinstance(key, str):
                    try:
                        key.encode("utf-8")
                    except UnicodeEncodeError:
                        return True
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return False


def dump_state(state: State) -> str:
    """Validate `state` and serialize it to JSON; raises `InvalidInput` before any write.

    Refused: a state at a version other than `STATE_VERSION` (readers would migrate it
    again), fields assigned after construction with the wrong type, NaN/Infinity, NUL, lone
    surrogates (also in dict keys) and nesting deeper than pydantic serializes (about 250
    levels; everything it writes, `load_state` reads back).
    """
    if not isinstance(state, State):
        raise InvalidInput(f"expected a State, got {type(state).__name__}")
    sid = validate_session_id(state.session_id)
    if state.tenant_id is not None:
        validate_tenant_id(state.tenant_id)
    if state.version != STATE_VERSION:
        raise InvalidInput(
            f"state of session {sid!r} is at version {state.version!r}; stores write only "
            f"version {STATE_VERSION} (load older documents through load_state, which migrates)"
        )
    try:
        # warnings="error": a field assigned after construction with the wrong type
        # (`state.step = "abc"`, `state.messages.append("x")`) fails here instead of being
        # written and failing every later read.
        raw = state.model_dump_json(warnings="error")
    except PydanticSerializationError as exc:
        text = str(exc)
        if "depth" in text:
            raise InvalidInput(f"state of session {sid!r} is nested too deeply") from None
        raise InvalidInput(f"state of session {sid!r} is not valid: {text}") from None
    # Cheap pre-checks on the hot path; the precise (slower) checks run only on a hit.
    if "NaN" in raw or "Infinity" in raw:
        json.loads(raw, parse_constant=_reject_constant)
    if "\\u0000" in raw and has_escaped_nul(raw):
        raise InvalidInput(
            f"state of session {sid!r} contains a NUL character, which not every backend can store"
        )
    # pydantic writes a lone surrogate in a dict key as U+FFFD, silently changing the key.
    if "\ufffd" in raw and _surrogate_key(state.model_dump()):
        raise InvalidInput(
            f"state of session {sid!r} has a dict key with a lone surrogate, "
            "which is not valid UTF-8"
        )
    return raw


def _data_error(session_id: str, problem: str) -> DataError:
    return DataError(f"stored state of session {session_id!r} {problem}", session_id=session_id)


def _checked(state: State, session_id: str) -> State:
    if state.session_id != session_id:
        # A corrupt or hand-edited row: returning it would let a read-modify-write
        # overwrite the other session.
        raise _data_error(session_id, f"names another session, {state.session_id!r}")
    return state


def load_state(raw: str | bytes | bytearray | dict[str, Any], *, session_id: str) -> State:
    """Parse, migrate and validate the stored state of `session_id`.

    Raises `DataError` naming the session when the document is corrupt, too deeply nested,
    cannot be migrated, or belongs to another session.
    """
    try:
        return _load(raw, session_id)
    except RecursionError:
        raise _data_error(session_id, "is nested too deeply to read") from None


def _load(raw: str | bytes | bytearray | dict[str, Any], session_id: str) -> State:
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
                return _checked(state, session_id)
    try:
        data = json.loads(raw) if not isinstance(raw, dict) else dict(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _data_error(session_id, f"is not valid JSON: {exc}") from exc
    try:
        upgraded = migrate(data)
    except DataError as exc:
        raise _data_error(session_id, f"cannot be migrated: {exc}") from exc
    try:
        state = State.model_validate(upgraded)
    except ValidationError as exc:
        raise _data_error(
            session_id,
            f"does not validate: {exc.error_count()} error(s), first: {exc.errors()[0]['msg']}",
        ) from exc
    return _checked(state, session_id)


def load_metadata(raw: str | bytes | bytearray, *, record_id: str) -> dict[str, Any]:
    """The stored metadata of one memory record; `DataError` naming it when corrupt."""
    try:
        metadata = json.loads(raw)
    except RecursionError:
        raise DataError(f"memory record {record_id!r} has metadata nested too deeply") from None
    except (TypeError, ValueError) as exc:
        raise DataError(f"memory record {record_id!r} has corrupt metadata: {exc}") from None
    if not isinstance(metadata, dict):
        raise DataError(f"memory record {record_id!r} has metadata that is not a JSON object")
    return metadata
