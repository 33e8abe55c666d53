"""Keep secrets out of messages, reprs and logs."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

__all__ = ["redact_text", "redact_url"]

_SECRET_QUERY = re.compile(
    r"(?i)((?:password|passwd|pwd|token|api[_-]?key|secret|access[_-]?key)=)[^&\s]+"
)
# The look-behind anchors the scheme at a word start, keeping the scan linear on long text.
_USERINFO = re.compile(r"(?i)(?<![a-z0-9+.-])([a-z][a-z0-9+.-]{0,31}://)([^/@\s:]*):([^/@\s]*)@")


def redact_url(url: str) -> str:
    """The URL with any password and secret-looking query values replaced by '***'."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_text(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user, colon, _password = userinfo.partition(":")
        netloc = f"{user}:***@{hostport}" if colon else netloc
    query = _SECRET_QUERY.sub(r"\1***", parts.query)
    # Splice rather than urlunsplit, which respells URLs of unknown schemes
    # ("sqlite:///x.db" would become "sqlite:/x.db").
    if netloc != parts.netloc:
        url = url.replace(f"//{parts.netloc}", f"//{netloc}", 1)
    if query != parts.query:
        url = url.replace(f"?{parts.query}", f"?{query}", 1)
    return url


def redact_text(text: str) -> str:
    """Text with URL passwords and `key=value` secrets replaced by '***'."""
    text = _USERINFO.sub(r"\1\2:***@", text)
    return _SECRET_QUERY.sub(r"\1***", text)
