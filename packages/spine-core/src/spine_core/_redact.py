"""Keep secrets out of messages, reprs and logs."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote, unquote, urlsplit

__all__ = ["redact_secrets", "redact_text", "redact_url"]

# A secret-looking key (matched anywhere in a word, so `sslpassword`, `x-api-key` and
# `db_password` count), then `=` or `:` (query strings, libpq key=value DSNs, HTTP headers,
# JSON), then the value: quoted (libpq and JSON quoting, possibly cut short), an HTTP auth
# scheme and its credentials, or a bare token.
_SECRET_PAIR = re.compile(
    r"""(?ix)
    (
      (?:password|passwd|pwd|token|secret|api[_-]?key|access[_-]?key|authorization|cookie)
      ["']?\s*[:=]\s*
    )
    (
        "(?:[^"\\]|\\.)*"?
      | '(?:[^'\\]|\\.)*'?
      | (?:(?:bearer|basic|digest|token)\s+)?[^&\s,;"'}]+
    )
    """
)
# The look-behind anchors the scheme at a word start, keeping the scan linear on long text.
# The password runs to the LAST '@' of the authority (libpq and redis-py split there too),
# so a raw '@' inside a password cannot leave its tail looking like a host.
_USERINFO = re.compile(r"(?i)(?<![a-z0-9+.-])([a-z][a-z0-9+.-]{0,31}://)([^/@\s:]*):([^/\s]*)@")


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
    query = _SECRET_PAIR.sub(r"\1***", parts.query)
    # Splice rather than urlunsplit, which respells URLs of unknown schemes
    # ("sqlite:///x.db" would become "sqlite:/x.db").
    if netloc != parts.netloc:
        url = url.replace(f"//{parts.netloc}", f"//{netloc}", 1)
    if query != parts.query:
        url = url.replace(f"?{parts.query}", f"?{query}", 1)
    return url


def redact_text(text: str) -> str:
    """Text with URL passwords, `key=value` secrets and auth headers replaced by '***'."""
    text = _USERINFO.sub(r"\1\2:***@", text)
    return _SECRET_PAIR.sub(r"\1***", text)


def redact_secrets(text: str, secrets: Iterable[str | None]) -> str:
    """`redact_text(text)` with every known secret (as given, decoded or encoded) removed too.

    For messages that may quote a secret out of context, such as a driver's complaint about
    one token of a DSN, where no pattern can recognise it.
    """
    forms: set[str] = set()
    for secret in secrets:
        if secret:
            forms.update((secret, unquote(secret), quote(secret, safe="")))
    # Longest first, so a secret containing another is removed whole.
    for form in sorted(forms, key=len, reverse=True):
        if form:
            text = text.replace(form, "***")
    return redact_text(text)
