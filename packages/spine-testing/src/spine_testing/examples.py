"""Example stores for documentation and demos (`spine check` on a hand-written store)."""

from __future__ import annotations

from spine_core import State, dump_state, load_state
from spine_core.validation import validate_session_id

__all__ = ["MyCheckpoint"]


class MyCheckpoint:
    """Three methods over a dict: the smallest store that passes the base kit."""

    def __init__(self) -> None:
        self._data: dict[str, str] = {}

    async def put(self, state: State) -> None:
        """Store `state` under its session id."""
        self._data[state.session_id] = dump_state(state)

    async def get(self, session_id: str) -> State | None:
        """A fresh copy of the stored state, or None."""
        raw = self._data.get(validate_session_id(session_id))
        return None if raw is None else load_state(raw, session_id=session_id)

    async def delete(self, session_id: str) -> None:
        """Remove the session (no-op when missing)."""
        self._data.pop(validate_session_id(session_id), None)
