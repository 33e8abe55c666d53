"""Refuse answers that would generate a broken or clashing backend, before any file is written.

Cookiecutter renders this file with the answers and runs it inside the new (still empty)
package folder; a non-zero exit makes it delete that folder, so a bad answer generates
nothing. `spine new backend` imports the same functions to check its arguments before it
starts, so both paths apply one set of rules.
"""

from __future__ import annotations

import json
import keyword
import re
import sys
import tomllib
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

BUILT_IN_NAMES = frozenset(
    {
        # Registry names of the built-in and first-party backends, and the URL schemes that
        # spine-core maps to them: a new backend under one of these would shadow or be shadowed.
        "memory",
        "vector",
        "sqlite",
        "redis",
        "rediss",
        "postgres",
        "postgresql",
        "pgvector",
        "qdrant",
        "qdrants",
    }
)
KINDS = ("both", "checkpoint", "memory")
# Short enough that every generated line stays within the 100-column limit.
MAX_SLUG_CHARS = 32
MAX_NAME_CHARS = 32

_SLUG = re.compile(r"[a-z][a-z0-9_]*")
_VERSION = re.compile(r"\d+\.\d+")
_OP = r"(?:~=|===|==|!=|<=|>=|<|>)\s*[A-Za-z0-9.*+!_-]+"
_DRIVER = re.compile(
    r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"  # distribution name
    r"(?:\[[A-Za-z0-9._-]+(?:\s*,\s*[A-Za-z0-9._-]+)*\])?"  # extras
    rf"(?:\s*{_OP}(?:\s*,\s*{_OP})*)?"  # version specifiers
)


def dist_name(slug: str) -> str:
    """The distribution (and folder) name of the backend `slug`: `spine-backend-<slug>`."""
    return "spine-backend-" + slug.replace("_", "-")


def slug_problem(slug: object) -> str | None:
    """Why `slug` cannot name a backend, or None."""
    if not isinstance(slug, str) or not slug:
        return "the slug must not be empty"
    shown = repr(slug)
    if len(slug) > MAX_SLUG_CHARS:
        return f"slug {shown} is longer than {MAX_SLUG_CHARS} characters"
    if slug != slug.lower():
        return f"slug {shown} must be lowercase (try {slug.lower()!r})"
    if slug[0].isdigit():
        return (
            f"slug {shown} must start with a letter: Python module names cannot start with a digit"
        )
    if not _SLUG.fullmatch(slug):
        suggestion = re.sub(r"[^a-z0-9_]+", "_", slug).strip("_")
        hint = f" (try {suggestion!r})" if _SLUG.fullmatch(suggestion) else ""
        return (
            f"slug {shown} is not a valid Python module name: use lowercase letters, digits "
            f"and '_', starting with a letter{hint}"
        )
    if keyword.iskeyword(slug):
        return f"slug {shown} is a Python keyword, so `spine_backend_{slug}` could not be imported"
    if slug in BUILT_IN_NAMES:
        return f"slug {shown} is the name of a built-in Spine backend; choose another"
    return None


def name_problem(name: object) -> str | None:
    """Why `name` cannot be the display name, or None."""
    if not isinstance(name, str) or not name.strip():
        return "the display name must not be empty"
    if len(name) > MAX_NAME_CHARS:
        return f"the display name is longer than {MAX_NAME_CHARS} characters"
    if any(c in name for c in '"\\`{}') or not name.isprintable():
        return (
            f"display name {name!r} must not contain double quotes, backslashes, backticks, "
            "braces or control characters"
        )
    return None


def author_problem(author: object) -> str | None:
    """Why `author` cannot be written into pyproject.toml as it is, or None."""
    if not isinstance(author, str) or not author.strip():
        return "the author must not be empty"
    if any(c in author for c in '"\\') or not author.isprintable():
        return (
            f"author {author!r} must not contain double quotes, backslashes or control characters"
        )
    return None


def class_prefix_problem(prefix: object) -> str | None:
    """Why `prefix` cannot start the store class names, or None."""
    if not isinstance(prefix, str) or not re.fullmatch(r"[A-Z][A-Za-z0-9]*", prefix):
        return (
            f"cannot make class names from {prefix!r}: give the backend a display name "
            "that starts with a letter"
        )
    return None


