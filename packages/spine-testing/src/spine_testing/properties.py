"""Property-based and stateful checks any store's tests can run (needs `spine-testing[hypothesis]`).

- `run_state_properties` / `run_record_properties`: generated States, metadata and ids either
  round-trip exactly or are refused with `InvalidInput` leaving no trace (`get`, `revision`,
  `list_sessions`, `load` look the same before and after).
- `run_checkpoint_comparison` / `run_memory_comparison`: a `RuleBasedStateMachine` drives the
  store and the in-memory reference with the same random operations and fails on the first
  divergence; each returns the number of steps it ran.

A store factory is the kit's usual `factory(**options) -> store` (a fresh namespace is passed
for every example). Everything runs on one private event loop per call, so the tests calling
these are plain (sync) pytest tests.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import count
from typing import Any, TypeVar

from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    multiple,
    rule,
    run_state_machine_as_test,
)

from spine_core._embedding import HashEmbedder
from spine_core._protocols import SessionPage
from spine_core._records import MemoryItem, MemoryRecord
from spine_core._reference import InMemoryCheckpointStore, InMemoryVectorMemory
from spine_core.errors import InvalidInput, SpineError
from spine_core.messages import Message, ToolCall, image_part, text_part
from spine_core.state import RunStatus, State

from . import strategies as sp
from .context import StoreFactory
from .expect import CheckFailed

__all__ = [
    "check_record",
    "check_state",
    "run_checkpoint_comparison",
    "run_memory_comparison",
    "run_record_properties",
    "run_state_properties",
]

T = TypeVar("T")
_FAR_PAST = datetime(2000, 1, 1, tzinfo=UTC)
_LONG_TTL = 3600.0  # long enough that nothing expires while a test runs
_EMBED_DIM = 64
_ns = count()


def _settings(max_examples: int, *, shrink: bool = True, **extra: Any) -> settings:
    # Without shrinking a failure is reported as found (long, but at once): shrinking replays
    # examples hundreds of times, which on a real server takes minutes.
    # deadline off: real servers on a shared 2-core machine have noisy latencies. No example
    # database: runs must not write files into the checkout.
    return settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        report_multiple_bugs=False,
        phases=list(Phase) if shrink else [Phase.generate],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        **extra,
    )


def _namespace() -> str:
    return f"hp{next(_ns)}"


@contextmanager
def _loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    try:
        yield loop
    finally:
        loop.close()


async def _close(store: object) -> None:
    aclose = getattr(store, "aclose", None)
    if aclose is not None:
        await aclose()


def _has(store: object, capability: str) -> bool:
    return bool(getattr(getattr(store, "capabilities", None), capability, False))


async def _refused(call: Awaitable[T]) -> T | InvalidInput:
    try:
        return await call
    except InvalidInput as exc:
        return exc


# --- checkpoint round-trip --------------------------------------------------------------------


async def _all_sessions(store: Any) -> list[tuple[str, str | None, int | None]]:
    if not _has(store, "list_sessions"):
        return []
    out: list[tuple[str, str | None, int | None]] = []
    cursor: str | None = None
    while True:
        page: SessionPage = await store.list_sessions(limit=50, cursor=cursor)
        out += [(s.session_id, s.tenant_id, s.revision) for s in page.sessions]
        if page.next_cursor is None:
            return out
        cursor = page.next_cursor


async def _trace(store: Any, session_id: str) -> tuple[object, ...]:
    """What a reader can see of `session_id` and of the whole store."""
    state = await _refused(store.get(session_id))
    revision = await _refused(store.revision(session_id)) if _has(store, "revisions") else None
    seen = state.model_dump() if isinstance(state, State) else type(state).__name__
    shown = revision if isinstance(revision, int | None) else "refused"
    return seen, shown, await _all_sessions(store)


async def check_state(store: Any, state: State) -> bool:
    """Put `state`: it must read back equal, or be refused with `InvalidInput` leaving no trace.

    Returns whether it was stored (and deletes it again, so the store is left as found).
    """
    sid = state.session_id
    before = await _trace(store, sid)
    try:
        await store.put(state)
    except InvalidInput:
        after = await _trace(store, sid)
        if not (after == before):
            raise CheckFailed(f"a refused put left a trace: {before!r} -> {after!r}") from None
        return False
    got = await store.get(sid)
    if not (got == state):
        raise CheckFailed(f"state did not round-trip:\n put {state!r}\n got {got!r}")
    if not (got is not state):
        raise CheckFailed("property violated: got is not state")
    if _has(store, "revisions"):
        prior = before[1] if isinstance(before[1], int) else 0
        if not (await store.revision(sid) == prior + 1):
            raise CheckFailed("property violated: await store.revision(sid) == prior + 1")
    if _has(store, "list_sessions"):
        listed = {s[0]: s[1] for s in await _all_sessions(store)}
        if not (listed.get(sid, "missing") == state.tenant_id):
            raise CheckFailed((sid, listed))
    await store.delete(sid)
    if await store.get(sid) is not None:
        raise CheckFailed("property violated: await store.get(sid) is None")
    return True


def run_state_properties(
    factory: StoreFactory, *, max_examples: int = 30, shrink: bool = True
) -> dict[str, int]:
    """Valid States round-trip exactly; hostile ones round-trip or are refused without trace.

    Returns how many examples were stored and refused.
    """
    tally = {"stored": 0, "refused": 0}
    with _loop() as loop:
        store = factory(namespace=_namespace())
        try:

            @_settings(max_examples, shrink=shrink)
            @given(state=sp.states())
            def valid(state: State) -> None:
                stored = loop.run_until_complete(check_state(store, state))
                if not (stored):
                    raise CheckFailed(f"a valid state was refused: {state!r}")
                tally["stored"] += 1

            @_settings(max_examples, shrink=shrink)
            @given(state=sp.hostile_states())
            def hostile(state: State) -> None:
                stored = loop.run_until_complete(check_state(store, state))
                tally["stored" if stored else "refused"] += 1

            valid()
            hostile()
            for bad in ("", "\x00", "a\x00", "\ud800", "x" * 257):
                for op in ("get", "delete", "revision"):
                    if op == "revision" and not _has(store, "revisions"):
                        continue
                    result = loop.run_until_complete(_refused(getattr(store, op)(bad)))
                    if not (isinstance(result, InvalidInput)):
                        raise CheckFailed((op, bad, result))
        finally:
            loop.run_until_complete(_close(store))
    return tally


# --- memory round-trip ------------------------------------------------------------------------


def _json_equal(a: Any, b: Any) -> bool:
    """JSON equality: booleans are not numbers, 1 == 1.0 and -0.0 == 0.0 (as JSON text allows)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b or (isinstance(a, float) and isinstance(b, float) and a != a and b != b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(_json_equal, a, b))
    return type(a) is type(b) and bool(a == b)


