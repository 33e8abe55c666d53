"""Where a `QdrantMemory` keeps its data: a server URL, a local directory or memory.

URL forms (DESIGN §3):

    qdrant://host[:6333][/prefix]       a server over HTTP
    qdrants://host[:6333][/prefix]      a server over HTTPS
    qdrant+local:///relative/dir        local mode, on disk, relative to the working directory
    qdrant+local:////absolute/dir       local mode, on disk, absolute path
    qdrant+local://                     local mode, in memory

`QdrantMemory.from_url` also takes plain `http://` and `https://` server URLs.

Query parameters become store options (`?namespace=agents&hnsw_ef=256`); keyword options
passed alongside the URL win over them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from spine_core.errors import ConfigError
from spine_core.spi import embedded_path, url_options

__all__ = ["Target", "parse_url", "server_target"]

Mode = Literal["memory", "disk", "server"]
API_KEY_ENV = "QDRANT_API_KEY"
DEFAULT_PORT = 6333

_INT_OPTIONS = frozenset({"hnsw_ef", "hnsw_m", "ef_construct", "grpc_port", "batch_size"})
_FLOAT_OPTIONS = frozenset({"timeout"})
_BOOL_OPTIONS = frozenset({"prefer_grpc"})
_STR_OPTIONS = frozenset({"namespace", "api_key", "engine"})


@dataclass(frozen=True)
class Target:
    """A resolved location; `api_key` never appears in its repr or `display`."""

    mode: Mode
    location: str | None = None
    """':memory:' or a directory (local modes)."""
    url: str | None = None
    """'http(s)://host:port[/prefix]' (server mode)."""
    api_key: str | None = field(default=None, repr=False)

    @property
    def https(self) -> bool:
        """Whether the server is reached over TLS."""
        return self.url is not None and self.url.startswith("https://")

    @property
    def display(self) -> str:
        """The target as a Spine URL, without secrets."""
        if self.mode == "memory":
            return "qdrant+local://"
        if self.mode == "disk":
            assert self.location is not None
            return "qdrant+local:///" + self.location
        assert self.url is not None
        return ("qdrants" if self.https else "qdrant") + self.url[self.url.index("://") :]


def server_target(url: str, api_key: str | None) -> Target:
    """A server target from `http(s)://` or `qdrant(s)://` URL; the key falls back to the env."""
    parts = urlsplit(url)
    scheme = {"qdrant": "http", "qdrants": "https", "http": "http", "https": "https"}.get(
        parts.scheme.lower()
    )
    if scheme is None:
        raise ConfigError(
            f"Qdrant server URL must start with qdrant://, qdrants://, http:// or https:// "
            f"(got scheme {parts.scheme!r})"
        )
    if parts.query:
        raise ConfigError(
            "a Qdrant server url= takes no query string: pass options as keyword arguments, "
            "or use QdrantMemory.from_url"
        )
    if "@" in parts.netloc:
        raise ConfigError(
            "Qdrant URLs take no user or password: pass the API key as api_key=... or in the "
            f"{API_KEY_ENV} environment variable"
        )
    if not parts.hostname:
        raise ConfigError(f"Qdrant server URL needs a host, e.g. {parts.scheme}://localhost:6333")
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError:
        raise ConfigError("Qdrant server URL has an invalid port") from None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    path = parts.path.rstrip("/")
    if api_key is None:
        api_key = os.environ.get(API_KEY_ENV) or None
    return Target(
        mode="server",
        url=urlunsplit((scheme, f"{host}:{port}", path, "", "")),
        api_key=api_key,
    )


def _convert(name: str, raw: str) -> Any:
    try:
        if name in _INT_OPTIONS:
            return int(raw)
        if name in _FLOAT_OPTIONS:
            return float(raw)
    except ValueError:
        raise ConfigError(f"Qdrant URL option {name!r} must be a number") from None
    if name in _BOOL_OPTIONS:
        lowered = raw.lower()
        if lowered not in ("1", "0", "true", "false", "yes", "no"):
            raise ConfigError(f"Qdrant URL option {name!r} must be true or false")
        return lowered in ("1", "true", "yes")
    return raw


def parse_url(url: str) -> dict[str, Any]:
    """`QdrantMemory` keyword arguments for a Spine Qdrant URL (location plus query options)."""
    if not isinstance(url, str) or "://" not in url:
        raise ConfigError("Qdrant URL must look like qdrant://host:6333 or qdrant+local:///dir")
    scheme = url.partition("://")[0].lower()
    known = _INT_OPTIONS | _FLOAT_OPTIONS | _BOOL_OPTIONS | _STR_OPTIONS
    kwargs: dict[str, Any] = {}
    for name, raw in url_options(url).items():
        if name not in known:
            raise ConfigError(
                f"unknown Qdrant URL option {name!r}; known: {', '.join(sorted(known))}"
            )
        kwargs[name] = _convert(name, raw)
    if scheme == "qdrant+local":
        path = embedded_path(url)
        if path is None:
            kwargs["location"] = ":memory:"
        else:
            kwargs["path"] = path
    elif scheme in ("qdrant", "qdrants", "http", "https"):
        kwargs["url"] = urlunsplit(urlsplit(url)._replace(query="", fragment=""))
    else:
        raise ConfigError(
            f"not a Qdrant URL scheme: {scheme!r} (use qdrant://, qdrants:// or qdrant+local://)"
        )
    return kwargs
