"""is_published() reads uv's answer; a stand-in ``uv`` plays the index here."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from spine_release.index import IndexUnavailable, is_published

FAKE_UV = """#!/bin/sh
# Records its argv and stdin, then answers like `uv pip compile` would.
echo "$@ exclude=${{UV_EXCLUDE_NEWER:-unset}}" > "{log}"
cat >> "{log}"
case "$(tail -n 1 "{log}")" in
  demo==1.0) echo "demo==1.0"; exit 0 ;;
  demo==2.0) echo "error: No solution found when resolving dependencies" >&2; exit 1 ;;
  *) echo "error: Failed to fetch: connection refused" >&2; exit 2 ;;
esac
"""


@pytest.fixture
def fake_uv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    log = tmp_path / "argv.txt"
    script = tmp_path / "uv"
    script.write_text(FAKE_UV.format(log=log))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("UV", str(script))
    monkeypatch.setenv("UV_EXCLUDE_NEWER", "2020-01-01T00:00:00Z")
    return log


def test_published_unpublished_and_unknown(fake_uv: Path) -> None:
    assert is_published("demo", "1.0") is True
    argv = fake_uv.read_text()
    # The project's exclude-newer date must not hide a fresh release.
    assert "--no-config" in argv
    assert "--refresh-package demo" in argv
    assert "exclude=unset" in argv
    assert is_published("demo", "2.0") is False
    with pytest.raises(IndexUnavailable, match="connection refused"):
        is_published("demo", "3.0")
