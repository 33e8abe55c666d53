"""A checkpoint store over a JSON file whose compare-and-set reads, pauses, then writes:
correct within one process, racy across processes. Registered as "racy-file" on import."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

from spine_core import (
    CheckpointCapabilities,
    CheckpointStoreBase,
    ConflictError,
    State,
    dump_state,
    load_state,
    register_checkpoint,
)


class RacyFileCheckpoint(CheckpointStoreBase):
    backend = "racy-file"
    capabilities = CheckpointCapabilities(revisions=True)

    def __init__(self, *, path: str) -> None:
        super().__init__()
        self.path = Path(path)

    def _read(self) -> dict[str, Any]:
        return json.loads(self.path.read_text()) if self.path.exists() else {}

    def _write(self, data: dict[str, Any]) -> None:
        # Whole-file replace: readers never see a torn file; only the CAS itself races.
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, self.path)

    async def put(
        self, state: State, *, expected_revision: int | None = None, ttl: float | None = None
    ) -> None:
        self._check_put_options(expected_revision, ttl)
        raw = dump_state(state)
        data = self._read()
        revision = data.get(state.session_id, {}).get("rev", 0)
        if expected_revision is not None and expected_revision != revision:
            raise ConflictError(state.session_id, expected_revision, revision)
        await asyncio.sleep(0.02)  # the window another process writes into
        data[state.session_id] = {"rev": revision + 1, "raw": raw}
        self._write(data)

    async def get(self, session_id: str) -> State | None:
        entry = self._read().get(session_id)
        return None if entry is None else load_state(entry["raw"], session_id=session_id)

    async def revision(self, session_id: str) -> int:
        return int(self._read().get(session_id, {}).get("rev", 0))

    async def delete(self, session_id: str) -> None:
        data = self._read()
        data.pop(session_id, None)
        self._write(data)


register_checkpoint("racy-file", RacyFileCheckpoint, replace=True)
