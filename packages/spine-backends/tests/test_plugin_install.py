"""A plugin packaged as spinekit's plugin guide says, installed from a wheel into a clean venv.

Its `spine.plugins` entry point names a module (`mydb = "spine_backend_mydb"`) whose import
registers the backend with `register_checkpoint` / `register_memory`. `spine plugin list`
shows it before anything imports it, and `spine check`, `open_checkpoint`, `open_memory`,
`resolve_*` and `spine.toml` all find it by name. Its `spine.schemes` entry point
(`mydatabase = "mydb"`) sends `mydatabase://` URLs to it, read from metadata without importing it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
UV = shutil.which("uv")

pytestmark = pytest.mark.skipif(UV is None, reason="uv is needed to build and install packages")

PYPROJECT = """\
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "spine-backend-mydb"
version = "0.1.0"
dependencies = ["spine-core"]

[project.entry-points."spine.plugins"]
mydb = "spine_backend_mydb"

[project.entry-points."spine.schemes"]
mydatabase = "mydb"

[tool.hatch.build.targets.wheel]
packages = ["spine_backend_mydb"]
"""

MODULE = '''\
"""A backend written as the build-a-backend guide says; self-registers on import."""

import uuid

from spine_core import MemoryHit, MemoryRecord, State, cosine, register_checkpoint
from spine_core import register_memory
from spine_backends import HashEmbedder


class MyCheckpoint:
    def __init__(self, **cfg):
        self._rows = {}

    async def put(self, state: State) -> None:
        self._rows[state.session_id] = state.model_dump_json()

    async def get(self, session_id: str) -> State | None:
        raw = self._rows.get(session_id)
        return None if raw is None else State.model_validate_json(raw)

    async def delete(self, session_id: str) -> None:
        self._rows.pop(session_id, None)


class MyMemory:
    def __init__(self, *, embedder=None) -> None:
        self.embedder = embedder or HashEmbedder()
        self._rows = []

    async def save(self, content, *, session_id=None, metadata=None) -> MemoryRecord:
        record = MemoryRecord(
            id=uuid.uuid4().hex, content=content, session_id=session_id, metadata=metadata or {}
        )
        self._rows.append((record, await self.embedder.embed(content)))
        return record

    async def search(self, query, *, k=5, session_id=None) -> list[MemoryHit]:
        vector = await self.embedder.embed(query)
        hits = [
            MemoryHit(record=record, score=cosine(vector, stored))
            for record, stored in self._rows
            if session_id is None or record.session_id == session_id
        ]
        hits.sort(key=lambda hit: hit.score, reverse=True)
        return hits[:k]

    async def load(self, session_id, *, limit=20) -> list[MemoryRecord]:
        return [record for record, _ in self._rows if record.session_id == session_id][-limit:]


register_checkpoint("mydb", lambda **cfg: MyCheckpoint(**cfg))
register_memory("mydb", lambda **cfg: MyMemory(**cfg))
'''

USE = """\
import asyncio, sys
from spine_core import State, load_config, open_checkpoint, open_memory, resolve_checkpoint
from spine_core import resolve_memory

async def main():
    assert "spine_backend_mydb" not in sys.modules
    store = resolve_checkpoint("mydb")
    assert type(store).__name__ == "MyCheckpoint", store
    await store.put(State(session_id="s1", step=3))
    assert (await store.get("s1")).step == 3
    async with open_checkpoint("mydb") as opened:
        await opened.put(State(session_id="s2"))
        assert (await opened.get("s2")).session_id == "s2"
    memory = open_memory("mydb")
    await memory.save("hello", session_id="s")
    assert [r.content for r in await memory.load("s")] == ["hello"]
    assert type(resolve_memory("mydb")).__name__ == "MyMemory"
    config = load_config("spine.toml")
    assert type(getattr(config.open_checkpoint(), "wrapped", None)).__name__ == "MyCheckpoint"
    assert type(getattr(config.open_memory(), "wrapped", None)).__name__ == "MyMemory"
    print("ok")

