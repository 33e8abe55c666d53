"""Which distributions a change touches, plus everything that depends on them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from spine_release.workspace import Distribution, dependants

#: Changes to these paths can break any package: shared tool configuration, the
#: CI entry points. Everything is tested. (Prefixes end in "/".)
GLOBAL_PATHS: tuple[str, ...] = (
    "pyproject.toml",
    "uv.lock",
    ".python-version",
    ".ci/",
    ".github/workflows/ci.yml",
)

#: Where the release tooling lives; its tests also cover the publish workflows.
RELEASE_TOOLING = "tooling/release"


@dataclass(frozen=True)
class AffectedSet:
    """What a change needs tested."""

    everything: bool
    distributions: tuple[Distribution, ...]
    tooling: tuple[str, ...]
    """``tooling/*`` folders whose own tests must run."""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary, shaped for GitHub Actions matrices."""
        packages = [d for d in self.distributions if d.kind != "adapter"]
        adapters = [d for d in self.distributions if d.kind == "adapter"]
        return {
            "all": self.everything,
            "distributions": [d.name for d in self.distributions],
            "packages": [_entry(d) for d in packages],
            "adapters": [_entry(d) for d in adapters],
            "tooling": list(self.tooling),
            "unit_paths": [d.path.as_posix() for d in packages] + list(self.tooling),
        }


def _entry(dist: Distribution) -> dict[str, Any]:
    return {"name": dist.name, "path": dist.path.as_posix(), "services": list(dist.services)}


def affected(
    changed: Iterable[str],
    dists: Iterable[Distribution],
    tooling_dirs: Iterable[str] = (RELEASE_TOOLING,),
    *,
    everything: bool = False,
) -> AffectedSet:
    """The affected set for the repository-relative paths in ``changed``.

    A file inside a distribution's folder affects that distribution and its
    dependants (run time, extras and dependency groups, transitively). A
    change to shared configuration affects everything. The release tooling is
    affected by its own files, by the workflows it generates, and by any
    member's pyproject (the workflows are generated from them); other tooling
    by its own files and by whatever the adapters depend on.
    """
    dists = sorted(dists, key=lambda d: d.name)
    tooling_dirs = sorted(tooling_dirs)
    paths = [_clean(p) for p in changed if p.strip()]
    everything = everything or any(_is_global(p) for p in paths)
    if everything:
        return AffectedSet(True, tuple(dists), tuple(tooling_dirs))

    touched: set[str] = set()
    tooling: set[str] = set()
    for path in paths:
        for dist in dists:
            if _inside(path, dist.path.as_posix()):
                touched.add(dist.name)
                if PurePosixPath(path).name == "pyproject.toml":
                    tooling.add(RELEASE_TOOLING)
        for folder in tooling_dirs:
            if _inside(path, folder):
                tooling.add(folder)
        if path.startswith(".github/workflows/"):
            tooling.add(RELEASE_TOOLING)

    chosen = tuple(d for d in dists if d.name in dependants(dists, touched))
    # Other tooling (the adapter template) scaffolds adapters, which build on what
    # existing adapters build on (the core, the kit): it is their dependant too.
    adapter_deps = {n for d in dists if d.kind == "adapter" for n in d.requires | d.dev_requires}
    if any(d.name in adapter_deps for d in chosen):
        tooling |= {t for t in tooling_dirs if t != RELEASE_TOOLING}
    return AffectedSet(
        everything=False,
        distributions=chosen,
        tooling=tuple(sorted(tooling & set(tooling_dirs))),
    )


def _clean(path: str) -> str:
    return PurePosixPath(path.strip().removeprefix("./")).as_posix()


def _is_global(path: str) -> bool:
    return any(path.startswith(p) if p.endswith("/") else path == p for p in GLOBAL_PATHS)


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")
