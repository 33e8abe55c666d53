"""A release rehearsal: build everything, check it, install it cleanly, run it.

Our own distributions reach the clean environments only as the wheels just
built: every install pins each workspace name to its wheel file through a
constraints file (so version ranges between our packages are still enforced),
and afterwards each installed workspace distribution must record that file as
its origin (``direct_url.json``). Third-party dependencies come from the default
index as usual.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from spine_release import distcheck
from spine_release.index import uv_executable
from spine_release.workspace import (
    Distribution,
    by_name,
    declared_sources,
    discover,
    incomplete_members,
)

#: The command the umbrella distribution installs.
CLI = "spine"
#: Seconds any one subprocess may take before the rehearsal gives up on it.
STEP_TIMEOUT = 600


@dataclass(frozen=True)
class Scenario:
    """One clean install: a distribution, optionally with one extra."""

    distribution: str
    extra: str | None = None

    @property
    def label(self) -> str:
        """Requirement-style name, e.g. ``spine-backends[redis]``."""
        return f"{self.distribution}[{self.extra}]" if self.extra else self.distribution


@dataclass
class StepResult:
    """What one rehearsal step found and how long it took."""

    name: str
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)


@dataclass
class RehearsalReport:
    """Every step of a rehearsal."""

    steps: list[StepResult] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        """All problems, each prefixed with its step."""
        return [f"[{s.name}] {p}" for s in self.steps for p in s.problems]

    @property
    def ok(self) -> bool:
        """Whether the rehearsal found nothing wrong."""
        return not self.problems

    def summary(self) -> str:
        """Human-readable, one line per step, then the problems."""
        lines = [
            f"{'ok  ' if not s.problems else 'FAIL'} {s.seconds:6.1f}s  {s.name}"
            for s in self.steps
        ]
        lines += self.problems
        return "\n".join(lines)


def prerequisites(root: Path) -> list[str]:
    """Why a rehearsal cannot run yet (empty when it can)."""
    reasons = incomplete_members(root)
    dists = discover(root)
    # Private tooling members (spine-release itself) are sources too, just never published.
    known = {d.name for d in dists} | _private_members(root)
    reasons += [
        f"{name} is a workspace source in pyproject.toml but has no member folder yet"
        for name in declared_sources(root)
        if name not in known
    ]
    for dist in dists:
        folder = root / dist.path
        if not any((folder / "src").glob("*/__init__.py")):
            reasons.append(f"{dist.path} has no src/<package>/__init__.py yet")
        if not any(folder.glob("README*")):
            reasons.append(f"{dist.path} has no README yet")
    if not any(CLI in d.entry_points.get("console_scripts", {}) for d in dists):
        reasons.append(f"no distribution declares the `{CLI}` command yet")
    return reasons


def _private_members(root: Path) -> set[str]:
    names = set()
    for pyproject in root.glob("tooling/*/pyproject.toml"):
        name = tomllib.loads(pyproject.read_text()).get("project", {}).get("name")
        if isinstance(name, str):
            names.add(name)
    return names


def scenarios(dists: Iterable[Distribution]) -> list[Scenario]:
    """Each distribution alone, plus each extra that pulls in workspace distributions."""
    found: list[Scenario] = []
    for dist in sorted(dists, key=lambda d: d.name):
        found.append(Scenario(dist.name))
        found += [Scenario(dist.name, extra) for extra, deps in sorted(dist.extras.items()) if deps]
    return found


def expected_installed(scenario: Scenario, dists: Iterable[Distribution]) -> set[str]:
    """The workspace distributions that installing ``scenario`` must bring in."""
    index = by_name(dists)
    root = index[scenario.distribution]
    todo = [root.name, *(root.extras.get(scenario.extra, ()) if scenario.extra else ())]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen or name not in index:
            continue
        seen.add(name)
        todo.extend(index[name].requires)
    return seen


def rehearse(
    root: Path,
    work_dir: Path,
    *,
    python: str = sys.executable,
    jobs: int = 2,
    log: Callable[[str], None] = lambda _: None,
) -> RehearsalReport:
    """Build, check, install and run every distribution of the workspace at ``root``.

    ``work_dir`` receives the built files (``dist/``) and the clean
    environments; it is not cleaned up, so a failure can be inspected.
    """
    report = RehearsalReport()
    dists = discover(root)
    out_dir = work_dir / "dist"
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)

    step = _step(report, "build", log)
    with _timed(step):
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            results = list(pool.map(lambda d: _build(root, d, out_dir), dists))
        step.problems += [p for r in results for p in r]

    step = _step(report, "check distributions", log)
    with _timed(step):
        step.problems += distcheck.verify(out_dir, dists)
        for dist in dists:
            if dist.kind == "adapter" and not dist.entry_points.get("spine.plugins"):
                step.problems.append(f"{dist.name}: declares no spine.plugins entry point")
    built, missing = distcheck.find_built(out_dir, dists)
    if missing:
        return report  # nothing sensible to install; the problems are already listed
    constraints = work_dir / "constraints.txt"
    constraints.write_text(
        "".join(f"{b.dist.name} @ {b.wheel.resolve().as_uri()}\n" for b in built),
        encoding="utf-8",
    )
    wheels = {b.dist.name: b.wheel.resolve() for b in built}

    def run(scenario: Scenario) -> StepResult:
        result = StepResult(f"install {scenario.label}")
        with _timed(result):
            result.problems += _install_and_run(
                root, work_dir, scenario, dists, wheels, constraints, python
            )
        log(f"{'ok  ' if not result.problems else 'FAIL'} {result.seconds:6.1f}s  {result.name}")
        return result

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        report.steps += list(pool.map(run, scenarios(dists)))
    return report


def _build(root: Path, dist: Distribution, out_dir: Path) -> list[str]:
    # --no-sources: build exactly as the publish job does, from the pyproject alone.
    proc = _run(
        [
            uv_executable(),
            "build",
            str(root / dist.path),
            "--no-sources",
            "--out-dir",
            str(out_dir),
            "--quiet",
        ],
        cwd=root,
    )
    if proc.returncode != 0:
        return [f"uv build {dist.path} failed:\n{proc.stdout}{proc.stderr}".rstrip()]
    return []


def _install_and_run(
    root: Path,
    work_dir: Path,
    scenario: Scenario,
    dists: Sequence[Distribution],
    wheels: dict[str, Path],
    constraints: Path,
    python: str,
) -> list[str]:
    env_dir = work_dir / "envs" / scenario.label.replace("[", "-").replace("]", "")
    if env_dir.exists():
        shutil.rmtree(env_dir)
    uv = uv_executable()
    proc = _run([uv, "venv", "--quiet", "--python", python, str(env_dir)], cwd=root)
    if proc.returncode != 0:
        return [f"uv venv failed: {proc.stderr.strip()}"]
    env_python = env_dir / "bin" / "python"

    extra = f"[{scenario.extra}]" if scenario.extra else ""
    requirement = f"{scenario.distribution}{extra} @ {wheels[scenario.distribution].as_uri()}"
    # cwd=root so the workspace's uv settings (exclude-newer) govern third-party resolution.
    proc = _run(
        [
            uv,
            "pip",
            "install",
            "--quiet",
            "--python",
            str(env_python),
            "--constraint",
            str(constraints),
            requirement,
        ],
        cwd=root,
    )
    if proc.returncode != 0:
        return [f"uv pip install {requirement!r} failed:\n{proc.stderr.strip()}"]

    problems: list[str] = []
    ours = sorted(d.name for d in dists)
    proc = _run([str(env_python), "-c", _PROBE, json.dumps(ours)], cwd=work_dir)
    if proc.returncode != 0:
        return [f"probe failed:\n{proc.stdout}{proc.stderr}".rstrip()]
    probe = json.loads(proc.stdout)
    installed: dict[str, dict[str, str | None]] = probe["installed"]

    expected = expected_installed(scenario, dists)
    for name in sorted(expected - set(installed)):
        problems.append(f"{name} was not installed (a declared dependency is missing?)")
    for name in sorted(set(installed) - expected):
        problems.append(f"{name} was installed but nothing declares it")
    for name, info in sorted(installed.items()):
        if info["url"] != wheels[name].as_uri():
            problems.append(
                f"{name} {info['version']} came from {info['url'] or 'the index'}, "
                "not from the wheel just built"
            )
    problems += probe["errors"]

    cli = env_dir / "bin" / CLI
    if cli.exists():
        listing = _run([str(cli), "plugin", "list"], cwd=work_dir)
        if listing.returncode != 0:
            problems.append(f"`{CLI} plugin list` exited {listing.returncode}:\n{listing.stderr}")
        else:
            for name in sorted(installed):
                for ep in by_name(dists)[name].entry_points.get("spine.plugins", {}):
                    backend = ep.split(".")[0]
                    if backend not in listing.stdout:
                        problems.append(
                            f"`{CLI} plugin list` does not mention {backend!r} ({name})"
                        )
        db = env_dir / "r.db"
        checked = _run([str(cli), "check", f"sqlite:///{db}"], cwd=work_dir)
        if checked.returncode != 0:
            problems.append(
                f"`{CLI} check sqlite:///{db}` exited {checked.returncode}:\n"
                f"{checked.stdout}{checked.stderr}".rstrip()
            )
    elif scenario.distribution in {
        d.name for d in dists if CLI in d.entry_points.get("console_scripts", {})
    }:
        problems.append(f"the `{CLI}` command was not installed")
    return problems


def _run(argv: list[str], *, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    # Never let an outer virtual environment leak into the clean ones.
    env.pop("VIRTUAL_ENV", None)
    env.pop("PYTHONPATH", None)
    try:
        return subprocess.run(  # noqa: S603 -- argv built here, no shell
            argv,
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        return subprocess.CompletedProcess(argv, 124, "", f"timed out after {exc.timeout}s")


def _step(report: RehearsalReport, name: str, log: Callable[[str], None]) -> StepResult:
    log(f"... {name}")
    result = StepResult(name)
    report.steps.append(result)
    return result


class _timed:
    """Context manager that records elapsed wall time on a step."""

    def __init__(self, step: StepResult) -> None:
        self.step = step

    def __enter__(self) -> None:
        self.start = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.step.seconds += time.perf_counter() - self.start


# Runs inside each clean environment: lists our installed distributions with
# their origin, imports their packages and loads every entry point they declare.
_PROBE = r"""
import importlib, importlib.metadata as md, json, re, sys, traceback
ours = set(json.loads(sys.argv[1]))
out = {"installed": {}, "errors": []}
def canon(n): return re.sub(r"[-_.]+", "-", n).lower()
for d in md.distributions():
    name = canon(d.metadata["Name"])
    if name not in ours:
        continue
    raw = d.read_text("direct_url.json")
    out["installed"][name] = {"version": d.version, "url": json.loads(raw)["url"] if raw else None}
    modules = sorted({f.parts[0] for f in (d.files or ()) if len(f.parts) == 2
                      and f.parts[1] == "__init__.py"})
    for mod in modules:
        try:
            importlib.import_module(mod)
        except Exception as exc:
            out["errors"].append(f"import {mod} ({name}) failed: {exc!r}")
    for ep in d.entry_points:
        try:
            ep.load()
        except Exception as exc:
            out["errors"].append(f"entry point [{ep.group}] {ep.name} ({name}) failed: {exc!r}")
print(json.dumps(out))
"""
