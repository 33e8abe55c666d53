"""Build hook: ship the backend template in the wheel, for `spine new backend`.

The canonical template is the repository's `tooling/cookiecutter-spine-backend`. Built from
the repository, the sdist carries a copy at `src/spine_backends/templates/` and the wheel at
`spine_backends/templates/`; a wheel built from that sdist (what `uv build` and pip do) picks
the copy up under `src/` like any other package file. If neither is there the build fails,
so no wheel can silently lack the template.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

TEMPLATE = "cookiecutter-spine-backend"
_CACHES = {"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"}
_REPO_ONLY = {"conftest.py"}  # keeps the repository's pytest out of the template's Jinja files


class TemplateBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Force-include the template (never its caches) under `spine_backends/templates/`."""

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Add each template file to the sdist or wheel being built."""
        if version == "editable":
            return  # an editable install reads the template from tooling/ directly
        root = Path(self.root)
        if (
            root / "src" / "spine_backends" / "templates" / TEMPLATE / "cookiecutter.json"
        ).is_file():
            return  # building from an sdist, which already carries it
        source = (root / ".." / ".." / "tooling" / TEMPLATE).resolve()
        if not (source / "cookiecutter.json").is_file():
            raise FileNotFoundError(f"the {TEMPLATE} template is not at {source}")
        prefix = "src/spine_backends" if self.target_name == "sdist" else "spine_backends"
        for path in sorted(source.rglob("*")):
            rel = path.relative_to(source)
            shipped = not _CACHES.intersection(rel.parts) and str(rel) not in _REPO_ONLY
            if path.is_file() and shipped and path.suffix != ".pyc":
                build_data["force_include"][str(path)] = f"{prefix}/templates/{TEMPLATE}/{rel}"
