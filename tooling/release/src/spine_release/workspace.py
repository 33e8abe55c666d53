"""The workspace's distributions, read from their pyproject files."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

#: Folders (relative to the workspace root) whose children are published distributions.
MEMBER_GLOBS: tuple[str, ...] = ("packages", "adapters")

#: Service containers a distribution's tests may need, by the name used in
#: ``[tool.spine.release] services``.
KNOWN_SERVICES: tuple[str, ...] = ("redis", "postgres", "qdrant")


class WorkspaceError(Exception):
    """The workspace is not laid out the way the release machinery expects."""


@dataclass(frozen=True)
class Distribution:
    """One published distribution of the workspace."""

    name: str
    version: str
    path: Path
    """Folder of the distribution, relative to the workspace root (POSIX form)."""
    kind: str
    """``"package"`` or ``"adapter"``: the member folder it lives in, singular."""
    requires: frozenset[str] = frozenset()
    """Workspace distributions it depends on at run time, without extras."""
    dev_requires: frozenset[str] = frozenset()
    """Workspace distributions its dependency groups pull in (tests, tooling)."""
    extras: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Extra name -> workspace distributions that extra installs (transitively)."""
    entry_points: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Entry-point group -> name -> object reference, scripts as ``console_scripts``."""
    services: tuple[str, ...] = ()
    """Service containers its tests need (see :data:`KNOWN_SERVICES`)."""

    @property
    def all_requires(self) -> frozenset[str]:
        """Workspace distributions it may depend on at run time, any extra included."""
        return self.requires.union(*self.extras.values())

    @property
    def workflow_file(self) -> str:
        """File name of its publish workflow under ``.github/workflows``."""
        return f"publish-{self.name}.yml"

    @property
    def tag_prefix(self) -> str:
        """Prefix of the tags that release this distribution alone."""
        return f"{self.name}-v"


def find_root(start: Path | None = None) -> Path:
    """Return the workspace root: the nearest folder whose pyproject declares a uv workspace."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file():
            data = _load_toml(pyproject)
            if "workspace" in data.get("tool", {}).get("uv", {}):
                return candidate
    raise WorkspaceError(f"no uv workspace root above {here}")


def member_dirs(root: Path) -> list[Path]:
    """Folders under the member globs, whether or not they have a pyproject yet."""
    found: list[Path] = []
    for glob in MEMBER_GLOBS:
        base = root / glob
        if base.is_dir():
            found.extend(
                sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith("."))
            )
    return found


def incomplete_members(root: Path) -> list[str]:
    """Member folders that cannot be read as a distribution yet, with the reason."""
    problems: list[str] = []
    for folder in member_dirs(root):
        rel = folder.relative_to(root).as_posix()
        pyproject = folder / "pyproject.toml"
        if not pyproject.is_file():
            problems.append(f"{rel} has no pyproject.toml yet")
            continue
        project = _load_toml(pyproject).get("project", {})
        if not project.get("name") or not project.get("version"):
            problems.append(f"{rel}/pyproject.toml has no [project] name and version")
    return problems


def discover(root: Path) -> list[Distribution]:
    """Read every member's pyproject and return its distributions, sorted by name.

    Members without a pyproject are skipped (they are being written); see
    :func:`incomplete_members` for them.
    """
    raw: dict[str, tuple[Path, dict[str, Any]]] = {}
    for folder in member_dirs(root):
        pyproject = folder / "pyproject.toml"
        if not pyproject.is_file():
            continue
        data = _load_toml(pyproject)
        project = data.get("project", {})
        name = project.get("name")
        if not name or not project.get("version"):
            continue
        key = canonicalize_name(name)
        if key in raw:
            raise WorkspaceError(f"{name} is declared twice ({raw[key][0]} and {folder})")
        raw[key] = (folder, data)

    names = set(raw)
    dists = [_distribution(root, folder, data, names) for folder, data in raw.values()]
    return sorted(dists, key=lambda d: d.name)


def by_name(dists: Iterable[Distribution]) -> dict[str, Distribution]:
    """Index distributions by canonical name."""
    return {d.name: d for d in dists}


def dependants(dists: Iterable[Distribution], names: Iterable[str]) -> set[str]:
    """``names`` plus every distribution that depends on one of them, transitively.

    Run-time dependencies, extras and dependency groups all count: a change to
    the conformance kit must re-run every adapter's tests that use it.
    """
    reverse: dict[str, set[str]] = {}
    for dist in dists:
        for dep in dist.all_requires | dist.dev_requires:
            reverse.setdefault(dep, set()).add(dist.name)
    seen: set[str] = set()
    todo: list[str] = [canonicalize_name(n) for n in names]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo.extend(reverse.get(current, ()))
    return seen


