"""`copy`: move every session or memory from one store to another, resumably, then verify.

The source is only read (`export_sessions` / `export_records`, keyset pages); the target is
written with `restore_session` (compare-and-set: a session already there is a conflict unless
it holds the very state being copied) and `restore_records` (replace by id, so a page written
twice is written once). After each committed page a small state file records the cursor, so
`resume=True` continues after it. At the end both sides are counted (per session for memory,
per tenant for checkpoints) and a sample of items is read back from both.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import inspect
import json
import os
import random
import time
from collections import Counter, deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any, Literal, Protocol, cast, get_args

from ._capabilities import Kind, capabilities_of
from ._redact import redact_text, redact_url
from ._urls import is_url
from .errors import ConfigError, ConflictError, InvalidInput, UnsupportedCapability

__all__ = [
    "LAYOUT_ENTRY_POINT_GROUP",
    "CopyProgress",
    "CopyReport",
    "KindReport",
    "ProgressCallback",
    "copy",
    "default_state_path",
    "register_layout",
]

LAYOUT_ENTRY_POINT_GROUP = "spine.layouts"
"""Entry-point group of source readers for foreign layouts (`from_layout=`), e.g. spinekit's."""

PAGE_DELAY_ENV = "SPINE_COPY_PAGE_DELAY"
"""Seconds to sleep after each committed page: lets tests interrupt a copy mid-way."""

SAMPLE_SIZE = 25
"""Items read back from both sides at the end."""

MAX_LISTED = 100
"""Conflicting ids / mismatches kept in the report (the counts are complete)."""

MEMORY_WRITERS = 2
"""Memory pages written at once."""

RESTORE_CONCURRENCY = 8
"""Sessions written at once (each is its own compare-and-set)."""

MAX_GROUPS = 50_000
"""Groups counted while copying; beyond that, verification counts the source again."""

_STATE_VERSION = 1
_KINDS: tuple[Kind, ...] = get_args(Kind)

Phase = Literal["copy", "verify"]
Layout = Callable[[str, Kind], Any]
"""A layout reader: `(source URL, kind) -> source` with `export_sessions` / `export_records`."""

_layouts: dict[str, Layout] = {}


def register_layout(name: str, opener: Layout) -> None:
    """Make `from_layout=name` read sources with `opener(url, kind)`."""
    _layouts[name] = opener


def _layout(name: str) -> Layout:
    if name not in _layouts:
        for ep in importlib_metadata.entry_points(group=LAYOUT_ENTRY_POINT_GROUP):
            if ep.name == name:
                _layouts[name] = cast(Layout, ep.load())
    try:
        return _layouts[name]
    except KeyError:
        known = sorted(
            {
                *_layouts,
                *(e.name for e in importlib_metadata.entry_points(group=LAYOUT_ENTRY_POINT_GROUP)),
            }
        )
        raise ConfigError(
            f"unknown source layout {name!r} (known: {', '.join(known) or 'none installed'}; "
            "spinekit's comes with spine-backends)"
        ) from None


@dataclass(frozen=True)
class CopyProgress:
    """Where a copy is: items done in this phase, and the total when it is known."""

    kind: Kind
    phase: Phase
    done: int
    total: int | None = None


class ProgressCallback(Protocol):
    """Called after every page and at each phase change; may be async."""

    def __call__(self, progress: CopyProgress, /) -> Awaitable[None] | None: ...


@dataclass
class KindReport:
    """What one kind's copy did and what verification found."""

    kind: Kind
    read: int = 0
    """Items read from the source (after `tenant_id`; before `since`)."""
    copied: int = 0
    """Items written to the target (or that would be, with `dry_run`)."""
    unchanged: int = 0
    """Sessions already on the target with the same state (e.g. copied before a resume)."""
    skipped_since: int = 0
    """Items older than `since`."""
    expired: int = 0
    """Sessions whose ttl ran out before they could be written."""
    reembedded: int = 0
    """Records embedded again with the target's embedder."""
    conflicts: int = 0
    """Sessions the target already held with another state (not overwritten)."""
    conflict_ids: list[str] = field(default_factory=list)
    source_counts: dict[str, int] = field(default_factory=dict)
    """Per session (memory) or tenant (checkpoints); '' for none."""
    target_counts: dict[str, int] = field(default_factory=dict)
    sampled: int = 0
    mismatches: list[str] = field(default_factory=list)
    verified: bool | None = None
    """None when not verified (dry run, or a target that cannot list its items)."""
    seconds: float = 0.0
    resumed_from: str | None = None

    @property
    def ok(self) -> bool:
        """No conflict and no verification mismatch."""
        return self.conflicts == 0 and not self.mismatches

    @property
    def rate(self) -> float:
        """Items copied per second."""
        return self.copied / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready facts, `ok` and `rate` included."""
        data = {k: v for k, v in self.__dict__.items()}
        data.update(ok=self.ok, rate=round(self.rate, 1))
        return data


@dataclass
class CopyReport:
    """The result of `copy`: one `KindReport` per kind copied."""

    source: str
    target: str
    dry_run: bool = False
    kinds: list[KindReport] = field(default_factory=list)
    state_path: str | None = None

    @property
    def ok(self) -> bool:
        """Every kind copied without conflict and verified without mismatch."""
        return all(part.ok for part in self.kinds)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready facts."""
        return {
            "source": self.source,
            "target": self.target,
            "dry_run": self.dry_run,
            "ok": self.ok,
            "state_path": self.state_path,
            "kinds": [part.to_dict() for part in self.kinds],
        }


