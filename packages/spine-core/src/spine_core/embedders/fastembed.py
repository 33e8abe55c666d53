"""`FastEmbedEmbedder`: a fastembed model (ONNX Runtime, no torch).

`fastembed` is imported on first use, not on import: install it with
`pip install "spine-backends[fastembed]"`.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import Any

from spine_core.errors import ConfigError

from ._local import LocalModelEmbedder

__all__ = ["FastEmbedEmbedder"]


class FastEmbedEmbedder(LocalModelEmbedder):
    """Embeds text with a fastembed model (ONNX), in a worker thread.

    `model` is one of fastembed's model names (`fastembed.TextEmbedding.list_supported_models()`);
    fastembed fetches it into `cache_dir` on first load, or finds it there offline. `threads`
    bounds ONNX Runtime's threads (default: its choice); `batch_size` texts go through the model
    at once. fastembed's models return unit vectors. `dim` is the model's once loaded (`await
    load()` loads it early). `name`, what stores record, defaults to `fastembed/<model>`.
    """

    library = "fastembed"
    extra = "fastembed"
    prefix = "fastembed"

    def __init__(
        self,
        model: str = "BAAI/bge-small-en-v1.5",
        *,
        cache_dir: str | None = None,
        threads: int | None = None,
        batch_size: int = 64,
        name: str | None = None,
    ) -> None:
        super().__init__(model, batch_size=batch_size, name=name)
        if cache_dir is not None and not isinstance(cache_dir, str):
            raise ConfigError("FastEmbedEmbedder cache_dir must be a str")
        if threads is not None and (
            isinstance(threads, bool) or not isinstance(threads, int) or threads < 1
        ):
            raise ConfigError(f"FastEmbedEmbedder threads must be an int >= 1, got {threads!r:.40}")
        self.cache_dir = cache_dir
        self.threads = threads

    def _load(self, library: ModuleType) -> Any:
        return library.TextEmbedding(
            model_name=self.model, cache_dir=self.cache_dir, threads=self.threads
        )

    def _encode(self, model: Any, texts: list[str]) -> Sequence[Any]:
        return list(model.embed(texts, batch_size=self.batch_size))

    def _dimension_of(self, model: Any) -> int | None:
        value = getattr(model, "embedding_size", None)  # fastembed >= 0.5
        return value if isinstance(value, int) and value > 0 else None