def _distribution(root: Path, folder: Path, data: dict[str, Any], names: set[str]) -> Distribution:
    project: dict[str, Any] = data["project"]
    name = canonicalize_name(project["name"])

    runtime = _workspace_requirements(project.get("dependencies", []), names)
    optional: dict[str, list[str]] = project.get("optional-dependencies", {})
    extras_direct = {
        extra: _workspace_requirement_pairs(reqs, names) for extra, reqs in optional.items()
    }
    extras = {extra: _expand_extra(name, extra, extras_direct) for extra in extras_direct}

    groups: dict[str, list[Any]] = data.get("dependency-groups", {})
    dev: set[str] = set()
    for items in groups.values():
        # Group entries may be {include-group = ...} tables; only strings are requirements.
        dev |= _workspace_requirements([i for i in items if isinstance(i, str)], names)

    entry_points: dict[str, dict[str, str]] = {
        group: dict(items) for group, items in project.get("entry-points", {}).items()
    }
    if project.get("scripts"):
        entry_points["console_scripts"] = dict(project["scripts"])
    if project.get("gui-scripts"):
        entry_points["gui_scripts"] = dict(project["gui-scripts"])

    kind = folder.parent.name.rstrip("s")
    return Distribution(
        name=name,
        version=str(project["version"]),
        path=Path(folder.relative_to(root).as_posix()),
        kind=kind,
        requires=frozenset(runtime - {name}),
        dev_requires=frozenset(dev - {name}),
        extras={k: frozenset(v - {name}) for k, v in extras.items()},
        entry_points=entry_points,
        services=_services(name, data),
    )


def _services(name: str, data: dict[str, Any]) -> tuple[str, ...]:
    """Services from ``[tool.spine.release] services``, else guessed from the name."""
    table = data.get("tool", {}).get("spine", {}).get("release", {})
    if "services" in table:
        declared = table["services"]
        if not isinstance(declared, list) or not all(isinstance(s, str) for s in declared):
            raise WorkspaceError(f"{name}: [tool.spine.release] services must be a list of names")
        unknown = sorted(set(declared) - set(KNOWN_SERVICES))
        if unknown:
            raise WorkspaceError(
                f"{name}: unknown services {unknown}; known: {', '.join(KNOWN_SERVICES)}"
            )
        return tuple(s for s in KNOWN_SERVICES if s in declared)
    # Fallback for adapters without the table: the backend is in the name.
    return tuple(s for s in KNOWN_SERVICES if s in name.split("-"))


def _parse(req: str) -> Requirement:
    try:
        return Requirement(req)
    except InvalidRequirement as exc:
        raise WorkspaceError(f"invalid requirement {req!r}: {exc}") from exc


def _workspace_requirements(reqs: Iterable[str], names: set[str]) -> set[str]:
    return {n for n, _ in _workspace_requirement_pairs(reqs, names)}


def _workspace_requirement_pairs(
    reqs: Iterable[str], names: set[str]
) -> list[tuple[str, frozenset[str]]]:
    pairs: list[tuple[str, frozenset[str]]] = []
    for req in reqs:
        parsed = _parse(req)
        key = canonicalize_name(parsed.name)
        if key in names:
            pairs.append((key, frozenset(parsed.extras)))
    return pairs


def _expand_extra(
    name: str,
    extra: str,
    extras_direct: Mapping[str, list[tuple[str, frozenset[str]]]],
    seen: frozenset[str] = frozenset(),
) -> set[str]:
    """Workspace distributions an extra installs, following self-references like ``all``."""
    if extra in seen:
        return set()
    found: set[str] = set()
    for dep, dep_extras in extras_direct.get(extra, []):
        if dep == name:
            for inner in dep_extras:
                found |= _expand_extra(name, inner, extras_direct, seen | {extra})
        else:
            found.add(dep)
    return found


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise WorkspaceError(f"{path}: {exc}") from exc


def declared_sources(root: Path) -> list[str]:
    """Names the root pyproject maps to workspace members in ``[tool.uv.sources]``."""
    sources = _load_toml(root / "pyproject.toml").get("tool", {}).get("uv", {}).get("sources", {})
    return sorted(
        canonicalize_name(name)
        for name, spec in sources.items()
        if isinstance(spec, dict) and spec.get("workspace") is True
    )
