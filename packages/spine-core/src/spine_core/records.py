"""Memory records, search hits and the helpers that mint their ids and timestamps."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue

__all__ = [
    "MemoryHit",
    "MemoryItem",
    "MemoryRecord",
    "matches_filter",
    "new_record_id",
    "utc_now",
]


class MemoryRecord(BaseModel):
    """A saved memory: text, its session, JSON metadata and when it was saved."""

    model_config = ConfigDict(frozen=True)

    id: str
    content: str
    session_id: str | None = None
    metadata: dict[str, JsonValue] = Field(default_factory=dict)
    ts: datetime


class MemoryHit(BaseModel):
    """A search result: the record and its cosine similarity to the query, in [-1, 1]."""

    model_config = ConfigDict(frozen=True)

    record: MemoryRecord
    score: float

    @property
    def id(self) -> str:
        """The record's id."""
        return self.record.id

    @property
    def content(self) -> str:
        """The record's text."""
        return self.record.content


@dataclass(frozen=True, slots=True)
class MemoryItem:
    """One entry for `save_many`.

    A plain dataclass, not a pydantic model: stores validate items with the shared checks so a
    bad item raises `InvalidInput` (never a pydantic error) before anything is written.
    """

    content: str
    session_id: str | None = None
    metadata: dict[str, Any] | None = None


_clock_lock = threading.Lock()
_last_us = 0


def utc_now() -> datetime:
    """The current UTC time, strictly increasing within this process (microsecond steps).

    Records saved in one burst keep their order on backends that sort by timestamp.
    """
    global _last_us
    with _clock_lock:
        now_us = time.time_ns() // 1000
        _last_us = now_us if now_us > _last_us else _last_us + 1
        us = _last_us
    return datetime.fromtimestamp(us / 1_000_000, tz=UTC).replace(microsecond=us % 1_000_000)


def new_record_id() -> str:
    """A fresh UUIDv7-shaped id: unique, and sortable by creation time."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version 7
    value |= (rand >> 68) << 64 & (0xFFF << 64)
    value |= 0b10 << 62  # RFC 4122 variant
    value |= rand & ((1 << 62) - 1)
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _json_equal(a: Any, b: Any) -> bool:
    # JSON equality: booleans are not numbers, 1 == 1.0.
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return bool(a == b)
    return type(a) is type(b) and bool(a == b)


def matches_filter(metadata: dict[str, Any], filter: dict[str, Any] | None) -> bool:
    """True when every key in `filter` is present in `metadata` with an equal JSON value."""
    if not filter:
        return True
    for key, want in filter.items():
        if key not in metadata or not _json_equal(metadata[key], want):
            return False
    return True
