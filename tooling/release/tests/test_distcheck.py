from __future__ import annotations

import io
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from spine_release import distcheck
from spine_release.workspace import Distribution

METADATA = """\
Metadata-Version: 2.4
Name: demo-core
Version: 0.1.0
Summary: Demo.
License-Expression: Apache-2.0
Requires-Python: >=3.11
Description-Content-Type: text/markdown

# demo-core

A demo.
"""


def make_wheel(
    folder: Path,
    files: dict[str, str],
    *,
    metadata: str = METADATA,
    entry_points: str = "",
) -> Path:
    path = folder / "demo_core-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
        zf.writestr("demo_core-0.1.0.dist-info/METADATA", metadata)
        if entry_points:
            zf.writestr("demo_core-0.1.0.dist-info/entry_points.txt", entry_points)
    return path


def make_sdist(folder: Path, names: list[str]) -> Path:
    path = folder / "demo_core-0.1.0.tar.gz"
    with tarfile.open(path, "w:gz") as tf:
        for name in names:
            info = tarfile.TarInfo(f"demo_core-0.1.0/{name}")
            info.size = 0
            tf.addfile(info, io.BytesIO(b""))
    return path


GOOD_FILES = {"demo_core/__init__.py": "", "demo_core/py.typed": ""}
GOOD_EPS = (
    "[spine.plugins]\nmemory.checkpoint = demo_core.ref:Mem\n\n"
    "[console_scripts]\ndemo = demo_core.cli:main\n"
)


@pytest.fixture
def dist(make_dist: Callable[..., Distribution]) -> Distribution:
    return Distribution(
        **{
            **make_dist("demo-core").__dict__,
            "entry_points": {
                "spine.plugins": {"memory.checkpoint": "demo_core.ref:Mem"},
                "console_scripts": {"demo": "demo_core.cli:main"},
            },
        }
    )


def built(tmp_path: Path, dist: Distribution, wheel: Path) -> distcheck.Built:
    sdist = make_sdist(tmp_path, ["pyproject.toml", "PKG-INFO", "README.md"])
    return distcheck.Built(dist, wheel, sdist)


def test_a_good_wheel_passes(tmp_path: Path, dist: Distribution) -> None:
    b = built(tmp_path, dist, make_wheel(tmp_path, GOOD_FILES, entry_points=GOOD_EPS))
    assert distcheck.check_wheel(b) == []
    assert distcheck.check_sdist(b) == []
    found, missing = distcheck.find_built(tmp_path, [dist])
    assert missing == []
    assert found[0].wheel == b.wheel


def test_each_defect_is_reported(tmp_path: Path, dist: Distribution) -> None:
    files = {
        "demo_core/__init__.py": "",  # no py.typed
        "demo_core/__pycache__/x.cpython-311.pyc": "",
        "demo_core/tests/test_x.py": "",
        "tests/conftest.py": "",
    }
    headers = METADATA.split("\n\n")[0].splitlines()
    metadata = "\n".join(h for h in headers if not h.startswith(("License-", "Description-")))
    metadata += "\n"
    eps = "[spine.plugins]\nmemory.checkpoint = demo_core.other:Mem\n"
    problems = "\n".join(
        distcheck.check_wheel(
            built(tmp_path, dist, make_wheel(tmp_path, files, metadata=metadata, entry_points=eps))
        )
    )
    for expected in [
        "demo_core/py.typed is missing",
        "ships a bytecode cache: demo_core/__pycache__/x.cpython-311.pyc",
        "ships tests: demo_core/tests/test_x.py",
        "ships tests: tests/conftest.py",
        "entry point [spine.plugins] memory.checkpoint = demo_core.other:Mem, pyproject says",
        "entry point [console_scripts] demo is missing",
        "no License-Expression",
        "empty long description",
        "no Description-Content-Type",
    ]:
        assert expected in problems


def test_sdist_defects(tmp_path: Path, dist: Distribution) -> None:
    wheel = make_wheel(tmp_path, GOOD_FILES, entry_points=GOOD_EPS)
    sdist = make_sdist(tmp_path, ["setup.py", "src/demo_core/__pycache__/a.pyc"])
    problems = "\n".join(distcheck.check_sdist(distcheck.Built(dist, wheel, sdist)))
    assert "pyproject.toml is missing" in problems
    assert "no README" in problems
    assert "ships a bytecode cache" in problems


def test_missing_files_are_reported(tmp_path: Path, dist: Distribution) -> None:
    make_wheel(tmp_path, GOOD_FILES)
    found, missing = distcheck.find_built(tmp_path, [dist])
    assert found == []
    assert missing == [
        f"demo-core 0.1.0: expected one wheel and one sdist in {tmp_path}, "
        "found 1 wheel(s) and 0 sdist(s)"
    ]


def test_twine_check_strict_flags_a_missing_description(tmp_path: Path, dist: Distribution) -> None:
    pytest.importorskip("twine")
    good = make_wheel(tmp_path, GOOD_FILES, entry_points=GOOD_EPS)
    assert distcheck.twine_check([good]) == []
    headers = METADATA.split("\n\n")[0].splitlines()
    bare = "\n".join(h for h in headers if not h.startswith("Description-")) + "\n"
    bad = make_wheel(tmp_path, GOOD_FILES, metadata=bare)
    assert distcheck.twine_check([bad])
