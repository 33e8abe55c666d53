"""Vector-set attributes and FILTER expressions that can carry any user text safely.

The FILTER language of Redis vector sets cannot express arbitrary equality safely:
a string literal is compared with its backslash escapes still in it (so a value holding
a quote can never match), booleans compare equal to 1 and 0, a string compared with a
number is coerced (`"abc" == 0` is true), selectors allow only `[A-Za-z0-9_-]`, and a
number such as `1e-05` does not even parse. So no user text ever enters an expression.

Instead each record's attributes hold *digests*: for the session, `{"s": d(session)}`, and
for every top-level scalar metadata value, `{"m<d(key)>": d(type-tagged canonical value)}`.
A filter becomes `.s == "<hex>" and .m<hex> == "<hex>"`: selectors and literals are
lowercase hex, so the expression's shape is fixed by us whatever the input. The type tag
gives JSON equality: `true` ≠ `1`, `"1"` ≠ `1`, while `1 == 1.0` (same canonical number).
Digests are 64-bit BLAKE2b, so a false match is practically impossible; search results are
still re-checked against the stored metadata with `matches_filter`.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from typing import Any

__all__ = ["attributes", "count_fields", "filter_expression", "value_token"]


def _digest(text: str) -> str:
    # 64 bits: the engine parses the attributes JSON for every node a filtered search visits,
    # so shorter attributes are faster; a collision (odds 2^-64 per comparison) could only
    # add a candidate, which the re-check against the stored metadata then drops.
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def _canonical_number(value: int | float) -> str:
    # Python's (and JSON's) equality: 1 == 1.0, 2**60 == 2.0**60, 2**60 + 1 != 2.0**60.
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


def value_token(value: Any) -> str | None:
    """The digest of a scalar JSON value, or `None` for values a filter cannot match."""
    if isinstance(value, bool):
        return _digest("b:" + ("1" if value else "0"))
    if isinstance(value, int | float):
        return _digest("n:" + _canonical_number(value))
    if isinstance(value, str):
        return _digest("s:" + value)
    return None  # null, arrays and objects never equal a filter's scalar


def key_selector(key: str) -> str:
    """The attribute name standing for metadata key `key` (a valid FILTER selector)."""
    return "m" + _digest(key)


def session_token(session_id: str) -> str:
    """The attribute value standing for a session id."""
    return _digest("s:" + session_id)


def attributes(session_id: str | None, metadata: Mapping[str, Any]) -> str:
    """The JSON attributes stored with a record's vector."""
    attrs: dict[str, str] = {}
    if session_id is not None:
        attrs["s"] = session_token(session_id)
    for key, value in metadata.items():
        token = value_token(value)
        if token is not None:
            attrs[key_selector(key)] = token
    return json.dumps(attrs, separators=(",", ":"))


def filter_expression(
    session_id: str | None, filter: Mapping[str, str | int | float | bool] | None
) -> str | None:
    """The FILTER expression for a session and a metadata filter, or `None` for no filter."""
    clauses: list[str] = []
    if session_id is not None:
        clauses.append(f'.s == "{session_token(session_id)}"')
    for key, value in (filter or {}).items():
        token = value_token(value)
        assert token is not None  # validate_filter admits scalars only
        clauses.append(f'.{key_selector(key)} == "{token}"')
    return " and ".join(clauses) or None


def count_fields(filter: Mapping[str, str | int | float | bool] | None) -> list[str]:
    """The fields of the namespace's counts hash that hold how many records match each pair."""
    out = []
    for key, value in (filter or {}).items():
        token = value_token(value)
        assert token is not None  # validate_filter admits scalars only
        out.append(f"{key_selector(key)}={token}")
    return out