async def _memory_trace(memory: Any, content: str, session_id: str) -> tuple[object, ...]:
    """What a reader can see: the session's records and the store-wide hits for `content`."""
    loaded = await _refused(memory.load(session_id, limit=100))
    hits = await memory.search(content, k=10)
    return (
        loaded if isinstance(loaded, list) else "refused",
        sorted(h.id for h in hits),
    )


async def check_record(
    memory: Any, content: str, session_id: str, metadata: dict[str, Any] | None
) -> bool:
    """Save one record: it must read back equal, or be refused with `InvalidInput` leaving no trace.

    Returns whether it was stored; a stored record is forgotten (or pruned) again.
    """
    before = await _memory_trace(memory, content, session_id)
    try:
        record: MemoryRecord = await memory.save(content, session_id=session_id, metadata=metadata)
    except InvalidInput:
        after = await _memory_trace(memory, content, session_id)
        if not (after == before):
            raise CheckFailed(f"a refused save left a trace: {before!r} -> {after!r}") from None
        return False
    if not (record.content == content):
        raise CheckFailed("property violated: record.content == content")
    if not (record.session_id == session_id):
        raise CheckFailed("property violated: record.session_id == session_id")
    if not (_json_equal(record.metadata, metadata or {})):
        raise CheckFailed((record.metadata, metadata))
    loaded = await memory.load(session_id, limit=100)
    if not (loaded):
        raise CheckFailed(record)
    if not (loaded[-1] == record):
        raise CheckFailed((loaded, record))
    if _has(memory, "get") and not (await memory.get(record.id) == record):
        raise CheckFailed("property violated: await memory.get(record.id) == record")
    hits = await memory.search(content, k=3, session_id=session_id)
    if record.id not in {h.id for h in hits}:
        raise CheckFailed((content, hits))
    if _has(memory, "forget"):
        if not (await memory.forget(record.id)):
            raise CheckFailed("property violated: await memory.forget(record.id)")
    elif _has(memory, "prune"):
        await memory.prune(session_id=session_id)
    return True