# -- describing endpoints without secrets ---------------------------------------------------------
def _describe(endpoint: object) -> str:
    if isinstance(endpoint, str):
        return (
            redact_url(endpoint)
            if is_url(endpoint) and "://" in endpoint
            else redact_text(endpoint)
        )
    info = getattr(endpoint, "info", None)
    if callable(info):
        with contextlib.suppress(Exception):  # a foreign store's info() cannot fail a copy
            facts = info()
            where = getattr(facts, "target", None)
            return f"{type(endpoint).__name__}({where or getattr(facts, 'name', '')})"
    return type(endpoint).__name__


def default_state_path(
    source: object,
    target: object,
    kind: Kind,
    *,
    namespace: str | None = None,
    tenant_id: str | None = None,
    base: Path | None = None,
) -> Path:
    """`.spine/copy-<hash>.json` under `base` (default: the working directory).

    The hash covers the redacted source and target, the kind, namespace and tenant, so the
    same copy finds its state again and no secret reaches the file name or the file.
    """
    key = json.dumps([_describe(source), _describe(target), kind, namespace, tenant_id])
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return (base or Path.cwd()) / ".spine" / f"copy-{digest}.json"


def _save_state(path: Path, state: dict[str, Any]) -> None:
    # Atomic: a copy killed mid-write leaves the previous state, never half a file.
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(state, sort_keys=True))
    os.replace(tmp, path)


def _load_state(path: Path, identity: dict[str, Any]) -> dict[str, Any] | None:
    try:
        state = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the copy state file {path}: {exc}") from None
    if not isinstance(state, dict) or state.get("version") != _STATE_VERSION:
        raise ConfigError(f"{path} is not a copy state file of this version")
    if state.get("identity") != identity:
        raise ConfigError(
            f"{path} records another copy ({state.get('identity')}); "
            "start afresh without resume or use another state path"
        )
    return state


# -- opening ---------------------------------------------------------------------------------------
def _kind_of(store: object) -> Kind | None:
    declared = getattr(store, "kind", None)
    if declared in _KINDS:
        return cast(Kind, declared)
    if callable(getattr(store, "export_sessions", None)):
        return "checkpoint"
    if callable(getattr(store, "export_records", None)):
        return "memory"
    return None


def _offered(target: str) -> list[Kind]:
    from ._opening import backend_name
    from .registry import list_checkpoints, list_memories

    kinds: list[Kind] = []
    for kind in _KINDS:
        try:
            name = backend_name(target, kind)
        except ConfigError:
            continue
        if name in (list_checkpoints() if kind == "checkpoint" else list_memories()):
            kinds.append(kind)
    return kinds


def _kinds(source: object, target: object, kind: Kind | None, layout: str | None) -> list[Kind]:
    if kind is not None:
        if kind not in _KINDS:
            raise InvalidInput(f"kind must be one of {', '.join(_KINDS)}, got {kind!r}")
        return [kind]

    def offered(end: object, *, layout_source: bool = False) -> set[Kind]:
        if isinstance(end, str):
            if layout_source:
                return set(_KINDS)
            return set(_offered(end))
        found = _kind_of(end)
        return set(_KINDS) if found is None else {found}

    both = offered(source, layout_source=layout is not None) & offered(target)
    kinds = [k for k in _KINDS if k in both]
    if not kinds:
        raise ConfigError(
            f"{_describe(source)} and {_describe(target)} share no kind to copy "
            "(choose the kind, and check both backends are installed)"
        )
    return kinds


