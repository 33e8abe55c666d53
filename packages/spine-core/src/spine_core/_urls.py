"""Targets: a registered backend name or a URL, and how URLs map to backends."""

from __future__ import annotations

import difflib
from urllib.parse import parse_qsl, unquote, urlsplit

from ._backends import backend_for_scheme, known_schemes
from ._capabilities import Kind
from ._redact import redact_text
from .errors import ConfigError

__all__ = ["backend_for_url", "embedded_path", "is_url", "url_options"]


def is_url(target: str) -> bool:
    """True when `target` looks like `scheme://…` rather than a backend name."""
    return "://" in target


def backend_for_url(url: str, kind: Kind) -> str:
    """The backend name that serves `url` for `kind` (e.g. 'rediss://…' → 'redis')."""
    try:
        urlsplit(url)  # the backends parse it later; a malformed URL is a config error now
    except ValueError as exc:
        raise ConfigError(f"malformed {kind} URL {redact_text(url)!r}: {exc}") from None
    scheme = url.partition("://")[0].lower()
    name = backend_for_scheme(scheme, kind)
    if name is not None:
        return name
    # A third-party plugin without a `spine.schemes` entry point serves the scheme spelled
    # like its name ('acme-db://' → 'acme_db').
    from .registry import list_checkpoints, list_memories  # metadata only: imports nothing

    installed = list_checkpoints() if kind == "checkpoint" else list_memories()
    for candidate in (scheme, scheme.replace("-", "_")):
        if candidate in installed:
            return candidate
    candidates = sorted(set(known_schemes(kind)) | set(installed))
    known = ", ".join(f"{s}://" for s in candidates)
    close = difflib.get_close_matches(scheme, candidates, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]}://?)" if close else ""
    raise ConfigError(f"unknown {kind} URL scheme {scheme!r}{hint}; known: {known}")


def embedded_path(url: str) -> str | None:
    """The file or directory of an embedded-backend URL, SQLAlchemy style.

    `x:///relative.db` → 'relative.db', `x:////absolute.db` → '/absolute.db',
    `x://` or `x:///:memory:` → None (in memory).
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ConfigError(f"not a URL: {url!r}")
    rest = rest.split("?", 1)[0]
    if rest in ("", "/", "/:memory:", ":memory:"):
        return None
    if not rest.startswith("/"):
        raise ConfigError(
            f"{scheme}:// URLs take no host: use {scheme}:///relative/path or "
            f"{scheme}:////absolute/path (got {url!r})"
        )
    return unquote(rest[1:])


def url_options(url: str) -> dict[str, str]:
    """The query parameters of `url` as a dict (last value wins)."""
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
