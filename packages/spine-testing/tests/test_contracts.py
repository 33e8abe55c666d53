"""The pytest face: generated contract tests, the no-weakening guard, visible expected failures."""

from __future__ import annotations

import textwrap
from typing import Any, ClassVar

import pytest

from spine_core import Kind
from spine_testing import CheckpointStoreContract, MemoryContract, list_checks

pytest_plugins = ["pytester"]

N_CHECKPOINT = len(list_checks("checkpoint"))
N_MEMORY = len(list_checks("memory"))

HEADER = """
import pytest
from spine_core import InMemoryCheckpointStore, InMemoryVectorMemory, State
from spine_testing import CheckpointStoreContract, MemoryContract
from spine_testing.examples import MyCheckpoint, MyValidatedCheckpoint
"""


def _write(pytester: pytest.Pytester, body: str) -> None:
    # No asyncio_mode here: pytest-asyncio runs strict, so the kit's own marks must suffice.
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_adapter=HEADER + textwrap.dedent(body))


def test_every_check_is_a_test_method() -> None:
    pairs: list[tuple[type, Kind]] = [
        (CheckpointStoreContract, "checkpoint"),
        (MemoryContract, "memory"),
    ]
    for contract, kind in pairs:
        for check in list_checks(kind):
            method = getattr(contract, check.test_name)
            assert method.__doc__ == check.doc
            assert [m.name for m in method.pytestmark] == ["asyncio"]


