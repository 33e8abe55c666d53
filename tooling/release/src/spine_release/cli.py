"""``spine-release``: the command the release workflows and CI call."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from spine_release import distcheck, rehearsal, workflows
from spine_release.affected import affected
from spine_release.index import IndexUnavailable, is_published
from spine_release.plan import plan_release
from spine_release.tags import TagError, check_tag, check_version
from spine_release.workspace import WorkspaceError, by_name, discover, find_root


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        root = Path(args.root).resolve() if args.root else find_root()
        status: int = args.func(args, root)
    except (TagError, WorkspaceError, IndexUnavailable, workflows.DriftError) as exc:
        print(f"spine-release: error: {exc}", file=sys.stderr)
        return 1
    return status


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spine-release", description=__doc__)
    parser.add_argument("--root", help="workspace root (default: found from the current folder)")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    p = sub.add_parser("list", help="list the workspace's distributions as JSON")
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser("check-tag", help="check a release tag or version against pyproject.toml")
    p.add_argument("--tag", help="v<version> or <distribution>-v<version> (refs/tags/ allowed)")
    p.add_argument("--distribution", help="the distribution being published")
    p.add_argument("--version", help="version to publish (instead of --tag)")
    p.add_argument("--github-output", action="store_true", help="also write to $GITHUB_OUTPUT")
    p.set_defaults(func=_cmd_check_tag)

    p = sub.add_parser("published", help="is a version already on the index? (true/false)")
    p.add_argument("--distribution", required=True)
    p.add_argument("--version", required=True)
    p.add_argument("--github-output", action="store_true")
    p.set_defaults(func=_cmd_published)

    p = sub.add_parser("plan", help="what a tag releases (JSON)")
    p.add_argument("--tag", required=True)
    p.add_argument("--github-output", action="store_true")
    p.add_argument(
        "--assume-unpublished", action="store_true", help="do not ask the index (dry runs)"
    )
    p.set_defaults(func=_cmd_plan)

    p = sub.add_parser("generate-workflows", help="write .github/workflows/publish-*.yml")
    p.add_argument("--check", action="store_true", help="only report drift; exit 1 if any")
    p.set_defaults(func=_cmd_generate)

    p = sub.add_parser("write-workflow", help="write one distribution's publish workflow")
    p.add_argument("package_dir", help="folder of the distribution (holding pyproject.toml)")
    p.set_defaults(func=_cmd_write_workflow)

    p = sub.add_parser("affected", help="distributions a change touches, plus dependants (JSON)")
    p.add_argument("--changed", nargs="*", default=[], metavar="FILE", help="changed paths")
    p.add_argument("--changed-file", help="file listing changed paths, one per line")
    p.add_argument("--all", action="store_true", help="treat everything as affected")
    p.add_argument("--github-output", action="store_true")
    p.set_defaults(func=_cmd_affected)

    p = sub.add_parser("verify-dist", help="twine check --strict and wheel-content checks")
    p.add_argument("dist_dir", help="folder holding the built sdists and wheels")
    p.add_argument("--distribution", action="append", help="only these (repeatable)")
    p.set_defaults(func=_cmd_verify_dist)

    p = sub.add_parser("rehearse", help="build, check, install cleanly and run everything")
    p.add_argument("--work-dir", help="keep builds and environments here (default: a temp dir)")
    p.add_argument("--jobs", type=int, default=2, help="parallel builds and installs")
    p.set_defaults(func=_cmd_rehearse)
    return parser


def _github_output(pairs: dict[str, str]) -> None:
    path = os.environ.get("GITHUB_OUTPUT")
    if not path:
        raise WorkspaceError("--github-output given but $GITHUB_OUTPUT is not set")
    with open(path, "a", encoding="utf-8") as fh:
        for key, value in pairs.items():
            if "\n" in value:
                raise ValueError(f"output {key} must be one line")
            fh.write(f"{key}={value}\n")


def _cmd_list(args: argparse.Namespace, root: Path) -> int:
    rows = [
        {
            "name": d.name,
            "version": d.version,
            "path": d.path.as_posix(),
            "kind": d.kind,
            "requires": sorted(d.requires),
            "extras": {k: sorted(v) for k, v in d.extras.items()},
            "services": list(d.services),
            "workflow": d.workflow_file,
        }
        for d in discover(root)
    ]
    print(json.dumps(rows, indent=2))
    return 0


def _cmd_check_tag(args: argparse.Namespace, root: Path) -> int:
    dists = discover(root)
    if (args.tag is None) == (args.version is None):
        raise TagError("give exactly one of --tag and --version")
    if args.version is not None:
        if not args.distribution:
            raise TagError("--version needs --distribution")
        dist = by_name(dists).get(args.distribution)
        if dist is None:
            raise TagError(f"{args.distribution} is not a distribution of this workspace")
        version = check_version(dist, args.version)
        name: str | None = dist.name
    else:
        parsed = check_tag(args.tag, dists)
        if args.distribution and parsed.distribution != args.distribution:
            raise TagError(f"tag {parsed.tag!r} does not release {args.distribution}")
        version, name = parsed.version, parsed.distribution
    print(f"{name or 'fan-out'} {version}: matches pyproject.toml")
    if args.github_output:
        _github_output({"version": version, "distribution": name or ""})
    return 0


def _cmd_published(args: argparse.Namespace, root: Path) -> int:
    published = is_published(args.distribution, args.version)
    text = "true" if published else "false"
    print(text)
    if published:
        # A notice on the run's summary: the skip is deliberate, not an error.
        print(f"::notice::{args.distribution} {args.version} is already on the index; skipping")
    if args.github_output:
        _github_output({"published": text})
    return 0


def _cmd_plan(args: argparse.Namespace, root: Path) -> int:
    lookup = (lambda _n, _v: False) if args.assume_unpublished else is_published
    plan = plan_release(args.tag, discover(root), lookup)
    releases = [r.as_dict() for r in plan.releases]
    print(
        json.dumps(
            {
                "tag": plan.tag.tag,
                "version": plan.tag.version,
                "fan_out": plan.tag.is_fan_out,
                "releases": releases,
                "already_published": [r.as_dict() for r in plan.already_published],
            },
            indent=2,
        )
    )
    if args.github_output:
        _github_output({"releases": json.dumps(releases), "count": str(len(releases))})
    return 0


def _cmd_generate(args: argparse.Namespace, root: Path) -> int:
    if args.check:
        workflows.check(root)
        print("publish workflows are up to date")
        return 0
    for path in workflows.generate(root):
        print(f"wrote {path}")
    return 0


def _cmd_write_workflow(args: argparse.Namespace, root: Path) -> int:
    print(f"wrote {workflows.write_workflow(Path(args.package_dir))}")
    return 0


def _cmd_affected(args: argparse.Namespace, root: Path) -> int:
    changed = list(args.changed)
    if args.changed_file:
        changed += Path(args.changed_file).read_text(encoding="utf-8").splitlines()
    tooling = sorted(
        p.relative_to(root).as_posix()
        for p in (root / "tooling").glob("*")
        if p.is_dir() and not p.name.startswith(".")
    )
    result = affected(changed, discover(root), tooling, everything=args.all).as_dict()
    print(json.dumps(result, indent=2))
    if args.github_output:
        _github_output(
            {
                "affected": json.dumps(result),
                "any": "true" if result["distributions"] or result["tooling"] else "false",
                "unit_paths": " ".join(result["unit_paths"]),
                "mypy_packages": " ".join(
                    _modules(root, [p["path"] for p in result["packages"] + result["adapters"]])
                    + _modules(root, result["tooling"])
                ),
                "adapters": json.dumps(result["adapters"]),
                "has_adapters": "true" if result["adapters"] else "false",
                "rehearse": "true"
                if result["distributions"] or "tooling/release" in result["tooling"]
                else "false",
            }
        )
    return 0


def _modules(root: Path, folders: list[str]) -> list[str]:
    """Import names of the packages under each folder's ``src/`` (for ``mypy -p``)."""
    return [
        init.parent.name
        for folder in folders
        for init in sorted((root / folder / "src").glob("*/__init__.py"))
    ]


