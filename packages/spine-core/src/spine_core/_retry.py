"""Bounded retries of transient backend failures."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from ._redact import redact_text
from .errors import BackendUnavailable, SpineError

__all__ = ["retry_transient"]

T = TypeVar("T")
log = logging.getLogger("spine")


async def retry_transient(
    operation: Callable[[], Awaitable[T]],
    *,
    transient: tuple[type[BaseException], ...],
    what: str,
    attempts: int = 3,
    base_delay: float = 0.05,
    max_delay: float = 1.0,
) -> T:
    """Run `operation`, retrying `transient` errors with jittered backoff.

    After `attempts` failures raises `BackendUnavailable` naming `what` (which must not hold
    secrets); the driver's message is redacted before it is logged or chained.
    """
    for attempt in range(1, attempts + 1):
        try:
            return await operation()
        except SpineError:
            raise
        except transient as exc:
            detail = redact_text(f"{type(exc).__name__}: {exc}")
            if attempt == attempts:
                raise BackendUnavailable(
                    f"{what} unavailable after {attempts} attempts: {detail}"
                ) from None
            delay = min(max_delay, base_delay * 2 ** (attempt - 1)) * (0.5 + random.random())  # noqa: S311
            log.warning("%s: attempt %d/%d failed (%s); retrying", what, attempt, attempts, detail)
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover
