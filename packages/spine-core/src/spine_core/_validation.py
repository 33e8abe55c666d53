"""Input checks shared by every store, so each backend rejects the same inputs the same way.

Every check raises `InvalidInput` and runs before a store writes anything.
"""

from __future__ import annotations

import json
import math
import operator
import re
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime
from itertools import accumulate, repeat
from typing import Any

from .errors import ConfigError, InvalidInput

__all__ = [
    "MAX_CONTENT_CHARS",
    "MAX_JSON_DEPTH",
    "MAX_SESSION_ID_CHARS",
    "MAX_TTL_SECONDS",
    "check_json_depth",
    "encode_metadata",
    "has_escaped_nul",
    "validate_before",
    "validate_content",
    "validate_embedder",
    "validate_filter",
    "validate_items",
    "validate_k",
    "validate_limit",
    "validate_namespace",
    "validate_optional_session_id",
    "validate_optional_tenant_id",
    "validate_record_id",
    "validate_session_id",
    "validate_tenant_id",
    "validate_ttl",
    "validate_vector",
]

MAX_SESSION_ID_CHARS = 256
MAX_CONTENT_CHARS = 16 * 1024 * 1024
MAX_TTL_SECONDS = 10 * 365 * 86_400
"""The longest ttl any store accepts: ten years, in seconds.

One range for every backend: it fits Redis's millisecond expiries, PostgreSQL's interval and
timestamp arithmetic and SQLite's float seconds, so a ttl one store takes, all take.
"""
MAX_JSON_DEPTH = 100
"""How deeply a stored JSON document (a State, a record's metadata) may nest; the outermost
object or array is level 1.

Below every parser on the way: pydantic's JSON parser (200), its validator (255), Python's
recursion limit, and the 128 levels of the serde_json inside a Qdrant server, which also
wraps the metadata in a few levels of its own.
"""
MAX_K = 10_000
MAX_LIMIT = 100_000
_NAMESPACE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,62}")


def _encodable(text: str, what: str) -> str:
    # Lone surrogates ("\ud800") are valid Python str but not UTF-8: no backend can store them.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"{what} contains a lone surrogate, which is not valid UTF-8") from None
    return text


def has_escaped_nul(json_text: str) -> bool:
    """True when JSON text holds a NUL character (a real escaped NUL, not a literal backslash)."""
    # "\u0000" preceded by an odd number of backslashes is a real NUL escape; an even
    # number means the text contained a literal backslash followed by "u0000".
    start = 0
    while (i := json_text.find("\\u0000", start)) != -1:
        j = i
        while j > 0 and json_text[j - 1] == "\\":
            j -= 1
        if (i - j) % 2 == 0:
            return True
        start = i + 1
    return False


def validate_session_id(session_id: object) -> str:
    """A non-empty str of at most 256 characters with no NUL."""
    if not isinstance(session_id, str):
        raise InvalidInput(f"session id must be a str, got {type(session_id).__name__}")
    if not session_id:
        raise InvalidInput("session id must not be empty")
    if len(session_id) > MAX_SESSION_ID_CHARS:
        raise InvalidInput(
            f"session id is {len(session_id)} characters; the limit is {MAX_SESSION_ID_CHARS}"
        )
    if "\x00" in session_id:
        raise InvalidInput("session id must not contain NUL")
    return _encodable(session_id, "session id")


def validate_optional_session_id(session_id: object) -> str | None:
    """`None` or a valid session id."""
    return None if session_id is None else validate_session_id(session_id)


def validate_tenant_id(tenant_id: object) -> str:
    """A tenant id: a str of at most 256 characters with no NUL, valid UTF-8.

    The session-id rules, except that "" is a tenant of its own (distinct from None), as
    stores have always kept it.
    """
    if not isinstance(tenant_id, str):
        raise InvalidInput(f"tenant id must be a str, got {type(tenant_id).__name__}")
    if len(tenant_id) > MAX_SESSION_ID_CHARS:
        raise InvalidInput(
            f"tenant id is {len(tenant_id)} characters; the limit is {MAX_SESSION_ID_CHARS}"
        )
    if "\x00" in tenant_id:
        raise InvalidInput("tenant id must not contain NUL")
    return _encodable(tenant_id, "tenant id")


def validate_optional_tenant_id(tenant_id: object) -> str | None:
    """`None` or a valid tenant id."""
    return None if tenant_id is None else validate_tenant_id(tenant_id)


def validate_record_id(record_id: object) -> str:
    """A non-empty record id of at most 256 characters with no NUL."""
    if not isinstance(record_id, str) or not record_id or len(record_id) > 256:
        raise InvalidInput(f"record id must be a non-empty str, got {record_id!r:.80}")
    if "\x00" in record_id:
        raise InvalidInput("record id must not contain NUL")
    return _encodable(record_id, "record id")


