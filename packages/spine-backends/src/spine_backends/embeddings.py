"""spinekit's `spine_backends.embeddings`: `HashEmbedder` (offline) and `OpenAIEmbedder`.

`OpenAIEmbedder` loads on first access.
"""

from __future__ import annotations

from spine_core import HashEmbedder

from . import ADAPTERS
from ._exports import lazy_reexports

__all__ = ["HashEmbedder", "OpenAIEmbedder"]  # noqa: F822 - OpenAIEmbedder loads lazily

__getattr__, __dir__ = lazy_reexports(__name__, {"OpenAIEmbedder": ADAPTERS["OpenAIEmbedder"]})
