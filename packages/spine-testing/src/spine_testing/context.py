"""What a check gets: the store factory under test, unique ids, and tracked stores.

Isolation rules every check follows, so the kit can run against a shared server:
- every session id comes from `CheckContext.sid` (a fresh uuid) and every text carries a
  fresh token from `CheckContext.token`;
- under the runner each check gets its own namespace (when the factory accepts one);
- a check only deletes what it created (`cleanup` deletes its own sessions), and a check
  whose operation cannot be scoped (prune by time) first proves it is isolated;
- every store a check opens is closed, even when the check fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from spine_core import (
    CheckpointCapabilities,
    ConfigError,
    HashEmbedder,
    Kind,
    MemoryCapabilities,
    State,
    capabilities_of,
)

from ._check import Check
from .expect import CheckFailed, CheckSkipped, describe

__all__ = ["CheckContext", "StoreFactory", "Target", "close_quietly", "drop_namespace"]

StoreFactory = Callable[..., Any]
"""``factory(**options)`` → a new, unopened store; equal options → the same underlying data."""

_KIT_NAMESPACE = "spk_"
"""Prefix of the namespaces `CheckContext.fresh_namespace` makes; only those are purged."""

_FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)

_SAMPLES: dict[str, Callable[[], object]] = {
    "namespace": lambda: "spk_probe",
    "default_ttl": lambda: 3600.0,
    "embedder": HashEmbedder,
}


def _signature_accepts(factory: StoreFactory, option: str) -> bool | None:
    """True/False when the signature decides it; None when it takes ``**kwargs``."""
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):
        return None
    param = sig.parameters.get(option)
    if param is not None and param.kind in (
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        inspect.Parameter.KEYWORD_ONLY,
    ):
        return True
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values()):
        return None
    return False


async def close_quietly(store: object) -> None:
    """``await store.aclose()`` when it has one; errors are the lifecycle check's business."""
    aclose = getattr(store, "aclose", None)
    if callable(aclose):
        # Closing is best effort here; the `lifecycle` check is what tests aclose.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(aclose(), timeout=30)


class Target:
    """The factory under test and what the kit has learnt about it (shared by all checks)."""

    def __init__(self, factory: StoreFactory, kind: Kind, *, namespace_per_check: bool) -> None:
        if not callable(factory):
            raise TypeError(f"store factory must be callable, got {factory!r}")
        self.factory = factory
        self.kind: Kind = kind
        self.namespace_per_check = namespace_per_check
        self._accepts: dict[str, bool] = {}
        self.shares_data: bool | None = None
        """Whether two stores from equal options see the same data (probed once, lazily)."""

    async def accepts(self, option: str) -> bool:
        """Whether ``factory(<option>=...)`` is accepted (signature, else one trial call)."""
        if option not in self._accepts:
            verdict = _signature_accepts(self.factory, option)
            if verdict is None:
                try:
                    trial = self.factory(**{option: _SAMPLES[option]()})
                except (TypeError, ConfigError):
                    verdict = False
                else:
                    verdict = True
                    await close_quietly(trial)
            self._accepts[option] = verdict
        return self._accepts[option]


