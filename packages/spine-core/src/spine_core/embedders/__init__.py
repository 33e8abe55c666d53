"""Model-backed embedders. Each imports its SDK lazily, so importing this package needs none."""

from __future__ import annotations

from .openai import OpenAIEmbedder

__all__ = ["OpenAIEmbedder"]
