"""No logic repeated between adapters (tooling/dupcheck.py); the checker finds a planted copy."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dupcheck", ROOT / "tooling" / "dupcheck.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["dupcheck"] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


dupcheck = _load()


def test_no_logic_repeated_between_adapters() -> None:
    bad, _, stale = dupcheck.check(ROOT)
    assert not bad, (
        "logic repeated between adapters (move it into spine_core or allowlist it):\n"
        + ("\n".join(f"{r.length} lines {r.where()} [{r.fingerprint}]" for r in bad))
    )
    assert not stale, f"allowlist entries that match nothing any more (delete them): {stale}"


def test_allowlist_is_well_formed() -> None:
    allow = dupcheck.load_allowlist()
    assert allow.min_lines >= 2
    assert allow.min_tokens >= 10
    assert all(reason.strip() for reason in allow.allowed.values())


STORE_A = '''
"""Store A."""
from typing import ClassVar

__all__ = ["StoreA"]


class StoreA:
    """A store."""

    backend: ClassVar[str] = "a"
    namespace: str = "spine"
    timeout: float = 5.0

    def __init__(self, url: str, *, namespace: str = "spine", timeout: float = 5.0) -> None:
        self.url = url

    async def put(self, state: object, *, expected_revision: int | None = None) -> None:
        """Store it."""
        ttl = self._check_put_options(expected_revision, None)
        raw = dump_state(state)
        await self._ensure_ready()
        for attempt in range(8):
            if await self._write(state.session_id, raw, ttl, attempt):
                return
        raise ConflictError(state.session_id, expected_revision, attempt)
'''

STORE_B = '''
"""Store B: the same declarations and signatures, and (planted) the same logic renamed."""
from typing import ClassVar

__all__ = ["StoreB"]


class StoreB:
    """Another store."""

    backend: ClassVar[str] = "b"
    namespace: str = "spine"
    timeout: float = 5.0

    def __init__(self, url: str, *, namespace: str = "spine", timeout: float = 5.0) -> None:
        self.url = url

    async def put(self, state: object, *, expected_revision: int | None = None) -> None:
        """Store it too."""
        life = self._check_put_options(expected_revision, None)
        text = dump_state(state)
        await self._ensure_ready()
        for n in range(3):
            if await self._write(state.session_id, text, life, n):
                return
        raise ConflictError(state.session_id, expected_revision, n)
'''


def _tree(root: Path, a: str, b: str) -> Path:
    for name, text in (("a", a), ("b", b)):
        src = root / "adapters" / f"spine-backend-{name}" / "src" / f"spine_backend_{name}"
        src.mkdir(parents=True)
        (src / "__init__.py").write_text("")
        (src / "store.py").write_text(text)
    return root


def test_catches_a_planted_duplicate(tmp_path: Path) -> None:
    root = _tree(tmp_path, STORE_A, STORE_B)
    runs = dupcheck.find_runs(dupcheck.adapter_files(root), root, 3)
    assert [(r.a, r.a_lines, r.b, r.b_lines, r.length) for r in runs] == [
        (
            "adapters/spine-backend-a/src/spine_backend_a/store.py",
            (20, 26),
            "adapters/spine-backend-b/src/spine_backend_b/store.py",
            (20, 26),
            7,
        )
    ]
    # Allowlisted by fingerprint it passes; the unused entry is reported as stale.
    allow = dupcheck.Allowlist(3, 20, {runs[0].fingerprint: "planted", "0" * 16: "gone"})
    bad, ok, stale = dupcheck.check(root, allow)
    assert (bad, len(ok), stale) == ([], 1, ["0" * 16])
    assert dupcheck.main(["--root", str(root)]) == 1


def test_declarations_and_signatures_are_not_logic(tmp_path: Path) -> None:
    logic_free = STORE_B.split("        life =")[0] + "        return None\n"
    root = _tree(tmp_path, STORE_A, logic_free)
    assert dupcheck.find_runs(dupcheck.adapter_files(root), root, 2) == []


def test_a_copy_inside_one_adapter_is_not_reported(tmp_path: Path) -> None:
    root = _tree(tmp_path, STORE_A, "")
    extra = root / "adapters" / "spine-backend-a" / "src" / "spine_backend_a" / "copy.py"
    extra.write_text(STORE_A)
    assert dupcheck.find_runs(dupcheck.adapter_files(root), root, 3) == []


def test_an_allowlist_entry_needs_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "allow.toml"
    path.write_text('min_lines = 3\n[[allow]]\nfingerprint = "ab"\nreason = "TODO"\n')
    with pytest.raises(ValueError, match="needs a reason"):
        dupcheck.load_allowlist(path)
