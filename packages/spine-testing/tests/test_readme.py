"""The README's list of checks is generated from the registry and must not go stale."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from spine_testing import list_checks
from spine_testing.listing import checks_markdown

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCK = re.compile(r"<!-- checks:start -->\n\n(.*?)\n\n<!-- checks:end -->", re.S)


def test_readme_lists_every_check() -> None:
    found = BLOCK.search(README.read_text(encoding="utf-8"))
    assert found, "README lacks the <!-- checks:start/end --> block"
    assert found.group(1) == checks_markdown().strip(), (
        "README's check list is stale; regenerate it with "
        "`python -m spine_testing --markdown` between the checks markers"
    )


def test_list_command() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "spine_testing", "--list", "--kind", "memory"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines = out.strip().splitlines()
    assert len(lines) == len(list_checks("memory"))
    assert lines[0].split()[:3] == ["memory", "save_returns_record", "base"]
