"""`spine new backend NAME`: scaffold a backend package that passes the conformance kit.

It runs the cookiecutter template `cookiecutter-spine-backend`: the canonical copy in a
source checkout's `tooling/`, or the copy the `spine-backends` wheel carries
(`spine_backends/templates/`). Cookiecutter is an optional dependency (the `new` extra):
applications that only store state never need a scaffolding tool.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import tomllib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

from ._ui import UI

__all__ = [
    "TEMPLATE_NAME",
    "add_parser",
    "default_output_dir",
    "load_rules",
    "run",
    "template_dir",
]

TEMPLATE_NAME = "cookiecutter-spine-backend"
INSTALL_HINT = 'pip install "spine-backends[new]"'

KINDS = ("checkpoint", "memory", "both")


def add_parser(subparsers: Any) -> None:
    """Register `spine new …`."""
    parser = subparsers.add_parser(
        "new",
        help="scaffold a new backend package",
        description="Scaffold new Spine packages from templates.",
    )
    commands = parser.add_subparsers(dest="new_command", metavar="WHAT", required=True)
    backend = commands.add_parser(
        "backend",
        help="a backend package that passes the conformance kit from the start",
        description=(
            "Generate adapters/spine-backend-<slug>/: pyproject, README, store classes that "
            "work on an in-process stand-in for the driver (each `# REPLACE:` marks a spot "
            "for the real driver), conformance tests and, in a workspace, the publish "
            "workflow. Asks for anything not given unless --no-input. Needs cookiecutter: "
            f"{INSTALL_HINT}."
        ),
        epilog="docs/add-a-backend.md walks from here to a published package.",
    )
    backend.add_argument(
        "name",
        metavar="NAME",
        help='display name, e.g. "Acme DB"; the slug (registry name) is derived from it',
    )
    backend.add_argument(
        "--slug",
        help="registry name: lowercase Python identifier (default: NAME, lowercased, "
        "without spaces or punctuation)",
    )
    backend.add_argument("--kinds", choices=KINDS, help="which stores to generate (default: both)")
    backend.add_argument(
        "--driver",
        metavar="REQUIREMENT",
        help='the driver distribution with a narrow range, e.g. "acmedb-client>=2.3,<3"',
    )
    backend.add_argument("--author", help="author name or organisation")
    backend.add_argument("--license", metavar="SPDX", help="licence (default: Apache-2.0)")
    backend.add_argument(
        "--spine-core",
        metavar="X.Y",
        help="oldest spine-core minor it supports (default: the installed one)",
    )
    backend.add_argument(
        "--output-dir",
        type=Path,
        metavar="DIR",
        help="where to create the package (default: ./adapters at a workspace root, else .)",
    )
    backend.add_argument(
        "--no-input",
        action="store_true",
        help="ask nothing: use the options given and the defaults",
    )
    backend.set_defaults(func=run)


def template_dir() -> Path:
    """The template folder: the wheel's copy, else the source checkout's `tooling/` one."""
    here = Path(__file__).resolve()
    packaged = here.parents[1] / "templates" / TEMPLATE_NAME
    if (packaged / "cookiecutter.json").is_file():
        return packaged
    for parent in here.parents:  # an editable install from a checkout
        canonical = parent / "tooling" / TEMPLATE_NAME
        if (canonical / "cookiecutter.json").is_file():
            return canonical
    from spine_core import ConfigError

    raise ConfigError(
        f"the {TEMPLATE_NAME} template is missing from this installation of spine-backends; "
        "reinstall it"
    )


def load_rules(template: Path) -> ModuleType:
    """The template's pre-generation hook as a module: the one place its answer rules live."""
    path = template / "hooks" / "pre_gen_project.py"
    module = ModuleType("spine_backend_template_rules")
    module.__file__ = str(path)
    # exec rather than import: importing would leave a bytecode cache inside the template,
    # which the wheel would then ship. The file is part of this distribution, not input.
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), module.__dict__)  # noqa: S102
    return module


def is_workspace_root(folder: Path) -> bool:
    """True when `folder` has an adapters/ folder and a pyproject declaring a uv workspace."""
    pyproject = folder / "pyproject.toml"
    if not (folder / "adapters").is_dir() or not pyproject.is_file():
        return False
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return False
    return "workspace" in data.get("tool", {}).get("uv", {})


