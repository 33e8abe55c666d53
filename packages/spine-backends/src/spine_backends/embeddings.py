"""spinekit's `spine_backends.embeddings`: `HashEmbedder` (offline) and the model-backed ones.

`OpenAIEmbedder`, `SentenceTransformerEmbedder` and `FastEmbedEmbedder` import their library
only when they first embed; each comes with an extra of spine-backends.
"""

from __future__ import annotations

from spine_core import (
    FastEmbedEmbedder,
    HashEmbedder,
    OpenAIEmbedder,
    SentenceTransformerEmbedder,
)

__all__ = ["FastEmbedEmbedder", "HashEmbedder", "OpenAIEmbedder", "SentenceTransformerEmbedder"]