def run_record_properties(
    factory: StoreFactory,
    *,
    max_examples: int = 30,
    shrink: bool = True,
    exclude: Callable[[dict[str, Any]], bool] | None = None,
) -> dict[str, int]:
    """Valid content, ids and metadata round-trip; hostile ones may only be refused traceless.

    `exclude(metadata)` leaves out hostile metadata that hits a known defect (which should
    have its own strict xfail test), so the rest keeps running.
    """
    tally = {"stored": 0, "refused": 0}
    with _loop() as loop:
        memory = factory(namespace=_namespace(), embedder=HashEmbedder(_EMBED_DIM))
        try:

            @_settings(max_examples, shrink=shrink)
            @given(content=sp.memory_contents(), sid=sp.session_ids(), meta=sp.metadata())
            def valid(content: str, sid: str, meta: dict[str, Any]) -> None:
                stored = loop.run_until_complete(check_record(memory, content, sid, meta))
                if not (stored):
                    raise CheckFailed(f"a valid record was refused: {content!r} {sid!r} {meta!r}")
                tally["stored"] += 1

            @_settings(max_examples, shrink=shrink)
            @given(
                content=sp.memory_contents(),
                sid=sp.session_ids() | sp.hostile_session_ids(),
                meta=sp.metadata() | sp.hostile_metadata(),
            )
            def hostile(content: str, sid: str, meta: dict[str, Any]) -> None:
                assume(exclude is None or not exclude(meta))
                stored = loop.run_until_complete(check_record(memory, content, sid, meta))
                tally["stored" if stored else "refused"] += 1

            valid()
            hostile()
        finally:
            loop.run_until_complete(_close(memory))
    return tally


# --- stateful comparison ----------------------------------------------------------------------


def _lists(ref: object, got: object) -> tuple[list[Any], list[Any]]:
    """Both results, which must be lists (an error on either side is a divergence)."""
    if not (isinstance(ref, list)):
        raise CheckFailed(f"reference: {ref!r}, store: {got!r}")
    if not (isinstance(got, list)):
        raise CheckFailed(f"reference: {ref!r}, store: {got!r}")
    return ref, got


def _outcome(result: object) -> object:
    """A call's result for comparison: Spine errors by type, anything else as is."""
    return type(result).__name__ if isinstance(result, SpineError) else result


class _Compared(RuleBasedStateMachine):
    """Runs each operation on the reference and on the store under test, on one event loop."""

    loop: asyncio.AbstractEventLoop
    steps: int = 0
    reference: Any
    store: Any

    def both(self, call: Callable[[Any], Coroutine[Any, Any, T]]) -> tuple[object, object]:
        type(self).steps += 1
        return self._one(call, self.reference), self._one(call, self.store)

    def _one(self, call: Callable[[Any], Coroutine[Any, Any, T]], store: Any) -> object:
        try:
            return self.loop.run_until_complete(call(store))
        except SpineError as exc:
            return exc

    def teardown(self) -> None:
        for store in (self.reference, self.store):
            self.loop.run_until_complete(_close(store))


_SIDS = ("s1", "s/2", "é 3", "🦀")
_TENANTS: tuple[str | None, ...] = (None, "", "t1", "ü")
_MESSAGES = (
    Message.user("hi"),
    Message.assistant(None, [ToolCall(id="c1", name="search", arguments={"q": "ü", "n": 2})]),
    Message.tool("found 🦀", "c1", "search"),
    Message.user_parts([text_part("look"), image_part(url="https://example.invalid/a.png")]),
)


def _small_json() -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(
        st.sampled_from(("k", "ü", "")), st.integers() | st.text(max_size=4) | st.none(), max_size=3
    )


def _states(max_messages: int) -> st.SearchStrategy[State]:
    # Cheap documents: the machine hunts divergent operations, and drawing full States costs
    # ~4 ms each, more than a server round trip (large ones are `run_state_properties`' job).
    return st.builds(
        State,
        session_id=st.sampled_from(_SIDS),
        tenant_id=st.sampled_from(_TENANTS),
        messages=st.lists(st.sampled_from(_MESSAGES), max_size=max_messages),
        step=st.integers(0, 2**40),
        status=st.sampled_from(RunStatus),
        scratch=_small_json(),
    )


