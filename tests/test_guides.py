"""spinekit's two authoring guides work on Spine as written (issue 10).

Every Python block of `build-a-backend.md` and `plugin-authoring.md` is extracted and either
run (the storage plane's examples) or listed below as out of scope with the reason. The guides
are read from `../shared/seeds/` beside the repository when it is there, else from the copy in
`docs/spinekit-guides/`. Then the guide's stores, implemented the way the guide instructs, go
through the conformance kit: they reach BASE, and through `open_*` the levels above.
"""

from __future__ import annotations

import inspect
import re
import tomllib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from spine_core import (
    CheckpointStore,
    Embedder,
    HashEmbedder,
    Memory,
    MemoryHit,
    MemoryRecord,
    cosine,
    open_checkpoint,
    open_memory,
)
from spine_core._opening import ValidatingCheckpoint, ValidatingMemory, unwrap
from spine_core.registry import unregister
from spine_testing import run_conformance
from spine_testing.examples import MyCheckpoint as GuideCheckpoint

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "seeds"
COPY = ROOT / "docs" / "spinekit-guides"
GUIDES = ("build-a-backend.md", "plugin-authoring.md")
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)


def _guide(name: str) -> str:
    source = SHARED / name if (SHARED / name).is_file() else COPY / name
    return source.read_text(encoding="utf-8")


def _blocks(name: str, language: str = "python") -> list[str]:
    return [code for lang, code in BLOCK.findall(_guide(name)) if lang == language]


@dataclass(frozen=True)
class Example:
    guide: str
    marker: str
    """A line that identifies the block."""
    section: str = ""
    """Blocks of one section of a page run in order in one namespace, as a reader's file."""
    out_of_scope: str | None = None
    """Why Spine does not run it (None: Spine runs it as written)."""


EXAMPLES = (
    Example("build-a-backend.md", "class MyCheckpoint:", "checkpoint"),
    Example(
        "build-a-backend.md",
        'register_checkpoint("mydb", lambda **cfg: MyCheckpoint(**cfg))',
        "checkpoint",
    ),
    Example("build-a-backend.md", "class MyMemory:\n    async def save", "memory"),
    Example("build-a-backend.md", "self.embedder = embedder or HashEmbedder()", "embedders"),
    Example(
        "plugin-authoring.md",
        "register_provider",
        out_of_scope="a provider plugin (register_provider, ModelResponse, Agent): the agent "
        "runtime's plane, not Spine's storage plane (shared/seeds/README.md)",
    ),
    Example(
        "plugin-authoring.md",
        "register_middleware",
        out_of_scope="a middleware plugin (register_middleware, StepContext): the agent "
        "runtime's plane, not Spine's storage plane (shared/seeds/README.md)",
    ),
)


def _example(guide: str, code: str) -> Example:
    found = [e for e in EXAMPLES if e.guide == guide and e.marker in code]
    assert len(found) == 1, f"{guide}: a block matches {len(found)} listed examples:\n{code}"
    return found[0]


@pytest.fixture
def clean_guide_names() -> Iterator[None]:
    """The guides register "mydb" and "mymem"; leave the registry as it was."""
    for kind, name in (("checkpoint", "mydb"), ("memory", "mymem")):
        unregister(kind, name)  # type: ignore[arg-type]
    yield
    for kind, name in (("checkpoint", "mydb"), ("memory", "mymem")):
        unregister(kind, name)  # type: ignore[arg-type]


def test_guides_are_readable_and_the_copy_is_current() -> None:
    for name in GUIDES:
        assert (COPY / name).is_file(), f"docs/spinekit-guides/{name} is missing"
        if (SHARED / name).is_file():
            copy = (COPY / name).read_text(encoding="utf-8")
            assert copy == (SHARED / name).read_text(encoding="utf-8"), f"{name} copy is stale"


def test_every_python_block_is_listed() -> None:
    seen: set[Example] = set()
    for guide in GUIDES:
        for code in _blocks(guide):
            seen.add(_example(guide, code))
    assert seen == set(EXAMPLES), "a listed example is no longer in the guides"


async def test_build_a_backend_blocks_run_as_written(clean_guide_names: None) -> None:
    sections: dict[str, dict[str, Any]] = {}
    for code in _blocks("build-a-backend.md"):
        example = _example("build-a-backend.md", code)
        assert example.out_of_scope is None
        namespace = sections.setdefault(example.section, {"__name__": f"guide_{example.section}"})
        exec(compile(code, "build-a-backend.md", "exec"), namespace)

    # "A checkpoint store": three async methods, then registered so config can name it.
    checkpoint_cls = sections["checkpoint"]["MyCheckpoint"]
    for method in ("put", "get", "delete"):
        assert inspect.iscoroutinefunction(getattr(checkpoint_cls, method))
    assert isinstance(checkpoint_cls(), CheckpointStore)
    opened = open_checkpoint("mydb")
    assert isinstance(opened, ValidatingCheckpoint)  # not built on Spine's bases
    assert isinstance(unwrap(opened), checkpoint_cls)
    assert await opened.get("some-session") is None  # the stub's `...` body returns None
    async with opened:  # open_* gives it a lifecycle
        await opened.delete("some-session")

    # "A memory backend": the Memory protocol, registered as "mymem".
    memory_cls = sections["memory"]["MyMemory"]
    assert isinstance(memory_cls(), Memory)
    memory = open_memory("mymem")
    assert isinstance(memory, ValidatingMemory)
    assert isinstance(unwrap(memory), memory_cls)
    assert await memory.load("some-session") is None  # the stub's `...` body

    # "Pluggable embedders": HashEmbedder by default, any Embedder when given.
    with_embedder = sections["embedders"]["MyMemory"]
    assert isinstance(with_embedder().embedder, HashEmbedder)
    mine = HashEmbedder()
    assert with_embedder(embedder=mine).embedder is mine
    assert isinstance(mine, Embedder)


