"""The base of embedders that run a model in this process (sentence-transformers, fastembed).

The base owns the flow: validate the options, import the library lazily (a missing package is
a `ConfigError` with the `pip install` line), load the model once, and run every call in a
worker thread so the event loop never blocks. A subclass fills three hooks: `_load`,
`_encode` and `_dimension_of`.
"""

from __future__ import annotations

import asyncio
import importlib
import threading
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

from spine_core.errors import ConfigError, InvalidInput

__all__ = ["LocalModelEmbedder"]


class LocalModelEmbedder:
    """An `Embedder` backed by a model loaded in this process; subclasses fill the hooks."""

    library: ClassVar[str]
    """The module to import (e.g. `sentence_transformers`)."""
    extra: ClassVar[str]
    """The spine-backends extra that installs it."""
    prefix: ClassVar[str]
    """The start of `name` (e.g. `sentence-transformers`)."""

    def __init__(self, model: str, *, batch_size: int, name: str | None) -> None:
        cls = type(self).__name__
        if not isinstance(model, str) or not model.strip():
            raise ConfigError(f"{cls} model must be a non-empty str, got {model!r:.60}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(f"{cls} batch_size must be an int >= 1, got {batch_size!r:.40}")
        if name is not None and (not isinstance(name, str) or not name.strip()):
            raise ConfigError(f"{cls} name must be a non-empty str when given")
        self.model = model
        # A folder (existing, or spelt as a path) rather than a hub id like `org/model`.
        self._local = model.startswith((".", "/", "~")) or "\\" in model or Path(model).is_dir()
        self.batch_size = batch_size
        self._name = name
        self._model: Any = None
        self._dim: int | None = None
        # One model, one call at a time: libraries are not all thread-safe, and two batches
        # at once only compete for the same cores.
        self._lock = threading.Lock()

    # -- hooks ----------------------------------------------------------------------------------
    def _load(self, library: ModuleType) -> Any:
        """Build the model object (runs in a worker thread)."""
        raise NotImplementedError

    def _encode(self, model: Any, texts: list[str]) -> Sequence[Any]:
        """One vector per text (a list or an array row), in order (runs in a worker thread)."""
        raise NotImplementedError

    def _dimension_of(self, model: Any) -> int | None:
        """The model's vector length, if it says (None: learned from the first vector)."""
        return None

    # -- the flow -------------------------------------------------------------------------------
    @property
    def install_hint(self) -> str:
        """The command that installs the library."""
        return f'pip install "spine-backends[{self.extra}]"'

    @property
    def dim(self) -> int | None:
        """The vector length once the model is loaded (see `load`); None before."""
        return self._dim

    @property
    def name(self) -> str:
        """The identity stores record: `name=` when given, else `<library>/<model>`."""
        if self._name is not None:
            return self._name
        model = self.model.rstrip("/\\")
        if "/" in model and not self._local:
            # A hub id (`org/model`): recorded as `<prefix>/<model>`, the org dropped only when
            # it is the prefix itself, so the common `sentence-transformers/x` is not doubled.
            org, _, rest = model.partition("/")
            return f"{self.prefix}/{rest}" if org == self.prefix else f"{self.prefix}/{model}"
        # A local folder: its last part, so moving the folder keeps the identity.
        return f"{self.prefix}/{model.replace(chr(92), '/').rsplit('/', 1)[-1]}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.model!r})"

    def _import(self) -> ModuleType:
        try:
            return importlib.import_module(self.library)
        except ImportError as exc:
            if exc.name is not None and exc.name.split(".")[0] != self.library.split(".")[0]:
                detail = f" (importing it failed: {exc})"  # installed, but a dependency is not
            else:
                detail = ""
            raise ConfigError(
                f"{type(self).__name__} needs the {self.library} package: "
                f"{self.install_hint}{detail}"
            ) from None

    def _loaded(self) -> Any:
        """The model, loaded on first use (call with the lock held)."""
        if self._model is None:
            library = self._import()
            try:
                model = self._load(library)
            except Exception as exc:
                raise ConfigError(
                    f"{type(self).__name__} could not load model {self.model!r}: "
                    f"{type(exc).__name__}: {str(exc)[:300]}"
                ) from None
            self._dim = self._dimension_of(model)
            self._model = model
        return self._model

    def _run(self, texts: list[str]) -> list[list[float]]:
        with self._lock:
            model = self._loaded()
            out: list[list[float]] = []
            for start in range(0, len(texts), self.batch_size):
                rows = self._encode(model, texts[start : start + self.batch_size])
                out += [[float(x) for x in row] for row in rows]
        if out and self._dim is None:
            self._dim = len(out[0])
        return out

    def _load_sync(self) -> None:
        with self._lock:
            self._loaded()

    async def load(self) -> LocalModelEmbedder:
        """Load the model now (in a worker thread) instead of on the first embed; returns self."""
        await asyncio.to_thread(self._load_sync)
        return self

    async def embed(self, text: str) -> list[float]:
        """The vector of `text`."""
        if not isinstance(text, str):
            raise InvalidInput(f"can only embed str, got {type(text).__name__}")
        return (await asyncio.to_thread(self._run, [text]))[0]

    async def embed_many(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, in order, `batch_size` texts per model call."""
        if isinstance(texts, str) or any(not isinstance(t, str) for t in texts):
            raise InvalidInput("embed_many takes a sequence of str")
        if not texts:
            return []
        return await asyncio.to_thread(self._run, list(texts))