class CheckpointComparison(_Compared):
    """A checkpoint store against `InMemoryCheckpointStore`: same operations, same answers."""

    factory: StoreFactory

    def __init__(self) -> None:
        super().__init__()
        self.reference = InMemoryCheckpointStore()
        self.store = type(self).factory(namespace=_namespace())

    def _expect_same(self, call: Callable[[Any], Coroutine[Any, Any, Any]]) -> None:
        ref, got = self.both(call)
        if not (_outcome(ref) == _outcome(got)):
            raise CheckFailed(f"reference {ref!r}, store {got!r}")

    @rule(state=_states(2))
    def put(self, state: State) -> None:
        self._expect_same(lambda s: s.put(state))

    @rule(
        state=_states(1),
        expected=st.integers(0, 4),
    )
    def put_expected(self, state: State, expected: int) -> None:
        if _has(self.store, "revisions"):
            self._expect_same(lambda s: s.put(state, expected_revision=expected))

    @rule(state=_states(1))
    def put_ttl(self, state: State) -> None:
        if _has(self.store, "ttl"):
            self._expect_same(lambda s: s.put(state, ttl=_LONG_TTL))

    @rule(sid=st.sampled_from(_SIDS))
    def get(self, sid: str) -> None:
        self._expect_same(lambda s: s.get(sid))

    @rule(sid=st.sampled_from(_SIDS))
    def delete(self, sid: str) -> None:
        self._expect_same(lambda s: s.delete(sid))

    @rule(sid=st.sampled_from(_SIDS))
    def revision(self, sid: str) -> None:
        if _has(self.store, "revisions"):
            self._expect_same(lambda s: s.revision(sid))

    @rule(tenant=st.sampled_from(_TENANTS), limit=st.integers(1, 5))
    def list_sessions(self, tenant: str | None, limit: int) -> None:
        if not _has(self.store, "list_sessions"):
            return

        async def pages(store: Any) -> list[list[tuple[str, str | None, int | None]]]:
            out, cursor = [], None
            for _ in range(len(_SIDS) + 2):
                page = await store.list_sessions(tenant_id=tenant, limit=limit, cursor=cursor)
                out.append([(s.session_id, s.tenant_id, s.revision) for s in page.sessions])
                if (cursor := page.next_cursor) is None:
                    return out
            raise AssertionError(f"list_sessions did not end: {out!r}")

        ref, got = self.both(pages)
        ref, got = _lists(ref, got)
        where = f"list_sessions(tenant_id={tenant!r}, limit={limit})"
        # A store may leave `revision` out of its listing (None); the rest must be equal.
        if not ([[s[:2] for s in p] for p in ref] == [[s[:2] for s in p] for p in got]):
            raise CheckFailed(f"{where}: reference {ref}, store {got}")
        for r, g in zip((s for p in ref for s in p), (s for p in got for s in p), strict=True):
            if not (g[2] is None or g[2] == r[2]):
                raise CheckFailed(f"{where}: revision {r} vs {g}")

    @rule()
    def prune_far_past(self) -> None:
        if _has(self.store, "prune"):
            self._expect_same(lambda s: s.prune(before=_FAR_PAST))


_CONTENTS = (
    "the cat sat on the mat",
    "redis vector sets",
    "übergrößenträger",
    "日本語のテキスト",
    "🦀 crab emoji",
    "quantum chromodynamics lecture",
)
_MEM_SIDS = ("m1", "m 2", "é")
_item = st.tuples(st.sampled_from(_CONTENTS), st.sampled_from(_MEM_SIDS), _small_json())
_EXACT = 0.999  # an exact-text query scores ≈ 1 (vectors may be kept as float32)


