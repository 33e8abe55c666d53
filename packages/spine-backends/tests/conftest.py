"""Fixtures for the umbrella and `spine` command tests: a clean working directory, runners."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from spine_backends.cli import main
from spine_core import registry


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture(autouse=True)
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test runs in its own empty directory, never the repository's .spine/."""
    home = tmp_path / "work"
    home.mkdir()
    monkeypatch.chdir(home)
    monkeypatch.delenv("SPINE_CONFIG", raising=False)
    monkeypatch.setenv("COLUMNS", "160")  # wide enough that tables never fold a check name
    return home


@pytest.fixture
def spine(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run `spine ARGS…` in-process; returns the exit code and captured output."""

    def run(*args: str) -> Result:
        code = main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def spine_subprocess(workdir: Path) -> Callable[..., Result]:
    """Run `python -m spine_backends ARGS…` in a fresh interpreter (cwd: the test's workdir)."""

    def run(*args: str, env: dict[str, str] | None = None, code: str | None = None) -> Result:
        command = [sys.executable, "-c", code] if code else [sys.executable, "-m", "spine_backends"]
        proc = subprocess.run(
            [*command, *args],
            cwd=workdir,
            env={**os.environ, "COLUMNS": "160", **(env or {})},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    return run


@pytest.fixture
def clean_registry() -> Iterator[None]:
    """Undo registrations a test makes under the names it uses."""
    yield
    for kind in ("checkpoint", "memory"):
        for name in ("mydb", "mydb2"):
            registry.unregister(kind, name)  # type: ignore[arg-type]
