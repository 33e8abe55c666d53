"""Assertion helpers for checks.

Checks never use bare ``assert``: ``python -O`` strips those, and a conformance kit that can be
switched off by an interpreter flag would pass anything. Every helper raises `CheckFailed`
(an `AssertionError`, so pytest shows it as a test failure) with a message that says what the
store did wrong.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from spine_core import SpineError, State
from spine_core._redact import redact_text

__all__ = [
    "CheckFailed",
    "CheckSkipped",
    "NotAdvertised",
    "describe",
    "expect",
    "expect_equal",
    "expect_json_equal",
    "expect_raises",
    "expect_same_state",
    "json_equal",
]


class CheckFailed(AssertionError):
    """A store violated the contract."""


class CheckSkipped(Exception):
    """A check cannot run against this store or factory (the reason says why)."""


class NotAdvertised(CheckSkipped):
    """The check tests an optional capability the store does not advertise."""

    def __init__(self, capability: str) -> None:
        super().__init__(f"not advertised: {capability}")
        self.capability = capability


def short(value: object, limit: int = 160) -> str:
    """`repr(value)` cut to `limit` characters, secrets redacted."""
    # Cut before redacting too: redaction regexes are slow on long texts (large states).
    text = redact_text(repr(value)[: limit * 4])
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(exc: BaseException) -> str:
    """`Type: message` of an exception, secrets redacted."""
    text = str(exc)
    return redact_text(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)


def expect(condition: object, message: str) -> None:
    """Fail the check with `message` unless `condition` is true."""
    if not condition:
        raise CheckFailed(message)


def expect_equal(actual: object, expected: object, what: str) -> None:
    """Fail unless ``actual == expected``."""
    if not actual == expected:
        raise CheckFailed(f"{what}: expected {short(expected)}, got {short(actual)}")


def json_equal(a: Any, b: Any) -> bool:
    """Equality of JSON values: bool is not a number, 1 == 1.0, dict/list compared deeply."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return bool(a == b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and bool(a == b)


def expect_json_equal(actual: object, expected: object, what: str) -> None:
    """Fail unless two JSON values are equal with JSON types (``True`` is not ``1``)."""
    if not json_equal(actual, expected):
        raise CheckFailed(f"{what}: expected {short(expected)}, got {short(actual)}")


def _state_diff(actual: State, expected: State) -> str:
    fields = set(type(expected).model_fields) | set(expected.model_extra or {})
    fields |= set(actual.model_extra or {})
    differing = sorted(f for f in fields if getattr(actual, f, None) != getattr(expected, f, None))
    parts = [
        f"{f}: expected {short(getattr(expected, f, None), 80)}, "
        f"got {short(getattr(actual, f, None), 80)}"
        for f in differing[:4]
    ]
    return "; ".join(parts) or "states differ"


def expect_same_state(actual: object, expected: State, what: str) -> None:
    """Fail unless `actual` is a `State` equal to `expected` (model equality)."""
    if actual is None:
        raise CheckFailed(f"{what}: expected the stored state, got None")
    if not isinstance(actual, State):
        raise CheckFailed(f"{what}: expected a State, got {type(actual).__name__}")
    if actual != expected:
        raise CheckFailed(f"{what}: state differs ({_state_diff(actual, expected)})")


async def expect_raises(
    error: type[BaseException] | tuple[type[BaseException], ...],
    call: Callable[[], Awaitable[object]],
    what: str,
) -> BaseException:
    """Await ``call()`` and fail unless it raises `error`; returns the exception."""
    names = " or ".join(e.__name__ for e in (error if isinstance(error, tuple) else (error,)))
    try:
        await call()
    except error as exc:
        return exc
    except (SpineError, ValueError, TypeError, KeyError, NotImplementedError) as exc:
        raise CheckFailed(f"{what} raised {describe(exc)}, expected {names}") from exc
    raise CheckFailed(f"{what} did not raise {names}")