class MemoryComparison(_Compared):
    """A memory store against `InMemoryVectorMemory`: same operations, same answers."""

    factory: StoreFactory
    records = Bundle("records")

    def __init__(self) -> None:
        super().__init__()
        self.reference = InMemoryVectorMemory(embedder=HashEmbedder(_EMBED_DIM))
        self.store = type(self).factory(namespace=_namespace(), embedder=HashEmbedder(_EMBED_DIM))
        self.ids: dict[str, str] = {}  # reference record id -> the store's id

    def _pair(self, ref: object, got: object) -> tuple[str, str]:
        if not (isinstance(ref, MemoryRecord)):
            raise CheckFailed(ref)
        if not (isinstance(got, MemoryRecord)):
            raise CheckFailed(got)
        if not ((got.content, got.session_id) == (ref.content, ref.session_id)):
            raise CheckFailed(
                "property violated: (got.content, got.session_id) == (ref.content, ref.session_i"
            )
        if not (_json_equal(got.metadata, ref.metadata)):
            raise CheckFailed((got.metadata, ref.metadata))
        self.ids[ref.id] = got.id
        return ref.id, got.id

    @rule(target=records, item=_item)
    def save(self, item: tuple[str, str, dict[str, Any]]) -> Any:
        content, sid, meta = item
        ref, got = self.both(lambda s: s.save(content, session_id=sid, metadata=meta))
        if isinstance(ref, SpineError):  # both must refuse it alike (e.g. a NUL in metadata)
            if not (_outcome(ref) == _outcome(got)):
                raise CheckFailed(f"reference {ref!r}, store {got!r}")
            return multiple()
        return multiple(self._pair(ref, got))

    @rule(target=records, items=st.lists(_item, min_size=1, max_size=4))
    def save_many(self, items: list[tuple[str, str, dict[str, Any]]]) -> Any:
        batch = [MemoryItem(c, s, m) for c, s, m in items]
        if not _has(self.store, "save_many"):
            return multiple()
        ref, got = self.both(lambda s: s.save_many(batch))
        if isinstance(ref, SpineError):
            if not (_outcome(ref) == _outcome(got)):
                raise CheckFailed(f"reference {ref!r}, store {got!r}")
            return multiple()
        ref, got = _lists(ref, got)
        if not (len(ref) == len(got)):
            raise CheckFailed("property violated: len(ref) == len(got)")
        return multiple(*(self._pair(r, g) for r, g in zip(ref, got, strict=True)))

    def _mapped(self, records: list[MemoryRecord]) -> list[str]:
        return [self.ids.get(r.id, f"unknown:{r.id}") for r in records]

    @rule(sid=st.sampled_from(_MEM_SIDS), limit=st.integers(1, 8))
    def load(self, sid: str, limit: int) -> None:
        ref, got = _lists(*self.both(lambda s: s.load(sid, limit=limit)))
        if not (self._mapped(ref) == [r.id for r in got]):
            raise CheckFailed(f"load({sid!r}, limit={limit})")

    @rule(pair=records)
    def get(self, pair: tuple[str, str]) -> None:
        if not _has(self.store, "get"):
            return
        type(self).steps += 1
        ref = self._one(lambda s: s.get(pair[0]), self.reference)
        got = self._one(lambda s: s.get(pair[1]), self.store)
        if ref is None or got is None:
            if not ((ref, got) == (None, None)):
                raise CheckFailed("property violated: (ref, got) == (None, None)")
        else:
            if not (self._pair(ref, got) == pair):
                raise CheckFailed("property violated: self._pair(ref, got) == pair")

    @rule(pair=records)
    def forget(self, pair: tuple[str, str]) -> None:
        if not _has(self.store, "forget"):
            return
        type(self).steps += 1
        ref = self._one(lambda s: s.forget(pair[0]), self.reference)
        got = self._one(lambda s: s.forget(pair[1]), self.store)
        if not (ref == got):
            raise CheckFailed(f"forget: reference {ref!r}, store {got!r}")

    @rule(query=st.sampled_from(_CONTENTS), sid=st.sampled_from((None, *_MEM_SIDS)))
    def search(self, query: str, sid: str | None) -> None:
        ref, got = _lists(*self.both(lambda s: s.search(query, k=20, session_id=sid)))
        for hit in got:
            if not (math.isfinite(hit.score)):
                raise CheckFailed(hit)
            if not (-1.0 - 1e-6 <= hit.score <= 1.0 + 1e-6):
                raise CheckFailed(hit)
            if not (sid is None or hit.record.session_id == sid):
                raise CheckFailed(hit)
        exact_ref = {self.ids[h.id] for h in ref if h.score >= _EXACT}
        exact_got = {h.id for h in got if h.score >= _EXACT}
        if not (exact_ref == exact_got):
            raise CheckFailed(f"search({query!r}, session_id={sid!r})")


MIN_STEPS = 1000
"""Steps a comparison runs at least: hypothesis may end an example early, so it runs more."""


def _run_machine(
    machine: type[_Compared], factory: StoreFactory, *, steps: int, examples: int, shrink: bool
) -> int:
    with _loop() as loop:
        compared: type[_Compared] = type(
            machine.__name__,
            (machine,),
            {"factory": staticmethod(factory), "loop": loop, "steps": 0},
        )
        target = min(MIN_STEPS, steps * examples)
        for _ in range(4):  # bounded: each round adds about steps x examples
            run_state_machine_as_test(
                compared, settings=_settings(examples, stateful_step_count=steps, shrink=shrink)
            )
            if compared.steps >= target:
                break
        return compared.steps


def run_checkpoint_comparison(
    factory: StoreFactory, *, steps: int = 50, examples: int = 24, shrink: bool = True
) -> int:
    """Drive `factory`'s stores and the reference with the same operations; steps run."""
    return _run_machine(
        CheckpointComparison, factory, steps=steps, examples=examples, shrink=shrink
    )


def run_memory_comparison(
    factory: StoreFactory, *, steps: int = 50, examples: int = 24, shrink: bool = True
) -> int:
    """Drive `factory`'s memory stores and the reference with the same operations; steps run."""
    return _run_machine(MemoryComparison, factory, steps=steps, examples=examples, shrink=shrink)
