"""The pytest face of the kit: base classes an adapter subclasses with one fixture.

    class TestRedisCheckpoint(CheckpointStoreContract):
        @pytest.fixture
        def store_factory(self, redis_url, unique_prefix):
            return lambda **o: RedisCheckpoint.from_url(
                redis_url, **{"namespace": unique_prefix, **o}
            )

Each registered check becomes a ``test_<name>`` method. The contract cannot be weakened
silently: defining, overriding, assigning or deleting a contract test (in the class body, a
mixin, or later) raises `TypeError`, and so does a class-level ``xfail`` mark. A store that
cannot meet a check lists it in ``expected_failures = {"<check>": "<reason>"}``: the test then
runs as a strict xfail showing the reason, and fails again once the store meets it. A reason
wrapped in ``Intermittent(...)`` marks a failure outside the store that only some runs show.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from typing import Any, ClassVar

import pytest

from spine_core import Kind

from .context import StoreFactory, Target
from .execution import execute
from .expect import CheckSkipped
from .registry import Check, list_checks

__all__ = ["CheckpointStoreContract", "MemoryContract"]

_MARKER = "__spine_check__"
_TestFn = Callable[[Any, StoreFactory, pytest.FixtureRequest], Coroutine[Any, Any, None]]


def _contract_names(cls: type) -> dict[str, Check]:
    kind: Kind | None = getattr(cls, "_spine_kind", None)
    return {} if kind is None else {c.test_name: c for c in list_checks(kind)}


class _ContractMeta(type):
    """Refuses assigning or deleting a contract test after the class exists."""

    def __setattr__(cls, name: str, value: object) -> None:
        if name == "pytestmark":  # how @pytest.mark.xfail marks a class after creation
            _refuse_class_xfail(cls, value)
        if name in _contract_names(cls):
            raise TypeError(
                f"{cls.__qualname__}.{name} is a contract test and cannot be replaced; "
                f"list the check in expected_failures instead"
            )
        super().__setattr__(name, value)

    def __delattr__(cls, name: str) -> None:
        if name in _contract_names(cls):
            raise TypeError(f"{cls.__qualname__}.{name} is a contract test and cannot be deleted")
        super().__delattr__(name)


def _make_test(check: Check, owner: type, reason: str | None) -> _TestFn:
    async def test(self: Any, store_factory: StoreFactory, request: pytest.FixtureRequest) -> None:
        target = Target(store_factory, check.kind, namespace_per_check=False)
        try:
            notes = await execute(check, target, check_timeout=type(self).check_timeout)
        except CheckSkipped as exc:
            pytest.skip(str(exc))
        for note in notes:
            request.node.user_properties.append(("spine_note", note))

    test.__name__ = check.test_name
    test.__qualname__ = f"{owner.__qualname__}.{check.test_name}"
    test.__module__ = owner.__module__
    test.__doc__ = check.doc
    setattr(test, _MARKER, check.name)
    marked: _TestFn = pytest.mark.asyncio(test)
    if isinstance(reason, Intermittent):
        # Visible either way; an intermittent cause (a driver race) may pass on a given run.
        marked = pytest.mark.xfail(reason=f"intermittent failure: {reason}", strict=False)(marked)
    elif reason is not None:
        marked = pytest.mark.xfail(reason=f"expected failure: {reason}", strict=True)(marked)
    return marked


class Intermittent(str):
    """An `expected_failures` reason for a failure that happens only on some runs.

    The test still runs and its outcome is reported (XFAIL or XPASS with the reason), but a
    pass does not fail the run. Use it for causes outside the store, such as a driver race;
    a plain reason stays a strict expected failure.
    """

    __slots__ = ()


def _check_expected_failures(cls: type, checks: Mapping[str, Check], kind: Kind) -> dict[str, str]:
    raw = getattr(cls, "expected_failures", {})
    if not isinstance(raw, Mapping):
        raise TypeError(
            f"{cls.__qualname__}.expected_failures must be a dict of check name to reason, "
            f"got {type(raw).__name__}"
        )
    names = {c.name for c in checks.values()}
    out: dict[str, str] = {}
    for name, reason in raw.items():
        if name not in names:
            hint = f" (did you mean {name[5:]!r}?)" if str(name).startswith("test_") else ""
            raise TypeError(
                f"{cls.__qualname__}.expected_failures names {name!r}, which is not a {kind} "
                f"check{hint}; run `python -m spine_testing --list` for the names"
            )
        if not isinstance(reason, str) or not reason.strip():
            raise TypeError(
                f"{cls.__qualname__}.expected_failures[{name!r}] needs a reason (a non-empty str)"
            )
        out[name] = reason
    return out


def _refuse_overrides(cls: type, checks: Mapping[str, Check]) -> None:
    for test_name, check in checks.items():
        for klass in cls.__mro__:
            value = klass.__dict__.get(test_name, _MISSING)
            if value is not _MISSING and getattr(value, _MARKER, None) != check.name:
                raise TypeError(
                    f"{cls.__qualname__}: {klass.__qualname__}.{test_name} would override the "
                    f"contract test for check {check.name!r}. Contract tests cannot be "
                    "overridden, deleted or weakened; if the store cannot meet the check, list "
                    f"it as expected_failures = {{{check.name!r}: '<reason>'}}"
                )
    _refuse_class_xfail(cls, getattr(cls, "pytestmark", []))


def _refuse_class_xfail(cls: type, marks: object) -> None:
    for mark in marks if isinstance(marks, list | tuple) else [marks]:
        if getattr(mark, "name", None) == "xfail" and _contract_names(cls):
            raise TypeError(
                f"{cls.__qualname__} carries a class-level xfail mark, which would weaken every "
                "contract test; list the checks in expected_failures with a reason instead"
            )


_MISSING = object()


class _Contract(metaclass=_ContractMeta):
    _spine_kind: ClassVar[Kind | None] = None
    expected_failures: ClassVar[Mapping[str, str]] = {}
    """Check name → why this store cannot meet it (shown as a strict xfail)."""
    check_timeout: ClassVar[float] = 120.0
    """Seconds one check may take before it fails."""

    def __init_subclass__(cls, kind: Kind | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if kind is not None:  # one of the kit's own base classes
            if cls.__bases__ != (_Contract,):
                raise TypeError("kind= is reserved for the kit's own contract base classes")
            type.__setattr__(cls, "_spine_kind", kind)
        elif "_spine_kind" in cls.__dict__:
            raise TypeError(f"{cls.__qualname__} must not redefine _spine_kind")
        checks = _contract_names(cls)
        if not checks:
            return
        if kind is None:
            _refuse_overrides(cls, checks)
        reasons = _check_expected_failures(cls, checks, cls._spine_kind or "checkpoint")
        for test_name, check in checks.items():
            type.__setattr__(cls, test_name, _make_test(check, cls, reasons.get(check.name)))


class CheckpointStoreContract(_Contract, kind="checkpoint"):
    """Every checkpoint check as a test; subclass it and define a ``store_factory`` fixture.

    ``store_factory(**options)`` returns a new, unopened store; equal options give the same
    underlying data. The kit may pass ``namespace=`` and ``default_ttl=``; put your fixed
    options first so these override them: ``{"namespace": unique_prefix, **options}``.
    """


class MemoryContract(_Contract, kind="memory"):
    """Every memory check as a test; subclass it and define a ``store_factory`` fixture.

    ``store_factory(**options)`` returns a new, unopened store; equal options give the same
    underlying data. The kit may pass ``namespace=`` and ``embedder=``; put your fixed options
    first so these override them: ``{"namespace": unique_prefix, **options}``.
    """
