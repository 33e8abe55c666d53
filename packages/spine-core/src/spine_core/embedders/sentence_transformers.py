"""`SentenceTransformerEmbedder`: a sentence-transformers model, from a local folder or by name.

`sentence_transformers` (and torch) are imported on first use, not on import: install them
with `pip install "spine-backends[sentence-transformers]"`.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import Any

from spine_core.errors import ConfigError

from ._local import LocalModelEmbedder

__all__ = ["SentenceTransformerEmbedder"]


class SentenceTransformerEmbedder(LocalModelEmbedder):
    """Embeds text with a sentence-transformers model, in a worker thread.

    `model` is a local folder (as `SentenceTransformer.save` writes it) or a model name
    (`sentence-transformers/all-MiniLM-L6-v2`, fetched by sentence-transformers into
    `cache_dir` unless `local_files_only`). `device` picks where it runs (`"cpu"`, `"cuda"`;
    default: the library's choice); `batch_size` texts go through the model at once;
    `normalize` returns unit vectors. `dim` is the model's once loaded (`await load()` loads
    it early). `name`, what stores record, defaults to `sentence-transformers/<model>`.
    """

    library = "sentence_transformers"
    extra = "sentence-transformers"
    prefix = "sentence-transformers"

    def __init__(
        self,
        model: str = "sentence-transformers/all-MiniLM-L6-v2",
        *,
        device: str | None = None,
        batch_size: int = 32,
        normalize: bool = True,
        cache_dir: str | None = None,
        local_files_only: bool = False,
        name: str | None = None,
    ) -> None:
        super().__init__(model, batch_size=batch_size, name=name)
        if device is not None and (not isinstance(device, str) or not device):
            raise ConfigError("SentenceTransformerEmbedder device must be a non-empty str")
        for option, value in (("normalize", normalize), ("local_files_only", local_files_only)):
            if not isinstance(value, bool):
                raise ConfigError(f"SentenceTransformerEmbedder {option} must be true or false")
        if cache_dir is not None and not isinstance(cache_dir, str):
            raise ConfigError("SentenceTransformerEmbedder cache_dir must be a str")
        self.device = device
        self.normalize = normalize
        self.cache_dir = cache_dir
        self.local_files_only = local_files_only

    def _load(self, library: ModuleType) -> Any:
        return library.SentenceTransformer(
            self.model,
            device=self.device,
            cache_folder=self.cache_dir,
            local_files_only=self.local_files_only,
        )

    def _encode(self, model: Any, texts: list[str]) -> Sequence[Any]:
        result: Sequence[Any] = model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=self.normalize,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return result

    def _dimension_of(self, model: Any) -> int | None:
        # sentence-transformers 5.x renamed the getter; the old name warns there.
        for attr in ("get_embedding_dimension", "get_sentence_embedding_dimension"):
            getter = getattr(model, attr, None)
            if callable(getter):
                value = getter()
                return value if isinstance(value, int) and value > 0 else None
        return None
