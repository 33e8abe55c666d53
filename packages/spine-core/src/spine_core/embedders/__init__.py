"""Model-backed embedders, and the table that builds one by kind (as `spine.toml` names it).

Each imports its library lazily, so importing this package needs none of them.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from spine_core.errors import ConfigError

from .fastembed import FastEmbedEmbedder
from .openai import OpenAIEmbedder
from .sentence_transformers import SentenceTransformerEmbedder

__all__ = [
    "EMBEDDER_KINDS",
    "EmbedderKind",
    "FastEmbedEmbedder",
    "OpenAIEmbedder",
    "SentenceTransformerEmbedder",
    "make_embedder",
]


@dataclass(frozen=True)
class EmbedderKind:
    """One known embedder: where its class lives and what it needs installed."""

    kind: str
    target: str
    """`module:Class`."""
    requires: str | None = None
    """The module its library provides (None: nothing beyond spine-core)."""
    extra: str | None = None
    """The spine-backends extra that installs it."""

    @property
    def installed(self) -> bool:
        """Whether its library can be imported (checked without importing it)."""
        return self.requires is None or importlib.util.find_spec(self.requires) is not None

    @property
    def install_hint(self) -> str:
        """The command that installs its library ("" when nothing is needed)."""
        return f'pip install "spine-backends[{self.extra}]"' if self.extra else ""

    def cls(self) -> Any:
        """The embedder class (importing it does not import its library)."""
        module, _, attr = self.target.partition(":")
        return getattr(importlib.import_module(module), attr)


EMBEDDER_KINDS: dict[str, EmbedderKind] = {
    k.kind: k
    for k in (
        EmbedderKind("hash", "spine_core._embedding:HashEmbedder"),
        EmbedderKind(
            "sentence-transformers",
            "spine_core.embedders.sentence_transformers:SentenceTransformerEmbedder",
            requires="sentence_transformers",
            extra="sentence-transformers",
        ),
        EmbedderKind(
            "fastembed",
            "spine_core.embedders.fastembed:FastEmbedEmbedder",
            requires="fastembed",
            extra="fastembed",
        ),
        EmbedderKind(
            "openai",
            "spine_core.embedders.openai:OpenAIEmbedder",
            requires="openai",
            extra="openai",
        ),
    )
}
"""The embedders `spine.toml` and `spine demo --embedder` can name, by kind."""


def _options_of(cls: Any) -> set[str]:
    params = inspect.signature(cls).parameters.values()
    return {
        p.name
        for p in params
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    }


def make_embedder(kind: str, options: Mapping[str, Any] | None = None, *, where: str = "") -> Any:
    """Build the embedder of `kind` with `options` (its constructor's keywords).

    An unknown kind or option is a `ConfigError` with a suggestion; the library itself is
    imported only when the embedder first embeds (or `load()`s).
    """
    from spine_core.registry import suggest

    prefix = f"{where}: " if where else ""
    spec = EMBEDDER_KINDS.get(kind) if isinstance(kind, str) else None
    if spec is None:
        raise ConfigError(
            f"{prefix}unknown embedder kind {kind!r:.60}{suggest(str(kind), EMBEDDER_KINDS)}; "
            "known: " + ", ".join(EMBEDDER_KINDS)
        )
    cls = spec.cls()
    options = dict(options or {})
    accepted = _options_of(cls)
    unknown = sorted(set(options) - accepted)
    if unknown:
        raise ConfigError(
            f"{prefix}the {kind} embedder has no option {unknown[0]!r}"
            f"{suggest(unknown[0], accepted)}; it takes: " + ", ".join(sorted(accepted))
        )
    return cls(**options)