def default_output_dir(cwd: Path) -> Path:
    """`cwd/adapters` at a workspace root, else `cwd`."""
    return cwd / "adapters" if is_workspace_root(cwd) else cwd


def _installed_core_minor() -> str | None:
    try:
        version = metadata.version("spine-core")
    except metadata.PackageNotFoundError:
        return None
    parts = version.split(".")
    return ".".join(parts[:2]) if len(parts) >= 2 and all(p.isdigit() for p in parts[:2]) else None


def _choices(template: Path, variable: str) -> list[str]:
    data = json.loads((template / "cookiecutter.json").read_text(encoding="utf-8"))
    value = data.get(variable)
    return [str(v) for v in value] if isinstance(value, list) else []


def answers_from(args: argparse.Namespace, slugify: Callable[..., str]) -> dict[str, str]:
    """The template answers the command line gives (the rest are defaults or prompts)."""
    answers = {"backend_name": args.name}
    if args.slug is not None:
        answers["backend_slug"] = args.slug
    elif args.no_input:
        # The template derives the same default; computing it here lets it be checked first.
        answers["backend_slug"] = slugify(args.name, separator="")
    for option, variable in (
        ("kinds", "kinds"),
        ("driver", "driver"),
        ("author", "author"),
        ("license", "license"),
        ("spine_core", "spine_core_min"),
    ):
        value = getattr(args, option)
        if value is not None:
            answers[variable] = value
    if "spine_core_min" not in answers:
        core = _installed_core_minor()
        if core is not None:
            answers["spine_core_min"] = core
    return answers


@contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    # Cookiecutter logs a traceback when a hook refuses the answers; the hook has already
    # said why, on stderr, so keep that noise out of the user's terminal.
    logger = logging.getLogger(logger_name)
    handler = logging.NullHandler()
    previous = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = previous


def _check(answers: Mapping[str, str], rules: ModuleType, out: Path, complete: bool) -> list[str]:
    if complete:
        found: list[str] = rules.problems(answers, out)
        return found
    # Interactive: only what was given now can be judged now; the hook checks the rest.
    checks: list[tuple[str, Callable[[object], str | None]]] = [
        ("backend_name", rules.name_problem),
        ("backend_slug", rules.slug_problem),
        ("driver", rules.driver_problem),
        ("author", rules.author_problem),
        ("spine_core_min", rules.version_problem),
    ]
    found = [p for key, check in checks if key in answers and (p := check(answers[key]))]
    if "backend_slug" in answers and not found:
        taken: str | None = rules.taken_problem(answers["backend_slug"], out)
        found += [taken] if taken else []
    return found


def run(args: argparse.Namespace, ui: UI) -> int:
    """Generate the backend package; 2 when the answers are refused or cookiecutter is missing."""
    try:
        main = importlib.import_module("cookiecutter.main")
        errors = importlib.import_module("cookiecutter.exceptions")
        slugify: Callable[..., str] = importlib.import_module("slugify").slugify
    except ImportError:
        ui.error(f"`spine new` needs cookiecutter, which is not installed: {INSTALL_HINT}")
        return 2
    template = template_dir()
    rules = load_rules(template)
    out = (args.output_dir or default_output_dir(Path.cwd())).resolve()
    answers = answers_from(args, slugify)
    for variable in ("kinds", "license"):
        choices = _choices(template, variable)
        if variable in answers and answers[variable] not in choices:
            ui.error(f"--{variable} must be one of {', '.join(choices)}, not {answers[variable]!r}")
            return 2
    problems = _check(answers, rules, out, complete=args.no_input)
    if problems:
        for problem in problems:
            ui.error(problem)
        if args.slug is None and any(p.startswith("slug ") for p in problems):
            ui.error(f"the slug was derived from {args.name!r}: choose one with --slug")
        ui.error("nothing was generated")
        return 2
    with _quiet("cookiecutter"):
        try:
            main.cookiecutter(
                str(template), no_input=args.no_input, extra_context=answers, output_dir=str(out)
            )
        except errors.FailedHookException:
            ui.error("the template refused the answers (see above); nothing was generated")
            return 2
        except errors.CookiecutterException as exc:
            ui.error(f"{type(exc).__name__}: {exc}")
            return 2
    return 0
