"""`spine.toml`: which backends to use and their options, with `${VAR}` substitution.

[spine.backends]
checkpoint = "postgresql://app@db/agents"
memory = "qdrant://${QDRANT_HOST:-localhost}:6333"

[spine.plugins.postgres]
pool_min_size = 2

[spine.embedder]
kind = "sentence-transformers"        # or "fastembed", "openai", "hash"
model = "sentence-transformers/all-MiniLM-L6-v2"
device = "cpu"                        # any other key is an option of that embedder

The file may be spinekit's whole `spine.toml`: keys of other planes (`default_model`, `system`,
`guards`, `middleware`, …) are ignored. Spine's own tables are checked strictly, so a typo
fails loud with a suggestion instead of silently falling back to a default.
"""

from __future__ import annotations

import difflib
import inspect
import logging
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._capabilities import Kind
from ._opening import backend_name, open_checkpoint, open_memory
from ._protocols import ManagedCheckpointStore, ManagedMemory
from ._urls import is_url
from .errors import ConfigError
from .registry import _find_factory, suggest

__all__ = [
    "DEFAULT_CHECKPOINT",
    "DEFAULT_MEMORY",
    "SpineConfig",
    "load_config",
    "substitute",
]

DEFAULT_CHECKPOINT = "sqlite:///.spine/spine.db"
DEFAULT_MEMORY = "sqlite:///.spine/spine.db"
_OWN_KEYS = ("backends", "plugins", "embedder")
_BACKEND_KEYS = ("checkpoint", "memory")
logger = logging.getLogger("spine.config")
_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def substitute(text: str, env: Mapping[str, str], *, where: str = "spine.toml") -> str:
    """Replace `${VAR}` and `${VAR:-default}` (and `$$` by `$`); unset without default fails."""

    def repl(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        var, default = match.group(1), match.group(2)
        value = env.get(var)
        if value is None or (value == "" and default is not None):
            if default is None:
                raise ConfigError(f"{where}: environment variable {var} is not set")
            return default
        return value

    return _VAR.sub(repl, text)


def _expand(value: Any, env: Mapping[str, str], where: str) -> Any:
    if isinstance(value, str):
        return substitute(value, env, where=where)
    if isinstance(value, list):
        return [_expand(v, env, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: _expand(v, env, f"{where}.{k}") for k, v in value.items()}
    return value


@dataclass(frozen=True)
class SpineConfig:
    """Resolved configuration: the two targets and per-backend options."""

    checkpoint: str = DEFAULT_CHECKPOINT
    memory: str = DEFAULT_MEMORY
    plugins: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    source: Path | None = None
    """The file it came from, or None for built-in defaults."""
    embedder: Mapping[str, Any] | None = None
    """`[spine.embedder]`: `kind` and that embedder's options; None for the stores' default."""

    def build_embedder(self) -> Any:
        """A new embedder as `[spine.embedder]` describes it, or None when it names none."""
        if self.embedder is None:
            return None
        from .embedders import make_embedder

        options = dict(self.embedder)
        kind = options.pop("kind")
        where = f"{self.source}: [spine.embedder]" if self.source else "[spine.embedder]"
        return make_embedder(kind, options, where=where)

    def options_for(self, target: str, kind: str) -> dict[str, Any]:
        """The `[spine.plugins.<backend>]` options for a target."""
        name = backend_name(target, "checkpoint" if kind == "checkpoint" else "memory")
        return dict(self.plugins.get(name, {}))

    def _checked_options(self, target: str, kind: Kind) -> dict[str, Any]:
        options = self.options_for(target, kind)
        if not options:
            return options
        name = backend_name(target, kind)
        accepted = _accepted(target, kind, name)
        unknown = [] if accepted is None else sorted(set(options) - accepted)
        if unknown and accepted is not None:
            where = f"{self.source}: " if self.source else ""
            raise ConfigError(
                f"{where}[spine.plugins.{name}] has no option {unknown[0]!r} for the {kind} "
                f"backend{suggest(unknown[0], accepted)}; it takes: "
                + (", ".join(sorted(accepted)) or "no options")
            )
        return options

    def open_checkpoint(self, **overrides: Any) -> ManagedCheckpointStore:
        """The configured checkpoint store (no I/O until first use)."""
        options = self._checked_options(self.checkpoint, "checkpoint") | overrides
        return open_checkpoint(self.checkpoint, **options)

    def open_memory(self, **overrides: Any) -> ManagedMemory:
        """The configured memory store (no I/O until first use)."""
        options = self._checked_options(self.memory, "memory") | overrides
        if "embedder" not in options and self.embedder is not None:
            options["embedder"] = self.build_embedder()
        return open_memory(self.memory, **options)


def _keywords(fn: Any) -> set[str] | None:
    """The keyword options `fn` takes; None when it takes `**kwargs` or cannot be inspected."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    return {
        p.name
        for p in params
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    }


def _accepted(target: str, kind: Kind, name: str) -> set[str] | None:
    """The options a backend's factory takes; None when it takes any."""
    factory = _find_factory(kind, name)
    keywords: set[str] | None = None
    from_url = getattr(factory, "from_url", None) if is_url(target) else None
    if from_url is not None:
        keywords = _keywords(from_url)
        if keywords is not None:
            keywords.discard("url")
    if keywords is None:  # from_url(url, **config) hands the options to the constructor
        keywords = _keywords(factory)
    return keywords


def load_config(
    path: str | Path | None = None, *, env: Mapping[str, str] | None = None
) -> SpineConfig:
    """Read `spine.toml` from `path`, `$SPINE_CONFIG` or the current directory.

    Without a file, returns the embedded SQLite defaults.
    """
    env = os.environ if env is None else env
    if path is None:
        path = env.get("SPINE_CONFIG") or None
        if path is None and Path("spine.toml").is_file():
            path = "spine.toml"
    if path is None:
        return SpineConfig()
    file = Path(path)
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {file} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: invalid TOML: {exc}") from None
    spine = raw.get("spine", {})
    if not isinstance(spine, dict):
        raise ConfigError(f"{file}: [spine] must be a table")
    for key in sorted(set(spine) - set(_OWN_KEYS)):
        close = difflib.get_close_matches(key, _OWN_KEYS, n=1, cutoff=0.8)
        if close:  # a misspelt storage table would silently fall back to the defaults
            raise ConfigError(f"{file}: unknown [spine] key {key!r} (did you mean {close[0]!r}?)")
        logger.debug("%s: ignoring [spine] key %r (not a storage setting)", file, key)
    backends = _expand(spine.get("backends", {}), env, f"{file}: spine.backends")
    plugins = _expand(spine.get("plugins", {}), env, f"{file}: spine.plugins")
    if not isinstance(backends, dict) or not isinstance(plugins, dict):
        raise ConfigError(f"{file}: spine.backends and spine.plugins must be tables")
    extra = sorted(set(backends) - set(_BACKEND_KEYS))
    if extra:
        key = extra[0]
        raise ConfigError(
            f"{file}: unknown [spine.backends] key {key!r}{suggest(key, _BACKEND_KEYS)}; "
            "expected checkpoint, memory"
        )
    embedder = _embedder_table(spine, env, file)
    for name, options in plugins.items():
        if not isinstance(options, dict):
            raise ConfigError(f"{file}: [spine.plugins.{name}] must be a table of options")
    for key in ("checkpoint", "memory"):
        if key in backends and (not isinstance(backends[key], str) or not backends[key]):
            raise ConfigError(f"{file}: spine.backends.{key} must be a non-empty string")
    return SpineConfig(
        checkpoint=backends.get("checkpoint", DEFAULT_CHECKPOINT),
        memory=backends.get("memory", DEFAULT_MEMORY),
        plugins=plugins,
        source=file,
        embedder=embedder,
    )


def _embedder_table(spine: Mapping[str, Any], env: Mapping[str, str], file: Path) -> Any:
    """`[spine.embedder]` expanded and checked (kind and option names), or None."""
    if "embedder" not in spine:
        return None
    table = _expand(spine["embedder"], env, f"{file}: spine.embedder")
    if not isinstance(table, dict):
        raise ConfigError(f"{file}: [spine.embedder] must be a table")
    if not isinstance(table.get("kind"), str) or not table["kind"]:
        raise ConfigError(
            f'{file}: [spine.embedder] needs kind = "sentence-transformers", "fastembed", '
            '"openai" or "hash"'
        )
    config = SpineConfig(embedder=table, source=file)
    config.build_embedder()  # a typo in a kind or an option fails here, not at first use
    return table
