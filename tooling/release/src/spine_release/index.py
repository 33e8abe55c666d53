"""Whether a version is already on the package index, asked through uv's default index."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable

#: ``(distribution, version) -> already published?`` -- the lookup the planner takes.
PublishedLookup = Callable[[str, str], bool]


class IndexUnavailable(RuntimeError):
    """The index could not be asked (network, configuration); nothing is known."""


def uv_executable() -> str:
    """Path of the ``uv`` binary (``$UV``, then ``PATH``)."""
    found = os.environ.get("UV") or shutil.which("uv")
    if not found:
        raise IndexUnavailable("uv is not installed (needed to ask the package index)")
    return found


def is_published(name: str, version: str) -> bool:
    """Whether ``name==version`` exists on the default index (yanked releases count).

    Asks uv to resolve exactly that pin without dependencies. uv exits 1 with
    "No solution found" when the index has no such release, and with other
    codes when it could not ask; only the former means "not published". The
    project's configuration is ignored on purpose: its ``exclude-newer`` date
    would hide a release made after it.
    """
    env = {k: v for k, v in os.environ.items() if k != "UV_EXCLUDE_NEWER"}
    with tempfile.TemporaryDirectory(prefix="spine-index-") as cwd:
        proc = subprocess.run(  # noqa: S603 -- fixed argv, no shell
            [
                uv_executable(),
                "pip",
                "compile",
                "--no-config",
                "--no-deps",
                "--no-header",
                "--quiet",
                "--refresh-package",
                name,
                "-",
            ],
            input=f"{name}=={version}\n",
            capture_output=True,
            text=True,
            cwd=cwd,
            env=env,
            check=False,
        )
    if proc.returncode == 0:
        return True
    if proc.returncode == 1 and "No solution found" in proc.stderr:
        return False
    raise IndexUnavailable(
        f"could not ask the index about {name}=={version} "
        f"(uv exited {proc.returncode}): {proc.stderr.strip()}"
    )