class CheckContext:
    """Everything one check run needs; the same object in pytest and in the runner."""

    def __init__(self, target: Target, check: Check) -> None:
        self.target = target
        self.check = check
        self.kind: Kind = target.kind
        self.namespace: str | None = self.fresh_namespace() if target.namespace_per_check else None
        """This check's own namespace (runner), or None: the factory's own (pytest)."""
        self.notes: list[str] = []
        """Remarks shown next to a passed check (e.g. what could not be exercised)."""
        self._stores: list[Any] = []
        self._sessions: list[str] = []
        self._namespaces: dict[str, dict[str, Any]] = {}
        """Kit-made namespaces this check opened stores in, with the options of the first."""
        self._caps: CheckpointCapabilities | MemoryCapabilities | None = None

    # -- ids -----------------------------------------------------------------------------------
    def sid(self, label: str = "s") -> str:
        """A fresh session id, remembered so `cleanup` deletes that session."""
        session_id = f"kit-{label}-{uuid.uuid4().hex[:16]}"
        self._sessions.append(session_id)
        return session_id

    def track_session(self, session_id: str) -> str:
        """Remember a hand-made session id (e.g. a unicode one) for `cleanup`."""
        self._sessions.append(session_id)
        return session_id

    @staticmethod
    def token() -> str:
        """A fresh word (letters and digits) that makes texts unique to this run."""
        return f"kit{uuid.uuid4().hex[:12]}"

    @staticmethod
    def fresh_namespace() -> str:
        """A namespace name nothing else uses."""
        return f"{_KIT_NAMESPACE}{uuid.uuid4().hex[:12]}"

    def tenant(self) -> str:
        """A fresh tenant id (scopes `list_sessions` to this check's sessions)."""
        return f"kit-tenant-{uuid.uuid4().hex[:16]}"

    def note(self, message: str) -> None:
        """Add a remark to the check's result."""
        if message not in self.notes:
            self.notes.append(message)

    # -- stores --------------------------------------------------------------------------------
    async def store(self, **options: Any) -> Any:
        """A new store from the factory (this check's namespace unless given); closed later."""
        merged: dict[str, Any] = {}
        if (
            self.namespace is not None
            and "namespace" not in options
            and await self.target.accepts("namespace")
        ):
            merged["namespace"] = self.namespace
        merged.update(options)
        namespace = merged.get("namespace")
        if isinstance(namespace, str) and namespace.startswith(_KIT_NAMESPACE):
            self._namespaces.setdefault(namespace, dict(merged))
        try:
            store = self.target.factory(**merged)
        except TypeError as exc:
            raise CheckFailed(
                f"the store factory rejected options {sorted(merged)}: {describe(exc)}"
            ) from exc
        if store is None:
            raise CheckFailed("the store factory returned None")
        self._stores.append(store)
        return store

    async def load_capabilities(self) -> CheckpointCapabilities | MemoryCapabilities:
        """Read (once) the capabilities the factory's stores advertise."""
        if self._caps is None:
            self._caps = capabilities_of(await self.store(), self.kind)
        return self._caps

    @property
    def caps(self) -> CheckpointCapabilities | MemoryCapabilities:
        """The advertised capabilities (loaded before the check body runs)."""
        if self._caps is None:
            raise RuntimeError("capabilities not loaded yet")
        return self._caps

    @property
    def checkpoint_caps(self) -> CheckpointCapabilities:
        """`caps` of a checkpoint store."""
        if not isinstance(self.caps, CheckpointCapabilities):
            raise TypeError("not a checkpoint store")
        return self.caps

    @property
    def memory_caps(self) -> MemoryCapabilities:
        """`caps` of a memory store."""
        if not isinstance(self.caps, MemoryCapabilities):
            raise TypeError("not a memory store")
        return self.caps

    def advertises(self, capability: str) -> bool:
        """Whether the store advertises `capability`."""
        return bool(getattr(self.caps, capability, False))

    async def require_option(self, option: str, *, why: str) -> None:
        """Skip the check when the factory does not accept `option`."""
        if not await self.target.accepts(option):
            raise CheckSkipped(f"the store factory accepts no {option!r} option ({why})")

    async def need_option(self, option: str, *, why: str) -> None:
        """Fail the check when the factory does not accept `option` (the contract needs it)."""
        if not await self.target.accepts(option):
            raise CheckFailed(f"the store factory must accept {option}= ({why})")

    async def shares_data(self) -> bool:
        """Whether two stores from equal options see each other's writes (probed once)."""
        if self.target.shares_data is None:
            a, b = await self.store(), await self.store()
            sid = self.sid("share-probe")
            if self.kind == "checkpoint":
                await a.put(State(session_id=sid))
                try:
                    self.target.shares_data = await b.get(sid) is not None
                finally:
                    await a.delete(sid)
            else:
                await a.save(f"share probe {self.token()}", session_id=sid)
                self.target.shares_data = bool(await b.load(sid))
        return self.target.shares_data

    async def writers(self, n: int) -> list[Any]:
        """`n` stores writing to the same data: separate instances when they share data."""
        if await self.shares_data():
            return [await self.store() for _ in range(n)]
        self.note("stores from the factory do not share data; concurrency ran on one instance")
        one = await self.store()
        return [one] * n

    async def require_isolation(self, main: Any) -> None:
        """Skip unless data written outside `main`'s namespace is invisible to `main`.

        Checks that delete by time (prune) would otherwise touch data they did not create.
        """
        if await self.target.accepts("namespace"):
            other = await self.store(namespace=self.fresh_namespace())
        else:
            other = await self.store()
        sid = f"kit-isolation-probe-{uuid.uuid4().hex[:16]}"
        if self.kind == "checkpoint":
            await other.put(State(session_id=sid))
            try:
                visible = await main.get(sid) is not None
            finally:
                await other.delete(sid)
        else:
            record = await other.save(f"isolation probe {self.token()}", session_id=sid)
            try:
                visible = bool(await main.load(sid))
            finally:
                if self.advertises("prune"):
                    await other.prune(session_id=sid)
                elif self.advertises("forget"):
                    await other.forget(record.id)
        if visible:
            raise CheckSkipped(
                "cannot isolate this check: the factory accepts no 'namespace' option (or "
                "ignores it) and its stores share data, so pruning by time could delete data "
                "the kit did not create"
            )

    async def cleanup(self) -> None:
        """Delete the sessions this check created and close every store it opened."""
        try:
            if (self._sessions or self._namespaces) and self._caps is not None:
                await asyncio.wait_for(self._delete_sessions(), timeout=60)
        except Exception:  # noqa: S110 - cleanup must not mask the check's own outcome
            pass
        finally:
            for store in reversed(self._stores):
                await close_quietly(store)
            self._stores.clear()

    async def _delete_sessions(self) -> None:
        store = await self.store()
        for sid in dict.fromkeys(self._sessions):
            if self.kind == "checkpoint":
                await store.delete(sid)
            elif self.advertises("prune"):
                await store.prune(session_id=sid)
        await self._purge_namespaces()

    async def _purge_namespaces(self) -> None:
        # Records saved without a session id (and sessions a check made under its own ids)
        # live only in the kit's own namespaces: prune everything there, through the public
        # API and with the options that wrote it (a memory namespace is bound to its embedder).
        # What no public operation removes, a namespace's registration (the embedder a memory
        # namespace records), goes through the store's private `_drop_namespace` hook, which
        # only ever runs on these kit-made namespaces.
        for options in list(self._namespaces.values()):
            store = await self.store(**options)
            if self.advertises("prune"):
                await store.prune(before=_FAR_FUTURE)
            await drop_namespace(store)


async def drop_namespace(store: object) -> bool:
    """Drop `store`'s whole namespace through its `_drop_namespace` hook, if it has one.

    For namespaces the kit made (`spk_…`) only: the hook deletes every record and the
    namespace's registration, so a check run leaves no trace. False when there is no hook.
    """
    drop = getattr(store, "_drop_namespace", None)
    if not callable(drop):
        return False
    namespace = getattr(store, "namespace", None)
    if not (isinstance(namespace, str) and namespace.startswith(_KIT_NAMESPACE)):
        raise ValueError(f"refusing to drop namespace {namespace!r}: the kit did not make it")
    await drop()
    return True