def driver_problem(driver: object) -> str | None:
    """Why `driver` is not a requirement like `acmedb-client>=2.3,<3` (empty is fine), or None."""
    if not isinstance(driver, str):
        return "the driver must be a requirement string"
    if driver.strip() and not _DRIVER.fullmatch(driver.strip()):
        return (
            f"driver {driver!r} is not a requirement such as 'acmedb-client>=2.3,<3' "
            "(a distribution name, optional [extras] and version specifiers; no markers)"
        )
    return None


def version_problem(version: object) -> str | None:
    """Why `version` is not an `X.Y` spine-core minor version, or None."""
    if not isinstance(version, str) or not _VERSION.fullmatch(version):
        return f"the minimum spine-core version must look like 0.1 (X.Y), got {version!r}"
    return None


def find_workspace(start: Path) -> Path | None:
    """The nearest folder at or above `start` whose pyproject.toml declares a uv workspace."""
    start = start.resolve()
    for folder in (start, *start.parents):
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and "workspace" in _toml(pyproject).get("tool", {}).get("uv", {}):
            return folder
    return None


def taken_problem(slug: str, output_dir: Path, own_dir: Path | None = None) -> str | None:
    """Why `slug` is already used in the target workspace or by an installed plugin, or None.

    `own_dir` is the folder being generated (cookiecutter creates it before this hook runs),
    which does not count against itself while it is empty.
    """
    folder = dist_name(slug)
    target = output_dir / folder
    if target.exists() and (own_dir is None or target.resolve() != own_dir.resolve()):
        return f"{target} already exists"
    workspace = find_workspace(output_dir)
    adapters = workspace / "adapters" if workspace is not None else None
    if adapters is not None and adapters.is_dir():
        for existing in sorted(p for p in adapters.iterdir() if p.is_dir()):
            fresh = own_dir is not None and existing.resolve() == own_dir.resolve()
            if fresh and not any(existing.iterdir()):
                continue
            if existing.name == folder:
                return f"adapters/{folder} already exists in the workspace at {workspace}"
            entry = _plugin_entry(existing / "pyproject.toml", slug)
            if entry is not None:
                return f"adapters/{existing.name} already registers the backend {entry!r}"
    for ep in metadata.entry_points(group="spine.plugins"):
        owner = ep.dist.name if ep.dist is not None else "an installed distribution"
        if ep.name.rpartition(".")[0] == slug and owner.replace("_", "-") != folder:
            return f"{owner} (installed) already registers the backend {ep.name!r}"
    return None


def problems(
    answers: Mapping[str, Any], output_dir: Path, own_dir: Path | None = None
) -> list[str]:
    """Every reason the answers cannot be generated into `output_dir` (empty: go ahead)."""
    found = [
        name_problem(answers.get("backend_name")),
        slug_problem(answers.get("backend_slug")),
        driver_problem(answers.get("driver", "")),
        author_problem(answers.get("author", "Spine contributors")),
        version_problem(answers.get("spine_core_min", "0.1")),
    ]
    if answers.get("kinds", "both") not in KINDS:
        found.append(f"kinds must be one of {', '.join(KINDS)}, got {answers.get('kinds')!r}")
    if "class_prefix" in answers:
        found.append(class_prefix_problem(answers["class_prefix"]))
    if found[1] is None:  # only a valid slug can be looked up
        found.append(taken_problem(str(answers["backend_slug"]), output_dir, own_dir))
    return [p for p in found if p is not None]


def _toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def _plugin_entry(pyproject: Path, slug: str) -> str | None:
    project = _toml(pyproject).get("project", {})
    plugins = project.get("entry-points", {}).get("spine.plugins", {})
    return next((name for name in plugins if name.rpartition(".")[0] == slug), None)


# Filled in by cookiecutter; JSON so that no answer can break out of the string.
_ANSWERS = r"""{{ {
    "backend_name": cookiecutter.backend_name,
    "backend_slug": cookiecutter.backend_slug,
    "kinds": cookiecutter.kinds,
    "driver": cookiecutter.driver,
    "author": cookiecutter.author,
    "spine_core_min": cookiecutter.spine_core_min,
    "class_prefix": cookiecutter.__class_prefix,
} | tojson }}"""


def main() -> int:
    """Check the rendered answers; print every problem and fail if there is one."""
    answers = json.loads(_ANSWERS)
    own_dir = Path.cwd()
    found = problems(answers, own_dir.parent, own_dir)
    for problem in found:
        print(f"error: {problem}", file=sys.stderr)
    if found:
        print("error: nothing was generated", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