asyncio.run(main())
"""


def _run(
    cmd: list[str], cwd: Path, *, columns: int | None = None
) -> subprocess.CompletedProcess[str]:
    # Not this process's virtualenv: every command names its interpreter explicitly.
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    if columns is not None:
        env["COLUMNS"] = str(columns)  # a table wide enough to keep each row on one line
    return subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def _ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, (
        f"{proc.args} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    )
    return proc.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean venv: the workspace's core, kit, umbrella and SQLite adapter, plus the plugin."""
    assert UV is not None
    root = tmp_path_factory.mktemp("plugin")
    project = root / "spine-backend-mydb"
    (project / "spine_backend_mydb").mkdir(parents=True)
    (project / "pyproject.toml").write_text(PYPROJECT)
    (project / "spine_backend_mydb" / "__init__.py").write_text(MODULE)
    dist = root / "dist"
    _ok(_run([UV, "build", "--wheel", "--out-dir", str(dist), str(project)], cwd=root))
    wheel = next(dist.glob("spine_backend_mydb-*.whl"))
    env = root / "venv"
    _ok(_run([UV, "venv", "--quiet", "--python", sys.executable, str(env)], cwd=root))
    python = env / "bin" / "python"
    members = ["packages/spine-core", "packages/spine-testing", "packages/spine-backends"]
    members.append("adapters/spine-backend-sqlite")
    editable = [a for m in members for a in ("-e", str(REPO / m))]
    install = [UV, "pip", "install", "--quiet", "--python", str(python)]
    _ok(_run([*install, *editable, str(wheel)], cwd=root))
    (root / "spine.toml").write_text(
        '[spine]\ndefault_model = "acme:x"\n'
        '[spine.backends]\ncheckpoint = "mydb"\nmemory = "mydb"\n'
    )
    return root


def _python(root: Path) -> str:
    return str(root / "venv" / "bin" / "python")


def test_plugin_list_shows_it_without_importing_it(installed: Path) -> None:
    spine = [_python(installed), "-m", "spine_backends"]
    out = _ok(_run([*spine, "plugin", "list", "--json"], cwd=installed))
    rows = {row["name"]: row for row in json.loads(out)}
    mydb = rows["mydb"]
    assert mydb["distribution"] == "spine-backend-mydb"
    assert mydb["version"] == "0.1.0"
    assert (mydb["kinds"], mydb["kinds_known"], mydb["status"]) == ([], False, "not loaded")
    table = _ok(_run([*spine, "plugin", "list"], cwd=installed))
    [line] = [line for line in table.splitlines() if "mydb" in line and "spine-backend" in line]
    assert "?" in line


SCHEME = """\
import sys
from spine_core import list_plugins
from spine_core._urls import backend_for_url

assert backend_for_url("mydatabase://host/db", "checkpoint") == "mydb"
assert backend_for_url("MyDatabase://host/db", "memory") == "mydb"
[row] = [p for p in list_plugins() if p.name == "mydb"]
assert row.schemes == ("mydatabase",), row
assert "spine_backend_mydb" not in sys.modules
print("ok")
"""


def test_its_url_scheme_is_read_from_metadata_without_importing_it(installed: Path) -> None:
    out = _ok(_run([_python(installed), "-c", SCHEME], cwd=installed))
    assert out.strip() == "ok"


def test_plugin_list_names_what_to_install_for_missing_first_party_backends(
    installed: Path,
) -> None:
    """The venv has the SQLite adapter only: the table's other rows say what to install."""
    spine = [_python(installed), "-m", "spine_backends", "plugin", "list"]
    rows = {row["name"]: row for row in json.loads(_ok(_run([*spine, "--json"], cwd=installed)))}
    assert rows["mydb"]["schemes"] == ["mydatabase"]
    assert rows["sqlite"]["status"] == "not loaded"
    redis = rows["redis"]
    assert (redis["status"], redis["install"]) == ("not installed", "spine-backends[redis]")
    assert (redis["kinds"], redis["schemes"]) == (["checkpoint", "memory"], ["redis", "rediss"])
    table = _ok(_run(spine, cwd=installed, columns=300))
    [line] = [line for line in table.splitlines() if line.lstrip("│ ").startswith("qdrant ")]
    assert 'not installed: pip install "spine-backends[qdrant]"' in line
    assert "qdrant+local://" in line


def test_code_and_spine_toml_find_it_by_name(installed: Path) -> None:
    out = _ok(_run([_python(installed), "-c", USE], cwd=installed))
    assert out.strip() == "ok"


def test_spine_check_reports_base_for_the_guides_stores(installed: Path) -> None:
    proc = _run(
        [_python(installed), "-m", "spine_backends", "check", "mydb", "--json"], cwd=installed
    )
    assert proc.stdout, proc.stderr
    report = json.loads(proc.stdout)
    assert sorted(report["kinds"]) == ["checkpoint", "memory"]
    # The guides' contract is level BASE: missing -> None, round trip, overwrite, delete;
    # save / search / load. The stores refuse no bad input themselves, so no higher.
    levels = {kind: facts["level"] for kind, facts in report["kinds"].items()}
    assert levels == {"checkpoint": "base", "memory": "base"}, proc.stdout[-2000:]
    required = _run(
        [_python(installed), "-m", "spine_backends", "check", "mydb", "--require", "base"],
        cwd=installed,
    )
    assert required.returncode == 0, required.stdout[-2000:] + required.stderr