def _cmd_verify_dist(args: argparse.Namespace, root: Path) -> int:
    dists = discover(root)
    if args.distribution:
        wanted = set(args.distribution)
        unknown = wanted - {d.name for d in dists}
        if unknown:
            raise WorkspaceError(f"unknown distributions: {', '.join(sorted(unknown))}")
        dists = [d for d in dists if d.name in wanted]
    problems = distcheck.verify(Path(args.dist_dir), dists)
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"{len(dists)} distribution(s) in {args.dist_dir}: all checks passed")
    return 1 if problems else 0


def _cmd_rehearse(args: argparse.Namespace, root: Path) -> int:
    reasons = rehearsal.prerequisites(root)
    if reasons:
        print("cannot rehearse yet:\n  " + "\n  ".join(reasons), file=sys.stderr)
        return 2
    if args.work_dir:
        report = rehearsal.rehearse(
            root, Path(args.work_dir), jobs=args.jobs, log=lambda m: print(m, flush=True)
        )
    else:
        with tempfile.TemporaryDirectory(prefix="spine-rehearsal-") as tmp:
            report = rehearsal.rehearse(
                root, Path(tmp), jobs=args.jobs, log=lambda m: print(m, flush=True)
            )
    print(report.summary())
    return 0 if report.ok else 1