def validate_namespace(namespace: object) -> str:
    """1-63 characters of letters, digits, '_' and '-' (safe in keys, names and paths)."""
    if not isinstance(namespace, str) or not _NAMESPACE.fullmatch(namespace):
        raise InvalidInput(
            f"namespace must be 1-63 characters of letters, digits, '_' or '-' "
            f"(not starting with '-'), got {namespace!r:.80}"
        )
    return namespace


def validate_k(k: object) -> int:
    """A positive int no larger than 10,000."""
    if isinstance(k, bool) or not isinstance(k, int) or k <= 0:
        raise InvalidInput(f"k must be a positive int, got {k!r}")
    if k > MAX_K:
        raise InvalidInput(f"k must be at most {MAX_K}, got {k}")
    return k


def validate_limit(limit: object) -> int:
    """A positive int no larger than 100,000."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0:
        raise InvalidInput(f"limit must be a positive int, got {limit!r}")
    if limit > MAX_LIMIT:
        raise InvalidInput(f"limit must be at most {MAX_LIMIT}, got {limit}")
    return limit


def validate_ttl(ttl: object) -> float | None:
    """`None` or a positive number of seconds, at most `MAX_TTL_SECONDS` (ten years)."""
    if ttl is None:
        return None
    if isinstance(ttl, bool) or not isinstance(ttl, int | float):
        raise InvalidInput(f"ttl must be a finite number of seconds, got {ttl!r:.80}")
    # Compare before converting: an int too large for a float must not raise OverflowError.
    if isinstance(ttl, float) and not math.isfinite(ttl):
        raise InvalidInput(f"ttl must be a finite number of seconds, got {ttl!r}")
    if ttl <= 0:
        raise InvalidInput(f"ttl must be positive, got {ttl!r:.80}")
    if ttl > MAX_TTL_SECONDS:
        raise InvalidInput(
            f"ttl must be at most {MAX_TTL_SECONDS} seconds (ten years), got {ttl!r:.80}"
        )
    return float(ttl)


def validate_before(before: object) -> datetime:
    """A timezone-aware datetime."""
    if not isinstance(before, datetime):
        raise InvalidInput(f"before must be a datetime, got {type(before).__name__}")
    if before.tzinfo is None or before.utcoffset() is None:
        raise InvalidInput("before must be timezone-aware (e.g. datetime.now(UTC))")
    return before


def validate_content(content: object) -> str:
    """Non-blank text of at most 16 Mi characters with no NUL."""
    if not isinstance(content, str):
        raise InvalidInput(f"content must be a str, got {type(content).__name__}")
    if not content.strip():
        raise InvalidInput("content must not be empty or blank")
    if len(content) > MAX_CONTENT_CHARS:
        raise InvalidInput(
            f"content is {len(content)} characters; the limit is {MAX_CONTENT_CHARS}"
        )
    if "\x00" in content:
        raise InvalidInput("content must not contain NUL")
    return _encodable(content, "content")


def _refuse_constant(token: str) -> Any:
    raise InvalidInput(f"metadata contains a non-finite number ({token})")


# Outside its strings, JSON text is ASCII: deleting every ASCII character but the four
# brackets leaves exactly the nesting structure.
_ONLY_BRACKETS = str.maketrans("", "", "".join(chr(c) for c in range(128) if chr(c) not in "[]{}"))
_NESTING = {"[": 1, "{": 1, "]": -1, "}": -1}


def check_json_depth(text: str, what: str) -> None:
    """Refuse JSON text nested deeper than `MAX_JSON_DEPTH` (InvalidInput naming `what`)."""
    # Cheap bound first: a document cannot nest deeper than it has brackets.
    if text.count("{") + text.count("[") <= MAX_JSON_DEPTH:
        return
    # Drop string contents, whose brackets are text: remove escaped backslashes, then
    # escaped quotes, and every other '"'-separated piece is inside a string. Only C-speed
    # str methods: a regex over the strings costs several times more.
    if "\\" in text:
        text = text.replace("\\\\", "").replace('\\"', "")
    brackets = "".join(text.split('"')[::2]).translate(_ONLY_BRACKETS)
    if max(accumulate(map(_NESTING.__getitem__, brackets)), default=0) > MAX_JSON_DEPTH:
        raise InvalidInput(f"{what} is nested too deeply: the limit is {MAX_JSON_DEPTH} levels")


def encode_metadata(metadata: object) -> tuple[dict[str, Any], str]:
    """Check that metadata is a JSON object and return (a private copy, its JSON text)."""
    if metadata is None:
        return {}, "{}"
    if not isinstance(metadata, Mapping):
        raise InvalidInput(f"metadata must be a JSON object (dict), got {type(metadata).__name__}")
    try:
        text = json.dumps(metadata, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except RecursionError:
        raise InvalidInput(
            f"metadata is nested too deeply: the limit is {MAX_JSON_DEPTH} levels"
        ) from None
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"metadata is not JSON-serializable: {exc}") from exc
    check_json_depth(text, "metadata")
    # Parsing our own output gives a deep, JSON-typed copy (tuples become lists, keys must
    # have been str) so later mutation by the caller cannot reach the store.
    copy = json.loads(text, parse_constant=_refuse_constant)
    # json.dumps turns int/float/bool/None keys into strings at any depth; JSON has none.
    if not _str_keys(metadata):
        raise InvalidInput("metadata keys must be str, at every level")
    if "\\u0000" in text and has_escaped_nul(text):
        raise InvalidInput("metadata must not contain NUL characters")
    return copy, _encodable(text, "metadata")


def _str_keys(value: object) -> bool:
    if isinstance(value, Mapping):
        return all(isinstance(k, str) and _str_keys(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return all(_str_keys(v) for v in value)
    return True


_SCALAR = (str, int, float, bool)


def validate_filter(filter: object) -> dict[str, str | int | float | bool] | None:
    """`None` or a flat mapping of metadata key to a scalar that must be equal."""
    if filter is None:
        return None
    if not isinstance(filter, Mapping):
        raise InvalidInput(f"filter must be a dict of metadata key to value, got {filter!r:.80}")
    out: dict[str, str | int | float | bool] = {}
    for key, value in filter.items():
        if not isinstance(key, str) or not key or "\x00" in key:
            raise InvalidInput(f"filter keys must be non-empty str, got {key!r:.80}")
        if not isinstance(value, _SCALAR) or (
            isinstance(value, float) and not math.isfinite(value)
        ):
            raise InvalidInput(
                f"filter value for {key!r} must be a str, int, finite float or bool, "
                f"got {value!r:.80}"
            )
        if isinstance(value, str) and "\x00" in value:
            raise InvalidInput(f"filter value for {key!r} must not contain NUL")
        _encodable(key, "filter key")
        if isinstance(value, str):
            _encodable(value, f"filter value for {key!r}")
        out[key] = value
    return out or None  # {} constrains nothing: the same as no filter on every backend


def validate_vector(vector: Sequence[float], dimension: int) -> list[float]:
    """A finite, non-zero vector of `dimension` numbers, returned unit-normalized.

    The result is always finite with norm 1: a vector too small to normalise reliably
    (norm below the smallest normal float, 2.2e-308) is refused as the embedder's fault.
    """
    if len(vector) != dimension:
        raise InvalidInput(f"embedding has {len(vector)} dimensions, expected {dimension}")
    try:
        # hypot is exact-ish, runs in C and is non-finite iff some element is.
        norm = math.hypot(*vector)
    except TypeError as exc:
        raise InvalidInput("embedding must contain only numbers") from exc
    if not math.isfinite(norm):
        if not all(map(math.isfinite, vector)):
            raise InvalidInput("embedding contains a non-finite value")
        # Finite but huge: the norm overflows; scale by the largest component first.
        largest = max(map(abs, vector))
        vector = [x / largest for x in vector]
        norm = math.hypot(*vector)
    if norm == 0.0:
        raise InvalidInput("embedding is the zero vector; cosine similarity is undefined")
    if norm < sys.float_info.min:
        # 1/norm overflows to inf, and subnormal components have lost their precision:
        # the direction is noise, so no score computed from it would mean anything.
        raise InvalidInput(
            f"embedding is too small to normalise (norm {norm:.3g}); check the embedder"
        )
    if abs(norm - 1.0) < 1e-9:
        return list(map(float, vector))
    # Above the smallest normal float, 1/norm is finite and every |x|/norm <= 1 (rounded).
    return list(map(operator.mul, vector, repeat(1.0 / norm, dimension)))


def validate_items(items: object) -> list[object]:
    """The items given to `save_many`: a list or tuple-like sequence, never a str, bytes or dict."""
    if (
        items is None
        or isinstance(items, str | bytes | bytearray | memoryview | Mapping)
        or not isinstance(items, Sequence)
    ):
        got = "None" if items is None else type(items).__name__
        if isinstance(items, str | bytes):
            got = f"a single {got} (wrap it in a list)"
        raise InvalidInput(f"save_many takes a list of MemoryItem or str, got {got}")
    return list(items)


def validate_embedder(embedder: object) -> Any:
    """An object with an async `embed` method, else `ConfigError` (checked at construction)."""
    if isinstance(embedder, type) or not callable(getattr(embedder, "embed", None)):
        raise ConfigError(
            "embedder must be an Embedder instance (an object with an async embed method), "
            f"got {embedder!r:.80}"
        )
    return embedder