async def _open(
    stack: AsyncExitStack, end: object, kind: Kind, options: dict[str, Any], layout: str | None
) -> Any:
    if not isinstance(end, str):
        return end
    if layout is not None:
        store = _layout(layout)(end, kind)
    else:
        from ._opening import open_checkpoint, open_memory

        store = (open_checkpoint if kind == "checkpoint" else open_memory)(end, **options)
    aclose = getattr(store, "aclose", None)
    if callable(aclose):
        stack.push_async_callback(aclose)
    return store


def _require_export(store: Any, kind: Kind, role: str) -> None:
    method = "export_sessions" if kind == "checkpoint" else "export_records"
    if not callable(getattr(store, method, None)):
        raise UnsupportedCapability(type(store).__name__, "export")
    caps = getattr(store, "capabilities", None)
    if caps is not None and not getattr(capabilities_of(store, kind), "export", True):
        raise UnsupportedCapability(f"{type(store).__name__} ({role})", "export")


# -- the engine ------------------------------------------------------------------------------------
class _Run:
    """One kind's copy: the pages, the state file, the progress calls."""

    def __init__(
        self,
        kind: Kind,
        source: Any,
        target: Any,
        *,
        tenant_id: str | None,
        since: datetime | None,
        dry_run: bool,
        overwrite: bool,
        reembed: bool,
        page_size: int,
        state_path: Path | None,
        identity: dict[str, Any],
        state: dict[str, Any] | None,
        progress: ProgressCallback | None,
    ) -> None:
        self.kind = kind
        self.source = source
        self.target = target
        self.tenant_id = tenant_id
        self.since = since
        self.dry_run = dry_run
        self.overwrite = overwrite
        self.reembed = reembed
        self.page_size = page_size
        self.state_path = state_path
        self.identity = identity
        self.progress = progress
        self.report = KindReport(kind=kind)
        self.cursor: str | None = None
        self.sample: list[str] = []
        self.seen = 0
        # Source items per session (memory) / tenant (checkpoints), counted as they are copied
        # so verification need not read the source again; None when there are too many groups.
        self.groups: Counter[str] | None = Counter()
        self.delay = float(os.environ.get(PAGE_DELAY_ENV, "0") or 0)
        if state is not None:
            self.cursor = state.get("cursor")
            for name, value in state.get("counts", {}).items():
                setattr(self.report, name, value)
            self.report.conflict_ids = list(state.get("conflict_ids", []))
            self.sample = list(state.get("sample", []))
            self.seen = int(state.get("seen", 0))
            groups = state.get("groups")
            self.groups = None if groups is None else Counter(groups)
            self.report.resumed_from = self.cursor

    async def _tell(self, phase: Phase, done: int, total: int | None = None) -> None:
        if self.progress is None:
            return
        result = self.progress(CopyProgress(self.kind, phase, done, total))
        if inspect.isawaitable(result):
            await result

    def _keep_sample(self, item_id: str) -> None:
        # Reservoir sampling: every copied item equally likely, in bounded memory.
        self.seen += 1
        if len(self.sample) < SAMPLE_SIZE:
            self.sample.append(item_id)
        else:
            slot = random.randrange(self.seen)  # noqa: S311 - sampling, not secrets
            if slot < SAMPLE_SIZE:
                self.sample[slot] = item_id

    def _commit(self, phase: str) -> None:
        if self.dry_run or self.state_path is None:
            return
        r = self.report
        counts = {
            name: getattr(r, name)
            for name in ("read", "copied", "unchanged", "skipped_since", "expired")
        }
        counts.update(reembedded=r.reembedded, conflicts=r.conflicts)
        _save_state(
            self.state_path,
            {
                "version": _STATE_VERSION,
                "identity": self.identity,
                "phase": phase,
                "cursor": self.cursor,
                "counts": counts,
                "conflict_ids": r.conflict_ids,
                "sample": self.sample,
                "seen": self.seen,
                "groups": None if self.groups is None else dict(self.groups),
                "updated_at": datetime.now(UTC).isoformat(),
            },
        )

    async def _pages(self) -> AsyncGenerator[list[Any], None]:
        """Source pages after the cursor; the next one is read while this one is written."""

        def fetch(after: str | None) -> Awaitable[Any]:
            if self.kind == "checkpoint":
                return cast(
                    Awaitable[Any],
                    self.source.export_sessions(
                        tenant_id=self.tenant_id, after=after, limit=self.page_size
                    ),
                )
            return cast(
                Awaitable[Any], self.source.export_records(after=after, limit=self.page_size)
            )

        pending: asyncio.Task[Any] | None = asyncio.ensure_future(fetch(self.cursor))
        try:
            while pending is not None:
                page = await pending
                pending = None
                if page.next_cursor is not None:
                    pending = asyncio.ensure_future(fetch(page.next_cursor))
                yield list(page.items)
        finally:
            if pending is not None:
                pending.cancel()

    async def copy(self) -> None:
        total = await self._count()
        await self._tell("copy", self.report.read, total)
        # Memory pages are written up to MEMORY_WRITERS at once (records are independent and
        # replaced by id); pages are accounted and their cursors committed in order, so a
        # resume starts after the last page whose predecessors were all written.
        writers = MEMORY_WRITERS if self.kind == "memory" else 1
        inflight: deque[tuple[asyncio.Future[Any], list[Any]]] = deque()
        try:
            async with contextlib.aclosing(self._pages()) as pages:
                async for items in pages:
                    if not items:
                        break
                    inflight.append((asyncio.ensure_future(self._write(items)), items))
                    if len(inflight) >= writers:
                        await self._settle(*inflight.popleft(), total)
                while inflight:
                    await self._settle(*inflight.popleft(), total)
        finally:
            for task, _ in inflight:
                task.cancel()
            await asyncio.gather(*(task for task, _ in inflight), return_exceptions=True)
        self._commit("verify")

    async def _write(self, items: list[Any]) -> Any:
        if self.kind == "checkpoint":
            await self._checkpoint_page(items)
            return None
        return await self._write_memory(items)

    async def _settle(self, task: asyncio.Future[Any], items: list[Any], total: int | None) -> None:
        outcome = await task
        if self.kind == "memory":
            self._account_memory(items, *outcome)
        self.report.read += len(items)
        self.cursor = self._id(items[-1])
        self._commit("copy")
        await self._tell("copy", self.report.read, total)
        if self.delay > 0:
            await asyncio.sleep(self.delay)

    def _id(self, item: Any) -> str:
        return str(item.session_id if self.kind == "checkpoint" else item.id)

    async def _count(self) -> int | None:
        # Only a source that counts cheaply (no full scan) gets a determinate bar.
        count = getattr(
            self.source, "count_sessions" if self.kind == "checkpoint" else "count_records", None
        )
        if not callable(count):
            return None
        try:
            result = count(tenant_id=self.tenant_id) if self.kind == "checkpoint" else count()
            return int(await result)
        except Exception:  # a count is a nicety; the copy does not depend on it
            return None

    def _recent(self, moment: datetime | float) -> bool:
        if self.since is None:
            return True
        if isinstance(moment, datetime):
            return moment >= self.since
        return moment >= self.since.timestamp()

    async def _checkpoint_page(self, items: Sequence[Any]) -> None:
        r = self.report
        chosen = [item for item in items if self._recent(item.updated_at)]
        r.skipped_since += len(items) - len(chosen)
        if self.dry_run:
            r.copied += len(chosen)
            return
        # Sessions are independent: a few writes in flight hide the round trips; a failure
        # cancels the rest and the page is not committed (a resume writes it again).
        gate = asyncio.Semaphore(RESTORE_CONCURRENCY)

        async def one(item: Any) -> str:
            async with gate:
                return await self._restore(item)

        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(item)) for item in chosen]
        for item, task in zip(chosen, tasks, strict=True):
            outcome = task.result()
            if outcome == "expired":
                r.expired += 1
                continue
            self._tally(item.tenant_id)
            if outcome == "conflict":
                r.conflicts += 1
                if len(r.conflict_ids) < MAX_LISTED:
                    r.conflict_ids.append(item.session_id)
                continue
            if outcome == "copied":
                r.copied += 1
            else:
                r.unchanged += 1
            self._keep_sample(item.session_id)

    async def _restore(self, item: Any) -> str:
        """'copied', 'unchanged' (the target holds this very state), 'conflict' or 'expired'."""
        try:
            written = await self.target.restore_session(item, overwrite=self.overwrite)
        except ConflictError:
            # The target holds it already: the same state (this copy wrote it before an
            # interruption, or a copy ran before) is no conflict; another state is.
            held = await self.target.get(item.session_id)
            return "unchanged" if held is not None and _same_session(held, item) else "conflict"
        return "copied" if written else "expired"

    async def _write_memory(self, items: Sequence[Any]) -> tuple[list[Any], bool]:
        """Write the page's records (no accounting: pages may be written out of order)."""
        chosen = [item for item in items if self._recent(item.ts)]
        reembed = self.reembed or not _same_embedder(self.source, self.target, chosen)
        if chosen and not self.dry_run:
            await self.target.restore_records(chosen, reembed=reembed)
        return chosen, reembed

    def _account_memory(self, items: Sequence[Any], chosen: list[Any], reembed: bool) -> None:
        r = self.report
        r.skipped_since += len(items) - len(chosen)
        r.copied += len(chosen)
        if self.dry_run:
            return
        if reembed:
            r.reembedded += len(chosen)
        for item in chosen:
            self._tally(item.session_id)
            self._keep_sample(item.id)

    def _tally(self, group: str | None) -> None:
        if self.groups is None:
            return
        self.groups[group or ""] += 1
        if len(self.groups) > MAX_GROUPS:
            self.groups = None

    # -- verification ----------------------------------------------------------------------------
    async def verify(self) -> None:
        r = self.report
        await self._tell("verify", 0, None)
        exports = callable(
            getattr(
                self.target,
                "export_sessions" if self.kind == "checkpoint" else "export_records",
                None,
            )
        )
        theirs = self._group_counts(self.target, filtered=False) if exports else _nothing()
        if self.groups is not None:
            r.source_counts, mine = dict(self.groups), await theirs
        else:  # too many groups to keep while copying: count the source again, alongside
            r.source_counts, mine = await asyncio.gather(
                self._group_counts(self.source, filtered=True), theirs
            )
        if exports:
            r.target_counts = {group: mine.get(group, 0) for group in r.source_counts}
            for group, expected in sorted(r.source_counts.items()):
                found = r.target_counts[group]
                if found < expected:
                    what = "session" if self.kind == "memory" else "tenant"
                    self._mismatch(
                        f"{what} {group or '(none)'}: {expected} on the source, "
                        f"{found} on the target"
                    )
        await self._round_trips()
        r.verified = not r.mismatches
        await self._tell("verify", r.sampled, r.sampled)

    def _mismatch(self, text: str) -> None:
        if len(self.report.mismatches) < MAX_LISTED:
            self.report.mismatches.append(text)

    async def _group_counts(self, store: Any, *, filtered: bool) -> dict[str, int]:
        counts: Counter[str] = Counter()
        after: str | None = None
        while True:
            if self.kind == "checkpoint":
                page = await store.export_sessions(
                    tenant_id=self.tenant_id, after=after, limit=max(self.page_size, 500)
                )
            else:
                page = await store.export_records(after=after, limit=max(self.page_size, 500))
            for item in page.items:
                if self.kind == "checkpoint":
                    if filtered and not self._recent(item.updated_at):
                        continue
                    counts[item.tenant_id or ""] += 1
                else:
                    if filtered and not self._recent(item.ts):
                        continue
                    counts[item.session_id or ""] += 1
            if page.next_cursor is None:
                return dict(counts)
            after = page.next_cursor

    async def _round_trips(self) -> None:
        r = self.report
        if self.kind == "memory" and not (_can_get(self.source) and _can_get(self.target)):
            return  # a store without `get`: the counts are all there is to compare
        for item_id in self.sample:
            mine, theirs = await self.source.get(item_id), await self.target.get(item_id)
            if mine is None:  # expired or deleted on the source since: nothing to compare
                continue
            if self.kind == "checkpoint":
                same = theirs is not None and _state_equal(mine, theirs)
            else:
                same = theirs is not None and _record_equal(mine, theirs)
            r.sampled += 1
            if not same:
                self._mismatch(f"{item_id}: differs after the copy")


