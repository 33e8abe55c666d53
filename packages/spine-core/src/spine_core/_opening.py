"""`open_checkpoint` / `open_memory`: a store from a name or a URL, without I/O.

A store built on Spine's bases is returned as it is: it validates its own input. Any other
store (three methods over a dict, a store written for spinekit) is returned inside a
validating wrapper, so code using `open_*` gets Spine's input checks and a lifecycle from
every store.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Self, cast

from ._backends import check_drivers
from ._base import CheckpointStoreBase, StoreBase, check_prune_args
from ._capabilities import CheckpointCapabilities, Kind, MemoryCapabilities, capabilities_of
from ._codec import dump_state
from ._embedding import embed_texts, embedder_dimension, embedder_name
from ._options import bind_options
from ._protocols import ManagedCheckpointStore, ManagedMemory, SessionPage
from ._records import MemoryHit, MemoryItem, MemoryRecord
from ._redact import redact_text, redact_url
from ._urls import backend_for_url, is_url
from ._validation import (
    encode_metadata,
    validate_before,
    validate_content,
    validate_embedder,
    validate_filter,
    validate_k,
    validate_limit,
    validate_optional_session_id,
    validate_record_id,
    validate_session_id,
    validate_vector,
)
from .errors import ConfigError, InvalidInput, UnsupportedCapability
from .registry import Factory, _find_factory
from .state import State

__all__ = [
    "CheckedEmbedder",
    "ValidatingCheckpoint",
    "ValidatingMemory",
    "backend_name",
    "is_spine_store",
    "open_checkpoint",
    "open_memory",
    "unwrap",
]

_LIFECYCLE = ("aclose", "__aenter__", "__aexit__")


def backend_name(target: str, kind: Kind) -> str:
    """The registry name a target resolves to (the name itself, or the URL's backend)."""
    if not isinstance(target, str) or not target:
        raise ConfigError(f"{kind} target must be a backend name or URL, got {target!r}")
    return backend_for_url(target, kind) if is_url(target) else target


def is_spine_store(store: object) -> bool:
    """Whether `store` is built on Spine's bases, so it validates its input itself.

    That is a `StoreBase`, or a class declaring `SPI_VERSION` with a full lifecycle.
    """
    if isinstance(store, StoreBase):
        return True
    return getattr(type(store), "SPI_VERSION", None) is not None and all(
        callable(getattr(store, m, None)) for m in _LIFECYCLE
    )


def unwrap(store: Any) -> Any:
    """The store inside a validating wrapper (any other store as it is)."""
    return store.wrapped if isinstance(store, _Validating) else store


def _forwarded(fn: Callable[..., Any], options: dict[str, Any]) -> dict[str, Any] | None:
    """The options `fn` passes on through ``**kwargs`` (None: it takes none, or no signature)."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return None
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return None
    return {k: v for k, v in options.items() if k not in params}


def _build(kind: Kind, target: str, options: dict[str, Any]) -> Any:
    name = backend_name(target, kind)
    factory: Factory = _find_factory(kind, name)
    check_drivers(name, factory)
    shown = redact_url(target) if is_url(target) else target
    maker: Callable[..., Any] = factory
    args: tuple[Any, ...] = ()
    if is_url(target):
        from_url = getattr(factory, "from_url", None)
        if from_url is None:
            raise ConfigError(f"{kind} backend {name!r} does not accept URLs ({shown})")
        maker, args = from_url, (target,)
    # Only a signature mismatch is a bad option (checked before the call): a TypeError raised
    # while the constructor runs is the store's own error and keeps its type and traceback.
    what = f"{kind} backend {name!r} ({shown})"
    bind_options(maker, args, options, what=what)
    forwarded = _forwarded(maker, options) if maker is not factory else None
    if forwarded and isinstance(factory, type):
        # from_url(url, **options) passes them to the constructor: check the names there
        # (partially: the URL supplies the rest).
        bind_options(factory, (), forwarded, what=what, partial=True)
    if kind == "memory" and "embedder" in options and options["embedder"] is not None:
        embedder = validate_embedder(options["embedder"])
        if not _builds_spine_stores(factory):
            # A store not built on Spine's bases trusts its embedder's vectors: check them.
            options = {**options, "embedder": CheckedEmbedder(embedder)}
    store = maker(*args, **options)
    required = ("put", "get", "delete") if kind == "checkpoint" else ("save", "search", "load")
    missing = [m for m in required if not callable(getattr(store, m, None))]
    if missing:
        raise ConfigError(
            f"{kind} backend {name!r} built {type(store).__name__}, "
            f"which lacks {', '.join(missing)}"
        )
    if is_spine_store(store):
        return store
    return ValidatingCheckpoint(store) if kind == "checkpoint" else ValidatingMemory(store)


def _builds_spine_stores(factory: Factory) -> bool:
    # A class on Spine's bases validates its own input; anything else (a lambda, a plain
    # class) may not, so open_* checks for it.
    return isinstance(factory, type) and (
        issubclass(factory, StoreBase) or getattr(factory, "SPI_VERSION", None) is not None
    )


class CheckedEmbedder:
    """An embedder whose vectors are checked (finite, non-zero, one length) and unit-normalized.

    `open_memory` hands it to stores not built on Spine's bases, so a bad vector raises
    `InvalidInput` before such a store writes it.
    """

    def __init__(self, embedder: Any) -> None:
        self.wrapped = embedder

    @property
    def dim(self) -> int | None:
        """The wrapped embedder's declared dimension, if any."""
        return embedder_dimension(self.wrapped)

    @property
    def name(self) -> str:
        """The wrapped embedder's identity."""
        return embedder_name(self.wrapped)

    async def embed(self, text: str) -> list[float]:
        """One checked unit vector."""
        return (await self.embed_many([text]))[0]

    async def embed_many(self, texts: Sequence[str]) -> list[list[float]]:
        """One checked unit vector per text."""
        vectors = await embed_texts(self.wrapped, texts)
        return [validate_vector(v, len(v)) for v in vectors]

    def __repr__(self) -> str:
        return f"CheckedEmbedder({self.wrapped!r})"


# Spine's own rules for options that have no standalone validator: the base's methods, on an
# instance that advertises everything (so only the values are checked, not capabilities).
class _CheckpointRules(CheckpointStoreBase):
    capabilities = CheckpointCapabilities(revisions=True, ttl=True, list_sessions=True, prune=True)


_CHECKPOINT_RULES = _CheckpointRules()


class _Validating:
    """What both wrappers share: the wrapped store, a lifecycle, attribute pass-through."""

    kind: Kind

    def __init__(self, store: Any) -> None:
        self.wrapped = store

    def __getattr__(self, name: str) -> Any:
        # Anything the wrapper does not define (an embedder, info(), custom methods).
        if name == "wrapped":  # not set yet (e.g. a copy being built): no recursion
            raise AttributeError(name)
        return getattr(self.wrapped, name)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {redact_text(repr(self.wrapped))}>"

    @property
    def capabilities(self) -> CheckpointCapabilities | MemoryCapabilities:
        """What the wrapped store advertises (base-only when it declares nothing)."""
        return capabilities_of(self.wrapped, self.kind)

    def _optional(self, method: str, capability: str) -> Callable[..., Any]:
        fn = getattr(self.wrapped, method, None)
        if not callable(fn):
            raise UnsupportedCapability(type(self.wrapped).__name__, capability)
        return cast(Callable[..., Any], fn)

    def _keywords(self, method: str, given: dict[str, tuple[object, str]]) -> dict[str, object]:
        """The keyword options that were given; `UnsupportedCapability` if `method` lacks one."""
        fn = getattr(self.wrapped, method)
        out: dict[str, object] = {}
        for keyword, (value, capability) in given.items():
            if value is None:
                continue
            try:
                inspect.signature(fn).bind_partial(**{keyword: value})
            except TypeError:
                raise UnsupportedCapability(type(self.wrapped).__name__, capability) from None
            except ValueError:  # no signature to read: let the store decide
                pass
            out[keyword] = value
        return out

    async def aclose(self) -> None:
        """Close the wrapped store when it can be closed (idempotent if its aclose is)."""
        aclose = getattr(self.wrapped, "aclose", None)
        if callable(aclose):
            await aclose()

    async def __aenter__(self) -> Self:
        enter = getattr(self.wrapped, "__aenter__", None)
        if callable(enter):
            await enter()
        return self

    async def __aexit__(self, *exc: object) -> None:
        leave = getattr(self.wrapped, "__aexit__", None)
        if callable(leave):
            await leave(*exc)
        else:
            await self.aclose()


class ValidatingCheckpoint(_Validating):
    """A checkpoint store not built on Spine's bases, given Spine's input checks.

    Session ids and states are checked (the core codec: JSON-safe, no NaN/Infinity/NUL) before
    the wrapped store sees them; optional operations pass through when the store has them and
    raise `UnsupportedCapability` otherwise.
    """

    kind: Kind = "checkpoint"

    async def put(
        self, state: State, *, expected_revision: int | None = None, ttl: float | None = None
    ) -> None:
        """Check `state` and the options, then store it."""
        dump_state(state)
        options = self._keywords(
            "put",
            {"expected_revision": (expected_revision, "revisions"), "ttl": (ttl, "ttl")},
        )
        _CHECKPOINT_RULES._check_put_options(expected_revision, ttl)
        await self.wrapped.put(state, **options)

    async def get(self, session_id: str) -> State | None:
        """The stored state, or None."""
        result: State | None = await self.wrapped.get(validate_session_id(session_id))
        return result

    async def delete(self, session_id: str) -> None:
        """Remove the session (no-op when missing)."""
        await self.wrapped.delete(validate_session_id(session_id))

    async def revision(self, session_id: str) -> int:
        """The session's revision (capability `revisions`)."""
        fn = self._optional("revision", "revisions")
        result: int = await fn(validate_session_id(session_id))
        return result

    async def list_sessions(
        self, *, tenant_id: str | None = None, limit: int = 100, cursor: str | None = None
    ) -> SessionPage:
        """A page of sessions (capability `list_sessions`)."""
        fn = self._optional("list_sessions", "list_sessions")
        tenant_id, limit, cursor = _CHECKPOINT_RULES._check_list_args(tenant_id, limit, cursor)
        result: SessionPage = await fn(tenant_id=tenant_id, limit=limit, cursor=cursor)
        return result

    async def prune(self, *, before: datetime) -> int:
        """Delete sessions not updated since `before` (capability `prune`)."""
        fn = self._optional("prune", "prune")
        result: int = await fn(before=validate_before(before))
        return result


class ValidatingMemory(_Validating):
    """A memory store not built on Spine's bases, given Spine's input checks.

    Content, session ids, `k`, `limit`, metadata (JSON only, passed on as a private copy) and
    filters are checked before the wrapped store sees them; optional operations pass through
    when the store has them and raise `UnsupportedCapability` otherwise.
    """

    kind: Kind = "memory"

    async def save(
        self,
        content: str,
        *,
        session_id: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> MemoryRecord:
        """Check the record, then save it."""
        content = validate_content(content)
        session_id = validate_optional_session_id(session_id)
        copy = None if metadata is None else encode_metadata(metadata)[0]
        result: MemoryRecord = await self.wrapped.save(
            content, session_id=session_id, metadata=copy
        )
        return result

    async def search(
        self,
        query: str,
        *,
        k: int = 5,
        session_id: str | None = None,
        filter: dict[str, str | int | float | bool] | None = None,
    ) -> list[MemoryHit]:
        """Check the arguments, then search."""
        k = validate_k(k)
        session_id = validate_optional_session_id(session_id)
        flt = validate_filter(filter)
        options = self._keywords("search", {"filter": (flt, "filter")})
        query = validate_content(query)
        result: list[MemoryHit] = await self.wrapped.search(
            query, k=k, session_id=session_id, **options
        )
        return result

    async def load(self, session_id: str, *, limit: int = 20) -> list[MemoryRecord]:
        """Check the arguments, then load."""
        result: list[MemoryRecord] = await self.wrapped.load(
            validate_session_id(session_id), limit=validate_limit(limit)
        )
        return result

    async def get(self, record_id: str) -> MemoryRecord | None:
        """The record with this id, or None (capability `get`)."""
        fn = self._optional("get", "get")
        result: MemoryRecord | None = await fn(validate_record_id(record_id))
        return result

    async def forget(self, record_id: str) -> bool:
        """Delete one record (capability `forget`)."""
        fn = self._optional("forget", "forget")
        result: bool = await fn(validate_record_id(record_id))
        return result

    async def prune(
        self, *, session_id: str | None = None, before: datetime | float | None = None
    ) -> int:
        """Delete a session's records and/or older ones (capability `prune`)."""
        fn = self._optional("prune", "prune")
        # Checked here, passed on as the caller gave it (the store may take only datetimes).
        session_id, _ = check_prune_args(session_id, before)
        result: int = await fn(session_id=session_id, before=before)
        return result

    async def save_many(self, items: Sequence[MemoryItem | str]) -> list[MemoryRecord]:
        """Check every item, then save them all (capability `save_many`)."""
        fn = self._optional("save_many", "save_many")
        if isinstance(items, str | bytes):
            raise InvalidInput("save_many takes a sequence of MemoryItem or str, not a single str")
        checked: list[MemoryItem | str] = []
        for item in items:
            if isinstance(item, str):
                checked.append(validate_content(item))
            elif isinstance(item, MemoryItem):
                metadata = None if item.metadata is None else encode_metadata(item.metadata)[0]
                checked.append(
                    MemoryItem(
                        content=validate_content(item.content),
                        session_id=validate_optional_session_id(item.session_id),
                        metadata=metadata,
                    )
                )
            else:
                raise InvalidInput(f"expected MemoryItem or str, got {type(item).__name__}")
        result: list[MemoryRecord] = await fn(checked)
        return result


def open_checkpoint(target: str, **options: Any) -> ManagedCheckpointStore:
    """A checkpoint store for a registered name or a URL; connects on first use.

    A store not built on Spine's bases comes inside a `ValidatingCheckpoint`.
    """
    return cast(ManagedCheckpointStore, _build("checkpoint", target, options))


def open_memory(target: str, **options: Any) -> ManagedMemory:
    """A memory store for a registered name or a URL; connects on first use.

    A store not built on Spine's bases comes inside a `ValidatingMemory`.
    """
    return cast(ManagedMemory, _build("memory", target, options))