def test_seed_store_subclass_passes_base_and_skips_the_rest(pytester: pytest.Pytester) -> None:
    _write(
        pytester,
        """
        class TestSeed(CheckpointStoreContract):
            @pytest.fixture
            def store_factory(self):
                return MyValidatedCheckpoint
        """,
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-rs")
    ungated = sum(1 for c in list_checks("checkpoint") if c.capability is None)
    result.assert_outcomes(passed=ungated, skipped=N_CHECKPOINT - ungated)
    result.stdout.fnmatch_lines(["*SKIPPED*not advertised: revisions*"])


def test_guide_store_lists_what_it_does_not_validate(pytester: pytest.Pytester) -> None:
    _write(
        pytester,
        """
        class TestGuide(CheckpointStoreContract):
            expected_failures = {
                "invalid_session_id_rejected": "open_checkpoint validates for this store",
                "bad_state_rejected": "open_checkpoint validates for this store",
                "unreadable_state_refused": "open_checkpoint validates for this store",
                "tenant_ids_checked": "open_checkpoint validates for this store",
            }

            @pytest.fixture
            def store_factory(self):
                return MyCheckpoint
        """,
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-rsx")
    ungated = sum(1 for c in list_checks("checkpoint") if c.capability is None)
    result.assert_outcomes(passed=ungated - 4, skipped=N_CHECKPOINT - ungated, xfailed=4)


def test_reference_memory_subclass_passes(pytester: pytest.Pytester) -> None:
    _write(
        pytester,
        """
        class TestVector(MemoryContract):
            @pytest.fixture
            def store_factory(self):
                return lambda **options: InMemoryVectorMemory(**options)
        """,
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    # persistent x4, approximate, and the failed-chunk check (it writes in one call)
    result.assert_outcomes(passed=N_MEMORY - 6, skipped=6)


def test_expected_failures_are_visible_strict_xfails(pytester: pytest.Pytester) -> None:
    _write(
        pytester,
        """
        class HandsOutItsObjects(InMemoryCheckpointStore):
            def __init__(self, **options):
                super().__init__(**options)
                self.objects = {}

            async def put(self, state, **kw):
                await super().put(state, **kw)
                self.objects[state.session_id] = state

            async def get(self, session_id):
                got = await super().get(session_id)
                return None if got is None else self.objects.get(session_id, got)

        class TestBroken(CheckpointStoreContract):
            expected_failures = {
                "get_returns_fresh_copy": "caches live objects (issue 12)",
                "put_snapshots_state": "caches live objects (issue 12)",
                "missing_is_none": "wrongly listed: this one passes",
            }

            @pytest.fixture
            def store_factory(self):
                return lambda **options: HandsOutItsObjects(**options)
        """,
    )
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "-rxX", "-k", "fresh_copy or snapshots or missing_is_none"
    )
    result.assert_outcomes(xfailed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*XPASS(strict)*expected failure: wrongly listed: this one passes*",
            "*XFAIL*test_get_returns_fresh_copy*expected failure: caches live objects (issue 12)*",
        ]
    )


def test_a_broken_store_fails_its_contract_tests(pytester: pytest.Pytester) -> None:
    _write(
        pytester,
        """
        class LoadsNewestFirst(InMemoryVectorMemory):
            async def load(self, session_id, *, limit=20):
                return list(reversed(await super().load(session_id, limit=limit)))

        class TestBroken(MemoryContract):
            @pytest.fixture
            def store_factory(self):
                return lambda **options: LoadsNewestFirst(**options)
        """,
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-k", "load_recent_chronological")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*CheckFailed: load(limit=7): expected*"])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            """
            class TestWeakened(CheckpointStoreContract):
                @pytest.fixture
                def store_factory(self):
                    return MyCheckpoint

                async def test_roundtrip_exact(self, store_factory):
                    pass
            """,
            "*TestWeakened.test_roundtrip_exact would override the contract test for check "
            "'roundtrip_exact'*expected_failures*",
        ),
        (
            """
            class TestDeleted(CheckpointStoreContract):
                test_delete_removes = None
            """,
            "*would override the contract test for check 'delete_removes'*",
        ),
        (
            """
            class Mixin:
                def test_missing_is_none(self):
                    pass

            class TestMixedIn(Mixin, CheckpointStoreContract):
                pass
            """,
            "*Mixin.test_missing_is_none would override the contract test*",
        ),
        (
            """
            class TestTypo(CheckpointStoreContract):
                expected_failures = {"test_roundtrip_exact": "typo"}
            """,
            "*names 'test_roundtrip_exact', which is not a checkpoint check "
            "(did you mean 'roundtrip_exact'?)*",
        ),
        (
            """
            class TestWrongKind(CheckpointStoreContract):
                expected_failures = {"load_recent_chronological": "memory check"}
            """,
            "*names 'load_recent_chronological', which is not a checkpoint check*",
        ),
        (
            """
            class TestNoReason(MemoryContract):
                expected_failures = {"save_returns_record": ""}
            """,
            "*expected_failures?'save_returns_record'? needs a reason*",
        ),
        (
            """
            @pytest.mark.xfail(reason="everything")
            class TestBlanket(MemoryContract):
                pass
            """,
            "*class-level xfail mark*",
        ),
        (
            """
            class TestBlanketBody(CheckpointStoreContract):
                pytestmark = [pytest.mark.xfail(reason="everything")]
            """,
            "*class-level xfail mark*",
        ),
        (
            """
            class TestSneaky(CheckpointStoreContract, kind="checkpoint"):
                test_roundtrip_exact = None
            """,
            "*kind= is reserved for the kit's own contract base classes*",
        ),
        (
            """
            class TestUnkinded(CheckpointStoreContract):
                _spine_kind = None
                test_roundtrip_exact = None
            """,
            "*TestUnkinded must not redefine _spine_kind*",
        ),
    ],
    ids=[
        "override",
        "set-to-none",
        "mixin",
        "unknown-name",
        "other-kind",
        "no-reason",
        "xfail-decorator",
        "xfail-pytestmark",
        "kind-keyword",
        "kind-attribute",
    ],
)
def test_weakening_the_contract_is_a_collection_error(
    pytester: pytest.Pytester, body: str, message: str
) -> None:
    _write(pytester, body)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*TypeError*", message])


def test_contract_tests_cannot_be_replaced_or_deleted_later() -> None:
    class TestLater(CheckpointStoreContract):
        pass

    def noop(self: Any) -> None:
        pass

    with pytest.raises(TypeError, match="cannot be replaced"):
        setattr(TestLater, "test_roundtrip_exact", noop)  # noqa: B010
    with pytest.raises(TypeError, match="cannot be deleted"):
        delattr(TestLater, "test_roundtrip_exact")
    with pytest.raises(TypeError, match="cannot be replaced"):
        setattr(CheckpointStoreContract, "test_missing_is_none", noop)  # noqa: B010
    TestLater.helper = noop  # other attributes are fine


def test_expected_failures_are_per_class() -> None:
    class TestA(CheckpointStoreContract):
        expected_failures: ClassVar[dict[str, str]] = {"roundtrip_exact": "reason A"}

    class TestB(CheckpointStoreContract):
        pass

    class TestC(TestA):
        expected_failures: ClassVar[dict[str, str]] = {}

    def marks(cls: type) -> list[str]:
        return [m.name for m in cls.test_roundtrip_exact.pytestmark]  # type: ignore[attr-defined]

    assert marks(TestA) == ["asyncio", "xfail"]
    assert marks(TestB) == ["asyncio"]
    assert marks(TestC) == ["asyncio"]
    assert marks(CheckpointStoreContract) == ["asyncio"]
