"""Example stores for documentation and demos (`spine check` on a hand-written store).

`MyCheckpoint` is the build-a-backend guide's store, written the way the guide says: it reaches
level BASE. `MyValidatedCheckpoint` is the same store using Spine's codec and validators, which
is what it takes to reach the levels above.
"""

from __future__ import annotations

from spine_core import State, dump_state, load_state
from spine_core._validation import validate_session_id

__all__ = ["MyCheckpoint", "MyValidatedCheckpoint"]


class MyCheckpoint:
    """The guide's checkpoint store: three methods over a dict (level BASE)."""

    def __init__(self) -> None:
        self._data: dict[str, str] = {}

    async def put(self, state: State) -> None:
        """Store `state` under its session id."""
        self._data[state.session_id] = state.model_dump_json()

    async def get(self, session_id: str) -> State | None:
        """A fresh copy of the stored state, or None."""
        raw = self._data.get(session_id)
        return None if raw is None else State.model_validate_json(raw)

    async def delete(self, session_id: str) -> None:
        """Remove the session (no-op when missing)."""
        self._data.pop(session_id, None)


class MyValidatedCheckpoint(MyCheckpoint):
    """`MyCheckpoint` refusing bad input itself, with Spine's codec and validators."""

    async def put(self, state: State) -> None:
        """Check and store `state` (`InvalidInput` before anything is written)."""
        self._data[state.session_id] = dump_state(state)

    async def get(self, session_id: str) -> State | None:
        """A fresh copy of the stored state (migrated to the current version), or None."""
        raw = self._data.get(validate_session_id(session_id))
        return None if raw is None else load_state(raw, session_id=session_id)

    async def delete(self, session_id: str) -> None:
        """Remove the session (no-op when missing)."""
        self._data.pop(validate_session_id(session_id), None)
