"""Server calls: bounded retries of transient failures, Spine errors for the rest.

Every operation the store sends is idempotent (upserts carry their ids, deletes name ids or a
filter), so a call that failed in transit can be retried safely. Messages never carry the
API key: it travels in a header, and every driver message is redacted before it is raised.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TypeVar

from spine_core.errors import ConfigError, SpineError
from spine_core.spi import redact_text, retry_transient

__all__ = ["call_server"]

T = TypeVar("T")

_TRANSIENT_HTTP = frozenset({408, 429, 500, 502, 503, 504})


class _Transient(Exception):
    """A server answer worth retrying (overload, restart, gateway trouble)."""


def _grpc_code(exc: BaseException) -> str | None:
    code = getattr(exc, "code", None)
    if not callable(code):
        return None
    try:
        value = code()
    except Exception:
        return None
    return str(getattr(value, "name", value))


def _qdrant_error(body: bytes) -> str | None:
    """The error text of a Qdrant error body (`{"status": {"error": …}}`), scrubbed, or None.

    Anything else is never shown: a proxy or gateway in front of Qdrant may echo the request
    headers, API key included, in a form no redaction pattern recognises.
    """
    try:
        error = json.loads(body)["status"]["error"]
    except (ValueError, TypeError, KeyError, IndexError):
        return None
    if not isinstance(error, str):
        return None
    return redact_text(error[:300])


async def call_server(operation: Callable[[], Awaitable[T]], where: str) -> T:
    """Run one server operation with retries; map driver errors to Spine errors."""
    import httpx
    from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

    async def attempt() -> T:
        try:
            return await operation()
        except SpineError:
            raise
        except UnexpectedResponse as exc:
            status = exc.status_code
            if status in _TRANSIENT_HTTP:
                raise _Transient(f"HTTP {status}") from None
            if status in (401, 403):
                raise ConfigError(
                    f"Qdrant at {where} refused the request (HTTP {status}): check the API key "
                    "(api_key=... or QDRANT_API_KEY)"
                ) from None
            detail = _qdrant_error(exc.content)
            raise ConfigError(
                f"Qdrant at {where} answered HTTP {status}" + (f": {detail}" if detail else "")
            ) from None
        except Exception as exc:
            code = _grpc_code(exc)
            if code in ("UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED", "ABORTED"):
                raise _Transient(f"gRPC {code}") from None
            if code in ("UNAUTHENTICATED", "PERMISSION_DENIED"):
                raise ConfigError(
                    f"Qdrant at {where} refused the request ({code}): check the API key "
                    "(api_key=... or QDRANT_API_KEY)"
                ) from None
            if code is not None:
                detail = redact_text(str(getattr(exc, "details", lambda: "")()))
                raise ConfigError(f"Qdrant at {where} failed ({code}): {detail}") from None
            raise

    return await retry_transient(
        attempt,
        transient=(_Transient, ResponseHandlingException, httpx.TransportError, OSError),
        what=f"Qdrant at {where}",
    )
