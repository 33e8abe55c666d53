"""The one error hierarchy every Spine store raises."""

from __future__ import annotations

__all__ = [
    "BackendUnavailable",
    "ConfigError",
    "ConflictError",
    "DataError",
    "InvalidInput",
    "SpineError",
    "UnsupportedCapability",
    "UnsupportedServer",
]


class SpineError(Exception):
    """Base class of every error raised by Spine stores."""


class ConfigError(SpineError):
    """Unknown backend, missing extra, bad configuration or an incompatible store."""


class UnsupportedServer(ConfigError):
    """The server answers but cannot serve this kind (memory on Redis < 8, no pgvector).

    A `ConfigError`: the remedy is another server or backend, not a retry. `health()`
    reports it as `status="unsupported"`.
    """


class InvalidInput(SpineError, ValueError):
    """An argument was rejected before anything was written."""


class ConflictError(SpineError):
    """A compare-and-set put found a different revision than expected."""

    def __init__(self, session_id: str, expected: int, actual: int) -> None:
        super().__init__(
            f"revision conflict on session {session_id!r}: expected {expected}, found {actual}"
        )
        self.session_id = session_id
        self.expected = expected
        self.actual = actual


class UnsupportedCapability(SpineError, NotImplementedError):
    """An optional operation was called on a store that does not advertise it."""

    def __init__(self, store: str, capability: str) -> None:
        super().__init__(f"{store} does not support the {capability!r} capability")
        self.store = store
        self.capability = capability


class BackendUnavailable(SpineError, ConnectionError):
    """The backend could not be reached after bounded retries."""


class DataError(SpineError, ValueError):
    """Stored data is corrupt or cannot be migrated.

    Also a `ValueError`: spinekit's `migrate` raised `ValueError` on a gap and pydantic's
    validation errors are `ValueError`s, so `except ValueError` keeps catching unreadable data.
    """

    def __init__(self, message: str, *, session_id: str | None = None) -> None:
        super().__init__(message)
        self.session_id = session_id