def _can_get(store: Any) -> bool:
    if not callable(getattr(store, "get", None)):
        return False
    return getattr(store, "capabilities", None) is None or bool(
        getattr(capabilities_of(store, "memory"), "get", False)
    )


async def _nothing() -> dict[str, int]:
    return {}


def _state_equal(a: Any, b: Any) -> bool:
    return bool(a.model_dump(mode="json") == b.model_dump(mode="json"))


def _same_session(held: Any, item: Any) -> bool:
    return _state_equal(held, item.state)


def _record_equal(a: Any, b: Any) -> bool:
    # Timestamps are kept to the microsecond; a float's last bits may differ by backend.
    return bool(
        a.id == b.id
        and a.content == b.content
        and a.session_id == b.session_id
        and a.metadata == b.metadata
        and abs(float(a.ts) - float(b.ts)) < 2e-6
    )


def _same_embedder(source: Any, target: Any, items: Sequence[Any]) -> bool:
    """Whether the source's vectors can be kept: same embedder name and dimension, all present."""
    mine, theirs = getattr(source, "embedder_name", None), getattr(target, "embedder_name", None)
    if mine is None or theirs is None or mine != theirs:
        return False
    dimension = getattr(target, "dimension", None)
    for item in items:
        vector = getattr(item, "vector", None)
        if vector is None or (dimension is not None and len(vector) != dimension):
            return False
    return True


