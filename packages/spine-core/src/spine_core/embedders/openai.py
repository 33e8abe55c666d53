"""`OpenAIEmbedder`: text embeddings from the OpenAI API (or any server that speaks it).

The `openai` package is imported on first use, not on import: install it with
`pip install "spine-backends[openai]"`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from spine_core._redact import redact_text
from spine_core._retry import retry_transient
from spine_core.errors import BackendUnavailable, ConfigError, InvalidInput, SpineError

__all__ = ["KNOWN_DIMENSIONS", "OpenAIEmbedder"]

KNOWN_DIMENSIONS: dict[str, int] = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}
"""Vector lengths of OpenAI's embedding models (used when `dim` is not given)."""

_INSTALL = 'pip install "spine-backends[openai]"'
# Transient by the SDK's exception class names, so an injected client of another version
# (or an SDK-compatible one) is classified without importing `openai` here.
_TRANSIENT = frozenset(
    {"APIConnectionError", "APITimeoutError", "RateLimitError", "InternalServerError"}
)
_AUTH = frozenset({"AuthenticationError", "PermissionDeniedError"})
_CONFIG = frozenset({"NotFoundError"})
_BAD_INPUT = frozenset({"BadRequestError", "UnprocessableEntityError"})


class _Transient(Exception):
    """A failure worth retrying, its message already free of secrets."""


def _names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


