"""Keep secrets out of messages, reprs and logs."""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit, urlunsplit

__all__ = ["redact_text", "redact_url"]

_SECRET_QUERY = re.compile(
    r"(?i)((?:password|passwd|pwd|token|api[_-]?key|secret|access[_-]?key)=)[^&\s]+"
)
_USERINFO = re.compile(r"(?i)([a-z][a-z0-9+.-]*://)([^/@\s:]*):([^/@\s]*)@")


def redact_url(url: str) -> str:
    """The URL with any password and secret-looking query values replaced by '***'."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_text(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user, sep, _password = userinfo.partition(":")
        netloc = f"{user}:***@{hostport}" if sep else f"{userinfo}@{hostport}"
    query = _SECRET_QUERY.sub(r"\1***", parts.query)
    return urlunsplit(SplitResult(parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_text(text: str) -> str:
    """Text with URL passwords and `key=value` secrets replaced by '***'."""
    text = _USERINFO.sub(r"\1\2:***@", text)
    return _SECRET_QUERY.sub(r"\1***", text)
