"""Memory records, search hits and the helpers that mint their ids and timestamps."""

from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator

from .errors import InvalidInput

__all__ = [
    "MemoryHit",
    "MemoryItem",
    "MemoryRecord",
    "RecordExport",
    "epoch_seconds",
    "from_epoch_us",
    "matches_filter",
    "new_record_id",
    "now_ts",
    "to_epoch_us",
    "ts_datetime",
    "ts_from_us",
    "utc_now",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


class MemoryRecord(BaseModel):
    """A saved memory: text, its session, JSON metadata and when it was saved.

    `ts` is seconds since the Unix epoch (a float, as in spinekit); it defaults to now and
    also accepts an aware `datetime`. `ts_datetime(record.ts)` gives it back as a datetime.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    content: str
    session_id: str | None = None
    metadata: dict[str, JsonValue] = Field(default_factory=dict)
    ts: float = Field(default_factory=lambda: now_ts())

    @field_validator("ts", mode="before")
    @classmethod
    def _ts_seconds(cls, value: object) -> object:
        if isinstance(value, datetime):
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError("ts must be timezone-aware when given as a datetime")
            return ((value - _EPOCH) // _US) / 1_000_000
        if isinstance(value, bool):
            raise ValueError("ts must be epoch seconds or a datetime, not a bool")
        return value

    @field_validator("ts")
    @classmethod
    def _ts_finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("ts must be a finite number of seconds")
        return value


class RecordExport(MemoryRecord):
    """A record as exported (capability `export`): the record plus its stored unit vector.

    `vector` is None for a store that embeds nothing.
    """

    vector: list[float] | None = None


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


def _tick_us() -> int:
    # One clock for records and checkpoints: microseconds, strictly increasing in-process.
    global _last_us
    with _clock_lock:
        now_us = time.time_ns() // 1000
        _last_us = now_us if now_us > _last_us else _last_us + 1
        return _last_us


def utc_now() -> datetime:
    """The current UTC time, strictly increasing within this process (microsecond steps).

    Records saved in one burst keep their order on backends that sort by timestamp.
    """
    return from_epoch_us(_tick_us())


def now_ts() -> float:
    """The current time in epoch seconds, strictly increasing within this process (µs steps).

    The default of `MemoryRecord.ts`; every value is a whole number of microseconds, so it
    survives backends that store microseconds exactly.
    """
    return ts_from_us(_tick_us())


def to_epoch_us(ts: float) -> int:
    """Epoch seconds as whole microseconds (what backends with integer time columns keep)."""
    return round(ts * 1_000_000)


def ts_from_us(us: int) -> float:
    """Whole microseconds since the epoch as a record's `ts` (epoch seconds)."""
    return us / 1_000_000


def from_epoch_us(us: int) -> datetime:
    """The aware UTC datetime `us` microseconds after the epoch, exactly."""
    return _EPOCH + timedelta(microseconds=us)


def ts_datetime(ts: float) -> datetime:
    """A record's `ts` as an aware UTC datetime (microsecond precision)."""
    return from_epoch_us(to_epoch_us(ts))


def epoch_seconds(moment: object, *, what: str = "before") -> float:
    """An aware datetime or a number of epoch seconds, as epoch seconds; else `InvalidInput`."""
    if isinstance(moment, datetime):
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise InvalidInput(f"{what} must be timezone-aware (e.g. datetime.now(UTC))")
        return ((moment - _EPOCH) // _US) / 1_000_000
    if isinstance(moment, bool) or not isinstance(moment, int | float):
        raise InvalidInput(
            f"{what} must be an aware datetime or epoch seconds, got {type(moment).__name__}"
        )
    if not math.isfinite(moment):
        raise InvalidInput(f"{what} must be finite, got {moment!r}")
    return float(moment)


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
