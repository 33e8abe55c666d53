"""Checks on built sdists and wheels before anything is uploaded."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterable
from configparser import ConfigParser
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path, PurePosixPath

from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename
from packaging.version import Version

from spine_release.workspace import Distribution


@dataclass(frozen=True)
class Built:
    """The sdist and wheel built for one distribution."""

    dist: Distribution
    wheel: Path
    sdist: Path


def find_built(out_dir: Path, dists: Iterable[Distribution]) -> tuple[list[Built], list[str]]:
    """Pair each distribution with its wheel and sdist in ``out_dir``; list what is missing."""
    wheels: dict[str, list[Path]] = {}
    sdists: dict[str, list[Path]] = {}
    for path in sorted(out_dir.iterdir()):
        if path.name.endswith(".whl"):
            name, version, *_ = parse_wheel_filename(path.name)
            wheels.setdefault(f"{name}=={version}", []).append(path)
        elif path.name.endswith(".tar.gz"):
            name, version = parse_sdist_filename(path.name)
            sdists.setdefault(f"{name}=={version}", []).append(path)
    found: list[Built] = []
    problems: list[str] = []
    for dist in dists:
        key = f"{canonicalize_name(dist.name)}=={_canonical(dist.version)}"
        wheel, sdist = wheels.get(key, []), sdists.get(key, [])
        if len(wheel) != 1 or len(sdist) != 1:
            problems.append(
                f"{dist.name} {dist.version}: expected one wheel and one sdist in {out_dir}, "
                f"found {len(wheel)} wheel(s) and {len(sdist)} sdist(s)"
            )
            continue
        found.append(Built(dist, wheel[0], sdist[0]))
    return found, problems


def twine_check(paths: Iterable[Path]) -> list[str]:
    """Run ``twine check --strict``; return its complaints (empty when it passes)."""
    files = [str(p) for p in paths]
    if not files:
        return []
    proc = subprocess.run(  # noqa: S603 -- fixed argv
        [sys.executable, "-m", "twine", "--no-color", "check", "--strict", *files],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode == 0:
        return []
    return [f"twine check --strict failed:\n{proc.stdout}{proc.stderr}".rstrip()]


def check_wheel(built: Built) -> list[str]:
    """Contents and metadata of the wheel: typed, no tests or caches, entry points, metadata."""
    dist, problems = built.dist, []
    with zipfile.ZipFile(built.wheel) as zf:
        names = zf.namelist()
        dist_info = _dist_info_dir(names)
        if dist_info is None:
            return [f"{built.wheel.name}: no .dist-info folder"]
        metadata = HeaderParser().parsestr(zf.read(f"{dist_info}/METADATA").decode("utf-8"))
        entry_text = (
            zf.read(f"{dist_info}/entry_points.txt").decode("utf-8")
            if f"{dist_info}/entry_points.txt" in names
            else ""
        )

    label = built.wheel.name
    top_level = sorted(
        {
            PurePosixPath(n).parts[0]
            for n in names
            if not PurePosixPath(n).parts[0].endswith((".dist-info", ".data"))
        }
    )
    packages = [t for t in top_level if f"{t}/__init__.py" in names]
    if not packages:
        problems.append(f"{label}: contains no importable package")
    for pkg in packages:
        if f"{pkg}/py.typed" not in names:
            problems.append(f"{label}: {pkg}/py.typed is missing (the package is typed)")
    for name in names:
        parts = PurePosixPath(name).parts
        if "__pycache__" in parts or name.endswith((".pyc", ".pyo")):
            problems.append(f"{label}: ships a bytecode cache: {name}")
        if (parts and parts[0] in {"tests", "test"}) or (len(parts) > 1 and parts[1] == "tests"):
            problems.append(f"{label}: ships tests: {name}")

    declared = {g: dict(items) for g, items in dist.entry_points.items()}
    shipped = _parse_entry_points(entry_text)
    for group, items in declared.items():
        for ep_name, target in items.items():
            got = shipped.get(group, {}).get(ep_name)
            if got is None:
                problems.append(f"{label}: entry point [{group}] {ep_name} is missing")
            elif got.replace(" ", "") != target.replace(" ", ""):
                problems.append(
                    f"{label}: entry point [{group}] {ep_name} = {got}, pyproject says {target}"
                )

    if canonicalize_name(metadata.get("Name", "")) != dist.name:
        problems.append(f"{label}: metadata Name is {metadata.get('Name')!r}")
    if not (metadata.get("License-Expression") or metadata.get("License")):
        problems.append(f"{label}: no License-Expression (or License) in the metadata")
    description = metadata.get_payload()
    if not isinstance(description, str) or not description.strip():
        problems.append(f"{label}: empty long description (is readme set and present?)")
    if not metadata.get("Description-Content-Type"):
        problems.append(f"{label}: no Description-Content-Type for the readme")
    if not metadata.get("Requires-Python"):
        problems.append(f"{label}: no Requires-Python")
    return problems


def check_sdist(built: Built) -> list[str]:
    """The sdist carries pyproject.toml and the readme, and no bytecode caches."""
    problems: list[str] = []
    label = built.sdist.name
    with tarfile.open(built.sdist) as tf:
        names = tf.getnames()
    roots = {PurePosixPath(n).parts[0] for n in names}
    if len(roots) != 1:
        return [f"{label}: expected one top-level folder, found {sorted(roots)}"]
    (top,) = roots
    for required in ("pyproject.toml", "PKG-INFO"):
        if f"{top}/{required}" not in names:
            problems.append(f"{label}: {required} is missing")
    if not any(PurePosixPath(n).name.lower().startswith("readme") for n in names):
        problems.append(f"{label}: no README")
    for name in names:
        if "__pycache__" in PurePosixPath(name).parts or name.endswith((".pyc", ".pyo")):
            problems.append(f"{label}: ships a bytecode cache: {name}")
    return problems


def verify(out_dir: Path, dists: Iterable[Distribution]) -> list[str]:
    """Every check on the distributions in ``out_dir``; the list of problems (empty: all good)."""
    built, problems = find_built(out_dir, dists)
    problems += twine_check(p for b in built for p in (b.wheel, b.sdist))
    for b in built:
        problems += check_wheel(b)
        problems += check_sdist(b)
    return problems


def _dist_info_dir(names: list[str]) -> str | None:
    for name in names:
        first = PurePosixPath(name).parts[0]
        if first.endswith(".dist-info"):
            return first
    return None


def _parse_entry_points(text: str) -> dict[str, dict[str, str]]:
    parser = ConfigParser(delimiters=("=",), interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # names are case-sensitive
    parser.read_string(text)
    return {s: {k: v.strip() for k, v in parser.items(s)} for s in parser.sections()}


def _canonical(version: str) -> str:
    return str(Version(version))
