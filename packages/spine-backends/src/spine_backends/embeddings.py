"""spinekit's `spine_backends.embeddings`: `HashEmbedder` (offline) and `OpenAIEmbedder`.

`OpenAIEmbedder` imports the `openai` package only when it first embeds.
"""

from __future__ import annotations

from spine_core import HashEmbedder, OpenAIEmbedder

__all__ = ["HashEmbedder", "OpenAIEmbedder"]
