"""Targets: a registered backend name or a URL, and how URLs map to backends."""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote, urlsplit

from .capabilities import Kind
from .errors import ConfigError
from .redact import redact_text

__all__ = ["backend_for_url", "embedded_path", "is_url", "url_options"]

_SCHEMES: dict[Kind, dict[str, str]] = {
    "checkpoint": {
        "memory": "memory",
        "sqlite": "sqlite",
        "redis": "redis",
        "rediss": "redis",
        "postgresql": "postgres",
        "postgres": "postgres",
        "qdrant": "qdrant",
        "qdrants": "qdrant",
        "qdrant+local": "qdrant",
    },
    "memory": {
        "memory": "vector",
        "vector": "vector",
        "sqlite": "sqlite",
        "redis": "redis",
        "rediss": "redis",
        "postgresql": "postgres",
        "postgres": "postgres",
        "pgvector": "pgvector",
        "qdrant": "qdrant",
        "qdrants": "qdrant",
        "qdrant+local": "qdrant",
    },
}


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
    builtin = _SCHEMES[kind].get(scheme)
    if builtin is not None:
        return builtin
    # A third-party plugin serves the scheme spelled like its name ('acme-db://' → 'acme_db').
    from .registry import list_checkpoints, list_memories  # metadata only: imports nothing

    installed = list_checkpoints() if kind == "checkpoint" else list_memories()
    for name in (scheme, scheme.replace("-", "_")):
        if name in installed:
            return name
    known = ", ".join(f"{s}://" for s in sorted(set(_SCHEMES[kind]) | set(installed)))
    raise ConfigError(f"unknown {kind} URL scheme {scheme!r}; known: {known}")


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
