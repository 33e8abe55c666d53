"""How a memory record is laid out in a Qdrant point's payload, and filters over it.

Payload of one point (the point id is the record's UUIDv7 id):

    content     the text
    session_id  the session, absent for records saved without one
    ts_us       save time as integer microseconds since the epoch: exact, orderable and
                range-filterable (`order_by` on servers needs an integer index with range)
    metadata    the metadata as JSON text, the source of truth: it round-trips exactly (key
                order, big integers, 1 vs 1.0), which a JSON payload object need not
    f           filterable shadow of the metadata: its top-level str/int/float/bool values,
                under the same key when the key is a plain ASCII identifier
    fx          the same for other keys, named by a hash of the key, so any key (dots,
                quotes, brackets, unicode) can be filtered without JSON-path escaping

Only scalars go to the shadow because only scalars can equal a filter value
(`spine_core.spi.matches_filter`): a list would otherwise match any element, and a
nested object would expose paths that the contract does not have.

Equality follows `matches_filter` (JSON equality: booleans are not numbers, 1 == 1.0):
str and bool filter values use `MatchValue`, which Qdrant matches only against a payload
value of the same type (`MatchValue(value=True)` does not match an integer 1, and
`MatchValue(value=1)` matches neither `true` nor a float 1.0); numbers use
`Range(gte=x, lte=x)`, which compares ints and floats numerically and never matches a
boolean. Numbers beyond 2**53 cannot be compared exactly as floats, so those filters are
widened to the float range and the results are re-checked with `matches_filter`.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import TYPE_CHECKING, Any

from spine_core.errors import DataError
from spine_core.spi import MemoryRecord, to_epoch_us, ts_from_us

if TYPE_CHECKING:
    from qdrant_client import models

__all__ = [
    "TS_KEY",
    "build_filter",
    "decode_record",
    "encode_payload",
    "shadow_path",
]

SESSION_KEY = "session_id"
TS_KEY = "ts_us"
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_]{1,64}")
_EXACT_INT = 2**53


def shadow_path(key: str) -> str:
    """The payload path that holds metadata key `key` for filtering."""
    if _PLAIN_KEY.fullmatch(key):
        return f"f.{key}"
    return "fx.k" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _wide_int_shadow(value: int) -> float | str:
    """The filterable stand-in of an int past 2**53: a float, or past float range a tag.

    An int beyond ±1.8e308 has no float (`float(10**400)` overflows), so its shadow is the
    string ``"int:<digits>"``; a filter on it matches that string and is re-checked exactly,
    so a str metadata value spelled the same way can never be confused with it.
    """
    try:
        return float(value)
    except OverflowError:
        return f"int:{value}"


def encode_payload(
    *,
    content: str,
    session_id: str | None,
    ts: float,
    metadata: dict[str, Any],
    metadata_json: str,
) -> dict[str, Any]:
    """The payload of a record's point."""
    plain: dict[str, Any] = {}
    hashed: dict[str, Any] = {}
    for key, value in metadata.items():
        if isinstance(value, str | int | float | bool):
            if isinstance(value, int) and not isinstance(value, bool) and abs(value) > _EXACT_INT:
                # Beyond 2**53 only float comparisons are portable (gRPC and the server's
                # JSON have 64-bit integers); filters on such values are re-checked exactly.
                value = _wide_int_shadow(value)
            path = shadow_path(key)
            (plain if path.startswith("f.") else hashed)[path.partition(".")[2]] = value
    payload: dict[str, Any] = {
        "content": content,
        TS_KEY: to_epoch_us(ts),
        "metadata": metadata_json,
    }
    if session_id is not None:
        payload[SESSION_KEY] = session_id
    if plain:
        payload["f"] = plain
    if hashed:
        payload["fx"] = hashed
    return payload


def decode_record(point_id: object, payload: dict[str, Any] | None) -> MemoryRecord:
    """The record stored in a point; `DataError` when the payload is not ours or corrupt."""
    payload = payload or {}
    content = payload.get("content")
    session_id = payload.get(SESSION_KEY)
    ts_us = payload.get(TS_KEY)
    try:
        metadata = json.loads(payload.get("metadata", ""))
    except (TypeError, ValueError):
        metadata = None
    if (
        not isinstance(content, str)
        or not (session_id is None or isinstance(session_id, str))
        or isinstance(ts_us, bool)
        or not isinstance(ts_us, int)
        or not isinstance(metadata, dict)
    ):
        raise DataError(f"Qdrant point {point_id} does not hold a valid Spine memory record")
    return MemoryRecord(
        id=str(point_id),
        content=content,
        session_id=session_id,
        metadata=metadata,
        ts=ts_from_us(ts_us),
    )


def _equals(key: str, value: str | int | float | bool) -> tuple[models.FieldCondition, bool]:
    """A condition for metadata[key] == value, and whether results need re-checking."""
    from qdrant_client import models

    path = shadow_path(key)
    if isinstance(value, bool | str):
        # A str spelled like a wide int's tag also matches that int's shadow: re-check it.
        tagged = isinstance(value, str) and value.startswith("int:")
        return models.FieldCondition(key=path, match=models.MatchValue(value=value)), tagged
    # Numbers: a point range compares int and float payloads numerically, never booleans.
    shadow = _wide_int_shadow(value) if isinstance(value, int) else value
    if isinstance(shadow, str):  # beyond float range: the tagged shadow, re-checked exactly
        return models.FieldCondition(key=path, match=models.MatchValue(value=shadow)), True
    as_float = float(shadow)
    # Past 2**53 floats are sparser than ints and the shadow holds such ints as floats, so
    # the range may admit neighbours: re-check those hits exactly.
    inexact = abs(value) > _EXACT_INT
    return models.FieldCondition(key=path, range=models.Range(gte=as_float, lte=as_float)), inexact


def build_filter(
    *,
    session_id: str | None = None,
    metadata: dict[str, str | int | float | bool] | None = None,
    before_us: int | None = None,
    ts_us: int | None = None,
) -> tuple[models.Filter | None, bool]:
    """A Qdrant filter for the given constraints, and whether hits must be re-checked."""
    from qdrant_client import models

    must: list[models.Condition] = []
    recheck = False
    if session_id is not None:
        must.append(
            models.FieldCondition(key=SESSION_KEY, match=models.MatchValue(value=session_id))
        )
    if before_us is not None:
        must.append(models.FieldCondition(key=TS_KEY, range=models.Range(lt=before_us)))
    if ts_us is not None:
        must.append(models.FieldCondition(key=TS_KEY, range=models.Range(gte=ts_us, lte=ts_us)))
    for key, value in (metadata or {}).items():
        condition, inexact = _equals(key, value)
        must.append(condition)
        recheck = recheck or inexact
    return (models.Filter(must=must) if must else None), recheck