class OpenAIEmbedder:
    """Embeds text with an OpenAI embeddings model; `embed_many` sends batches.

    `client` injects an `openai.AsyncOpenAI` (or a compatible object) instead of creating
    one from `api_key` / `base_url` (the SDK's environment variables apply when they are
    None). `dim` asks the model for shorter vectors (text-embedding-3 models); without it
    the model's native length is declared when known. Each request is bounded by
    `timeout` seconds and retried `retries` times on connection errors, rate limits and
    server errors, then `BackendUnavailable` is raised. The API key never appears in a
    repr or an error.
    """

    def __init__(
        self,
        model: str = "text-embedding-3-small",
        *,
        client: Any = None,
        api_key: str | None = None,
        base_url: str | None = None,
        dim: int | None = None,
        batch_size: int = 256,
        timeout: float = 30.0,
        retries: int = 3,
    ) -> None:
        if not isinstance(model, str) or not model.strip():
            raise ConfigError(f"OpenAIEmbedder model must be a non-empty str, got {model!r:.60}")
        if dim is not None and (isinstance(dim, bool) or not isinstance(dim, int) or dim <= 0):
            raise ConfigError(f"OpenAIEmbedder dim must be a positive int, got {dim!r:.40}")
        for option, value, low in (("batch_size", batch_size, 1), ("retries", retries, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(f"OpenAIEmbedder {option} must be an int >= {low}")
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise ConfigError("OpenAIEmbedder timeout must be a positive number of seconds")
        if api_key is not None and not isinstance(api_key, str):
            raise ConfigError("OpenAIEmbedder api_key must be a str")
        self.model = model
        self._client = client
        self._api_key = api_key
        self._base_url = base_url
        self._dim = dim
        self.batch_size = batch_size
        self.timeout = float(timeout)
        self.retries = retries

    @property
    def dim(self) -> int | None:
        """The vector length: `dim` when given, else the model's when known, else None."""
        return self._dim if self._dim is not None else KNOWN_DIMENSIONS.get(self.model)

    @property
    def name(self) -> str:
        """The identity stores record: the model (and the requested length)."""
        return f"openai/{self.model}" + (f"@{self._dim}" if self._dim is not None else "")

    def __repr__(self) -> str:
        where = f", base_url={redact_text(self._base_url)!r}" if self._base_url else ""
        return f"OpenAIEmbedder(model={self.model!r}{where})"

    def _ensure_client(self) -> Any:
        if self._client is None:
            try:
                import openai
            except ImportError:
                raise ConfigError(f"OpenAIEmbedder needs the openai package: {_INSTALL}") from None
            try:
                # The SDK's own retries are off: this class retries (bounded) and maps errors.
                self._client = openai.AsyncOpenAI(
                    api_key=self._api_key,
                    base_url=self._base_url,
                    timeout=self.timeout,
                    max_retries=0,
                )
            except openai.OpenAIError as exc:
                raise ConfigError(f"OpenAIEmbedder: {self._clean(exc)}") from None
        return self._client

    def _clean(self, exc: BaseException) -> str:
        text = str(exc)
        # The key given here, or the one the SDK found (e.g. in OPENAI_API_KEY).
        for key in (self._api_key, getattr(self._client, "api_key", None)):
            if isinstance(key, str) and key:
                text = text.replace(key, "***")
        return redact_text(text)

    async def _create(self, payload: str | list[str]) -> list[list[float]]:
        client = self._ensure_client()
        kwargs: dict[str, Any] = {"model": self.model, "input": payload}
        if self._dim is not None:
            kwargs["dimensions"] = self._dim

        async def attempt() -> Any:
            try:
                return await asyncio.wait_for(
                    client.embeddings.create(**kwargs), timeout=self.timeout
                )
            except SpineError:
                raise
            except TimeoutError:
                raise _Transient(f"no answer within {self.timeout:g} s") from None
            except Exception as exc:
                raise self._mapped(exc) from None

        response = await retry_transient(
            attempt,
            transient=(_Transient,),
            what=f"OpenAI embeddings ({self.model})",
            attempts=self.retries,
            base_delay=0.5,
            max_delay=8.0,
        )
        return _vectors(response, 1 if isinstance(payload, str) else len(payload))

    def _mapped(self, exc: Exception) -> Exception:
        names = _names(exc)
        status = getattr(exc, "status_code", None)
        if names & _AUTH or status in (401, 403):
            # The server's text may quote part of the key: say only what happened.
            return ConfigError(
                f"OpenAI refused the API key for {self.model!r} ({type(exc).__name__}); "
                "check api_key or OPENAI_API_KEY"
            )
        detail = f"{type(exc).__name__}: {self._clean(exc)}"
        if names & _TRANSIENT or (isinstance(status, int) and status >= 500):
            return _Transient(detail)
        if names & _CONFIG or status == 404:
            return ConfigError(f"OpenAI embeddings model {self.model!r}: {detail}")
        if names & _BAD_INPUT or status in (400, 422):
            return InvalidInput(f"OpenAI refused the input: {detail}")
        if isinstance(exc, ConnectionError | OSError):
            return _Transient(detail)
        return BackendUnavailable(f"OpenAI embeddings failed: {detail}")

    async def embed(self, text: str) -> list[float]:
        """The vector of `text` (one request)."""
        if not isinstance(text, str):
            raise InvalidInput(f"can only embed str, got {type(text).__name__}")
        return (await self._create(text))[0]

    async def embed_many(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, in order, `batch_size` texts per request."""
        if isinstance(texts, str) or any(not isinstance(t, str) for t in texts):
            raise InvalidInput("embed_many takes a sequence of str")
        out: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            out += await self._create(list(texts[start : start + self.batch_size]))
        return out


def _vectors(response: Any, expected: int) -> list[list[float]]:
    """The embeddings of a response in input order (the API tags each with its index)."""
    try:
        data = list(response.data)
        if all(isinstance(getattr(d, "index", None), int) for d in data):
            data.sort(key=lambda d: d.index)
        vectors = [list(d.embedding) for d in data]
    except (AttributeError, TypeError) as exc:
        raise BackendUnavailable(
            f"OpenAI embeddings: unexpected response ({type(exc).__name__})"
        ) from None
    if len(vectors) != expected:
        raise BackendUnavailable(f"OpenAI embeddings: {len(vectors)} vectors for {expected} inputs")
    return vectors
