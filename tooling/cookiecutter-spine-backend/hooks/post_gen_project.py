"""Finish a generated backend: unused modules out, publish workflow in, next steps shown.

It deletes the modules of the kinds the backend does not offer, writes its publish workflow
with the release tooling, and prints what to do next. Cookiecutter renders this file with
the answers and runs it inside the new package folder.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

# Filled in by cookiecutter; JSON so that no answer can break out of the string.
_ANSWERS = r"""{{ {
    "backend_slug": cookiecutter.backend_slug,
    "kinds": cookiecutter.kinds,
    "module": cookiecutter.__module,
    "driver": cookiecutter.driver,
} | tojson }}"""

# Modules (under src/<module>/) that only a kind needs: raw.py is the checkpoint benchmark floor.
_ONLY_FOR = {"checkpoint": ("checkpoint.py", "raw.py"), "memory": ("memory.py",)}


def remove_unused(package_dir: Path, module: str, kinds: str) -> list[Path]:
    """Delete the modules of the kinds the backend does not offer; return what was deleted."""
    removed = []
    for kind, files in _ONLY_FOR.items():
        if kinds in ("both", kind):
            continue
        for name in files:
            path = package_dir / "src" / module / name
            if path.exists():
                path.unlink()
                removed.append(path)
    return removed


def remove_bytecode(package_dir: Path) -> None:
    """Delete `__pycache__` folders copied from an installed template.

    pip byte-compiles the template's files that happen to be valid Python when it installs
    the spine-backends wheel; cookiecutter would copy those caches as binary files.
    """
    for cache in sorted(package_dir.rglob("__pycache__"), reverse=True):
        shutil.rmtree(cache, ignore_errors=True)


def find_workspace(start: Path) -> Path | None:
    """The nearest folder above `start` whose pyproject.toml declares a uv workspace."""
    import tomllib

    for folder in start.resolve().parents:
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            with pyproject.open("rb") as f:
                if "workspace" in tomllib.load(f).get("tool", {}).get("uv", {}):
                    return folder
    return None


def add_publish_workflow(package_dir: Path) -> str:
    """Write the package's publish workflow with the release tooling; say what happened.

    Uses `spine_release` when it is importable, else the copy in the workspace's
    `tooling/release`; when neither works, prints the command that does it.
    """
    workspace = find_workspace(package_dir)
    if workspace is None:
        return (
            "No uv workspace encloses this package, so it has no publish workflow yet: move it "
            "into a Spine-style workspace's adapters/ folder, or see docs/add-a-backend.md."
        )
    rel = package_dir.resolve().relative_to(workspace).as_posix()
    command = f"uvx --from ./tooling/release spine-release write-workflow {rel}"
    try:
        try:
            from spine_release import write_workflow
        except ImportError:
            sys.path.insert(0, str(workspace / "tooling" / "release" / "src"))
            from spine_release import write_workflow
        written = write_workflow(package_dir)
    except Exception as exc:  # any failure here must not undo the generated package
        return (
            f"Could not write the publish workflow ({type(exc).__name__}: {exc}). "
            f"From {workspace}, run:\n    {command}"
        )
    return f"Wrote its publish workflow: {written.relative_to(workspace).as_posix()}"


def main() -> int:
    """Tidy the generated package and print the next steps."""
    answers = json.loads(_ANSWERS)
    package_dir = Path.cwd()
    remove_unused(package_dir, answers["module"], answers["kinds"])
    remove_bytecode(package_dir)
    workflow = add_publish_workflow(package_dir)
    workspace = find_workspace(package_dir)
    where = package_dir.relative_to(workspace).as_posix() if workspace else str(package_dir)
    slug = answers["backend_slug"]
    driver = answers["driver"].strip() or "your driver"
    print(
        f"Created {package_dir}\n"
        f"{workflow}\n"
        "Next steps (docs/add-a-backend.md walks through each):\n"
        "  1. Install it and the kit where you test (uv sync --all-packages in a uv workspace,\n"
        f'     else pip install -e {where} "spine-testing[pytest]"), then run the kit on the\n'
        "     in-process stand-in:\n"
        f"     pytest {where}\n"
        f"  2. Replace every `# REPLACE:` spot with calls to {driver}.\n"
        "  3. Advertise only the capabilities you implement, then test against a real server:\n"
        f"     SPINE_{slug.upper()}_URL=... pytest {where}   and   spine check {slug}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
