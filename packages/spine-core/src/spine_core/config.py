"""`spine.toml`: which backends to use and their options, with `${VAR}` substitution.

[spine.backends]
checkpoint = "postgresql://app@db/agents"
memory = "qdrant://${QDRANT_HOST:-localhost}:6333"

[spine.plugins.postgres]
min_size = 2
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .opening import backend_name, open_checkpoint, open_memory
from .protocols import ManagedCheckpointStore, ManagedMemory

__all__ = [
    "DEFAULT_CHECKPOINT",
    "DEFAULT_MEMORY",
    "SpineConfig",
    "load_config",
    "substitute",
]

DEFAULT_CHECKPOINT = "sqlite:///.spine/spine.db"
DEFAULT_MEMORY = "sqlite:///.spine/spine.db"
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

    def options_for(self, target: str, kind: str) -> dict[str, Any]:
        """The `[spine.plugins.<backend>]` options for a target."""
        name = backend_name(target, "checkpoint" if kind == "checkpoint" else "memory")
        return dict(self.plugins.get(name, {}))

    def open_checkpoint(self, **overrides: Any) -> ManagedCheckpointStore:
        """The configured checkpoint store (no I/O until first use)."""
        options = self.options_for(self.checkpoint, "checkpoint") | overrides
        return open_checkpoint(self.checkpoint, **options)

    def open_memory(self, **overrides: Any) -> ManagedMemory:
        """The configured memory store (no I/O until first use)."""
        options = self.options_for(self.memory, "memory") | overrides
        return open_memory(self.memory, **options)


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
    unknown = set(spine) - {"backends", "plugins"}
    if unknown:
        raise ConfigError(
            f"{file}: unknown [spine] keys {sorted(unknown)}; expected backends, plugins"
        )
    backends = _expand(spine.get("backends", {}), env, f"{file}: spine.backends")
    plugins = _expand(spine.get("plugins", {}), env, f"{file}: spine.plugins")
    if not isinstance(backends, dict) or not isinstance(plugins, dict):
        raise ConfigError(f"{file}: spine.backends and spine.plugins must be tables")
    extra = set(backends) - {"checkpoint", "memory"}
    if extra:
        raise ConfigError(f"{file}: unknown [spine.backends] keys {sorted(extra)}")
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
    )