# -- the public function ---------------------------------------------------------------------------
async def copy(
    source: object,
    target: object,
    *,
    kind: Kind | None = None,
    namespace: str | None = None,
    tenant_id: str | None = None,
    since: datetime | None = None,
    dry_run: bool = False,
    resume: bool = False,
    overwrite: bool = False,
    reembed: bool = False,
    page_size: int = 500,
    state_path: str | os.PathLike[str] | None = None,
    progress: ProgressCallback | None = None,
    from_layout: str | None = None,
    embedder: Any = None,
) -> CopyReport:
    """Copy every session (checkpoints) and/or record (memory) from `source` to `target`.

    `source` and `target` are URLs, registered names or open stores; the source is only read.
    `kind=None` copies every kind both offer. Sessions are written with compare-and-set (a
    session the target holds with another state is a conflict, listed, unless `overwrite`);
    records keep id, session, metadata and timestamp, and their vectors when both sides use
    the same embedder (`reembed` forces embedding again). `since` keeps items updated/saved
    at or after it. Progress is recorded after each page in `state_path` (default
    `default_state_path(...)`); `resume=True` continues from it. Verification counts both
    sides and reads back a sample; `CopyReport.ok` is False on a conflict or a mismatch.
    `from_layout="spinekit"` reads a source in spinekit's tables/keys. `embedder` is given
    to the memory stores opened from URLs or names (both sides), e.g. the deployment's own.
    """
    if (
        not isinstance(page_size, int)
        or isinstance(page_size, bool)
        or not 1 <= page_size <= 10_000
    ):
        raise InvalidInput(f"page_size must be an int in 1..10000, got {page_size!r}")
    if since is not None and (not isinstance(since, datetime) or since.tzinfo is None):
        raise InvalidInput("since must be a timezone-aware datetime")
    if from_layout is not None and not isinstance(source, str):
        raise InvalidInput("from_layout reads a source given as a URL, not an open store")
    if source is target or (isinstance(source, str) and source == target):
        raise InvalidInput("source and target are the same store")
    kinds = _kinds(source, target, kind, from_layout)
    report = CopyReport(source=_describe(source), target=_describe(target), dry_run=dry_run)
    options: dict[str, Any] = {} if namespace is None else {"namespace": namespace}
    for each in kinds:
        path: Path | None = None
        if not dry_run:
            path = (
                Path(state_path)
                if state_path is not None and len(kinds) == 1
                else Path(f"{state_path}.{each}")
                if state_path is not None
                else default_state_path(
                    source, target, each, namespace=namespace, tenant_id=tenant_id
                )
            )
        identity = {
            "source": _describe(source),
            "target": _describe(target),
            "kind": each,
            "namespace": namespace,
            "tenant_id": tenant_id,
            "since": None if since is None else since.isoformat(),
            "layout": from_layout,
        }
        state = _load_state(path, identity) if resume and path is not None else None
        async with AsyncExitStack() as stack:
            opts = {**options, "embedder": embedder} if each == "memory" and embedder else options
            src = await _open(stack, source, each, opts, from_layout)
            dst = await _open(stack, target, each, opts, None)
            _require_export(src, each, "source")
            _require_export(dst, each, "target")
            if not dry_run:
                # Reach the target before reading anything: an unreachable one fails here.
                await (dst.export_sessions if each == "checkpoint" else dst.export_records)(limit=1)
            run = _Run(
                each,
                src,
                dst,
                tenant_id=tenant_id,
                since=since,
                dry_run=dry_run,
                overwrite=overwrite,
                reembed=reembed,
                page_size=page_size,
                state_path=path,
                identity=identity,
                state=state,
                progress=progress,
            )
            start = time.perf_counter()
            if state is None or state.get("phase") == "copy":
                await run.copy()
            run.report.seconds = time.perf_counter() - start
            if not dry_run:
                await run.verify()
                run._commit("done")
        report.kinds.append(run.report)
        if path is not None:
            report.state_path = str(path)
    return report