def test_plugin_authoring_toml_block_is_the_entry_point_group_spine_reads() -> None:
    [toml] = _blocks("plugin-authoring.md", "toml")
    table = tomllib.loads(toml)["project"]["entry-points"]["spine.plugins"]
    # The module:attr value form: Spine's discovery reads it (registry tests cover loading).
    assert all(re.fullmatch(r"[\w.]+(:[\w.]+)?", value) for value in table.values())


# -- the guide's stores, implemented the way the guide instructs ------------------------------
# GuideCheckpoint is spine_testing.examples.MyCheckpoint: a dict, model_dump_json /
# model_validate_json. Both classes are checked against the guide's own signatures.


class GuideMemory:
    """build-a-backend.md's MyMemory: any Embedder (HashEmbedder by default), cosine scores."""

    def __init__(self, *, embedder: Embedder | None = None) -> None:
        self.embedder = embedder or HashEmbedder()
        self._rows: dict[str, tuple[MemoryRecord, list[float]]] = {}

    async def save(self, content, *, session_id=None, metadata=None) -> MemoryRecord:  # type: ignore[no-untyped-def]
        record = MemoryRecord(
            id=uuid.uuid4().hex, content=content, session_id=session_id, metadata=metadata or {}
        )
        self._rows[record.id] = (record, await self.embedder.embed(content))
        return record

    async def search(self, query, *, k=5, session_id=None) -> list[MemoryHit]:  # type: ignore[no-untyped-def]
        vector = await self.embedder.embed(query)
        hits = [
            MemoryHit(record=record, score=cosine(vector, stored))
            for record, stored in self._rows.values()
            if session_id is None or record.session_id == session_id
        ]
        hits.sort(key=lambda hit: hit.score, reverse=True)
        return hits[:k]

    async def load(self, session_id, *, limit=20) -> list[MemoryRecord]:  # type: ignore[no-untyped-def]
        mine = [record for record, _ in self._rows.values() if record.session_id == session_id]
        return mine[-limit:]


def _stub_signatures(name: str) -> dict[str, inspect.Signature]:
    # The signatures as the guide writes them (the last definition of the class wins).
    namespace: dict[str, Any] = {}
    for code in _blocks("build-a-backend.md"):
        if f"class {name}:" in code and "async def" in code:
            exec(compile(code, "build-a-backend.md", "exec"), namespace)
    cls = namespace[name]
    return {m: inspect.signature(getattr(cls, m)) for m in vars(cls) if not m.startswith("_")}


def _same_parameters(ours: type, guide: str) -> None:
    for method, signature in _stub_signatures(guide).items():
        mine = inspect.signature(getattr(ours, method))
        assert [(p.name, p.kind, p.default) for p in mine.parameters.values()] == [
            (p.name, p.kind, p.default) for p in signature.parameters.values()
        ], f"{ours.__name__}.{method} differs from the guide's {guide}.{method}"


async def test_the_guides_checkpoint_reaches_base(clean_guide_names: None) -> None:
    _same_parameters(GuideCheckpoint, "MyCheckpoint")
    report = await run_conformance(lambda **cfg: GuideCheckpoint(**cfg))
    assert report.level == "base", report.render()
    # Not higher: it does not refuse bad input itself (that is what open_checkpoint adds).
    assert report.groups("checkpoint")["validation"] == "failed"
    assert {r.group for r in report.failures} == {"validation"}


async def test_the_guides_checkpoint_through_open_checkpoint_is_validated(
    clean_guide_names: None,
) -> None:
    from spine_core import register_checkpoint

    register_checkpoint("mydb", lambda **cfg: GuideCheckpoint(**cfg))
    report = await run_conformance(lambda: open_checkpoint("mydb"))
    assert report.failures == (), report.render()
    assert report.level == "standard"
    assert report.remarks["checkpoint"][0].startswith(
        "tested inside open_checkpoint's validating wrapper"
    )


async def test_the_guides_memory_reaches_base(clean_guide_names: None) -> None:
    # Needs MemoryRecord without ts and the one-text Embedder (decisions 2 and 3).
    _same_parameters(GuideMemory, "MyMemory")
    report = await run_conformance(lambda **cfg: GuideMemory(**cfg))
    assert report.meets("base"), report.render()
    assert report.level == "base"
    assert report.groups("memory")["validation"] == "failed"


async def test_the_guides_memory_through_open_memory_is_validated(
    clean_guide_names: None,
) -> None:
    from spine_core import register_memory

    register_memory("mymem", lambda **cfg: GuideMemory(**cfg))
    report = await run_conformance(lambda **cfg: open_memory("mymem", **cfg))
    assert report.meets("validated"), report.render()
    assert report.groups("memory")["validation"] == "passed"
