"""`spine new backend` and its template: generated packages pass the kit on day one.

One module-scoped run does the expensive part once: it copies what a workspace needs into a
temporary folder (root pyproject, spine-core, spine-testing, pytest-spine, the release
tooling), generates one backend per kind choice with `spine new backend`, builds the
spine-backends wheel, and installs all of it into one fresh virtualenv. The tests then run
the generated packages' own tests (the conformance kit), ruff, mypy --strict and
`spine plugin list` there.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import pytest

from spine_backends.cli import new
from spine_backends.cli._ui import UI

REPO = Path(__file__).resolve().parents[3]
PYTEST_SPINE = "packages/pytest-spine"
"""The kit's pytest plugin (spine-testing[pytest]): a testing install has it."""
TEMPLATE = REPO / "tooling" / new.TEMPLATE_NAME
UV = shutil.which("uv")

pytestmark = pytest.mark.skipif(UV is None, reason="uv is needed to build and install packages")


@dataclass(frozen=True)
class Generated:
    kinds: str
    name: str
    slug: str
    path: Path

    @property
    def dist(self) -> str:
        return f"spine-backend-{self.slug}"

    @property
    def module(self) -> str:
        return f"spine_backend_{self.slug}"


# One package per kind choice; display names exercise the derived slug and class names.
CASES = [
    ("both", "Tmpl Both", "tmplboth"),
    ("checkpoint", "Tmpl Checkpoint", "tmplcheckpoint"),
    ("memory", "Tmpl Memory", "tmplmemory"),
]
# An adapter that already registers a backend name, as a third party's would.
OTHER_ADAPTER = """\
[project]
name = "spine-backend-other"
version = "0.1.0"
[project.entry-points."spine.plugins"]
"zed.memory" = "spine_backend_other.memory:ZedMemory"
"""


def _spine_new(*argv: str) -> int:
    """Run `spine new …` in-process through this module's own parser."""
    parser = argparse.ArgumentParser(prog="spine")
    new.add_parser(parser.add_subparsers())
    args = parser.parse_args(["new", *argv])
    code: int = args.func(args, UI())
    return code


def _run(cmd: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    # Not this process's virtualenv: every command names its interpreter explicitly.
    clean = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    return subprocess.run(
        cmd, cwd=cwd, env={**clean, **env}, capture_output=True, text=True, timeout=600, check=False
    )


def _ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, (
        f"{proc.args} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    )
    return proc.stdout


def _copy(src: Path, dst: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", ".*cache", "tests", "dist")
    shutil.copytree(src, dst, ignore=ignore)


@pytest.fixture(scope="module")
def cookiecutter_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Cookiecutter's config and replay files in a temp folder, never the user's home."""
    home = tmp_path_factory.mktemp("cookiecutter")
    config = home / "config.yaml"
    config.write_text(f"cookiecutters_dir: {home / 'cc'}\nreplay_dir: {home / 'replay'}\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COOKIECUTTER_CONFIG", str(config))
        yield home


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, cookiecutter_home: Path) -> Path:
    """A minimal copy of the workspace: root pyproject, core, kit, release tooling."""
    root = tmp_path_factory.mktemp("workspace")
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    for rel in ("packages/spine-core", "packages/spine-testing", PYTEST_SPINE, "tooling/release"):
        _copy(REPO / rel, root / rel)
    other = root / "adapters" / "spine-backend-other"
    other.mkdir(parents=True)
    (other / "pyproject.toml").write_text(OTHER_ADAPTER)
    return root


@pytest.fixture(scope="module")
def generated(workspace: Path) -> dict[str, Generated]:
    """`spine new backend NAME --kinds K --no-input` run at the workspace root, per kind."""
    out: dict[str, Generated] = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(workspace)  # the default output dir is then ./adapters
        for kinds, name, slug in CASES:
            extra = ["--driver", "packaging>=24,<27"] if kinds == "both" else []
            assert _spine_new("backend", name, "--kinds", kinds, "--no-input", *extra) == 0
            out[kinds] = Generated(
                kinds, name, slug, workspace / "adapters" / f"spine-backend-{slug}"
            )
    return out


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The spine-backends wheel, built the way a release builds it (sdist, then wheel)."""
    out = tmp_path_factory.mktemp("dist")
    assert UV is not None
    _ok(_run([UV, "build", "--package", "spine-backends", "--out-dir", str(out)], cwd=REPO))
    return next(out.glob("spine_backends-*.whl"))


@pytest.fixture(scope="module")
def venv(workspace: Path, generated: dict[str, Generated], wheel: Path) -> Path:
    """One fresh virtualenv: core, kit, the generated packages, and spine-backends' wheel."""
    assert UV is not None
    env = workspace / ".venv-generated"
    python = env / "bin" / "python"
    _ok(_run([UV, "venv", "--quiet", "--python", sys.executable, str(env)], cwd=workspace))
    editable = ["packages/spine-core", "packages/spine-testing", PYTEST_SPINE]
    editable += [g.path.relative_to(workspace).as_posix() for g in generated.values()]
    install = [UV, "pip", "install", "--quiet", "--python", str(python)]
    args = [a for path in editable for a in ("-e", path)]
    tools = ["pytest>=8.3", "pytest-asyncio>=0.25", "rich>=13.7,<16", "cookiecutter>=2.6,<3"]
    _ok(_run([*install, *args, *tools], cwd=workspace))
    # The wheel alone: its other dependencies (sqlite adapter, numpy) are not what is tested.
    # Byte-compiled as pip does by default, which puts caches inside the installed template.
    _ok(_run([*install, "--no-deps", "--compile-bytecode", str(wheel)], cwd=workspace))
    return python


# -- the generated packages ------------------------------------------------------------------


def test_generated_packages_pass_their_tests_and_the_kit(
    workspace: Path, generated: dict[str, Generated], venv: Path
) -> None:
    report = workspace / "junit.xml"
    paths = [str(g.path) for g in generated.values()]
    proc = _run(
        [str(venv), "-m", "pytest", *paths, "-q", "-p", "no:cacheprovider", f"--junitxml={report}"],
        cwd=workspace,
    )
    _ok(proc)
    cases = ElementTree.parse(report).getroot().iter("testcase")
    outcomes: dict[str, list[str]] = {}
    for case in cases:
        kind = "skipped" if case.find("skipped") is not None else "passed"
        outcomes.setdefault(case.get("classname", ""), []).append(kind)
    for g in generated.values():
        classes = {"checkpoint": ["Checkpoint"], "memory": ["Memory"]}.get(
            g.kinds, ["Checkpoint", "Memory"]
        )
        prefix = "".join(w[:1].upper() + w[1:] for w in g.name.split())
        for suffix in classes:
            ran = [o for c, o in outcomes.items() if c.endswith(f"Test{prefix}{suffix}")]
            assert ran, f"no contract tests ran for {prefix}{suffix}: {sorted(outcomes)}"
            assert ran[0].count("passed") >= 20, ran[0]
        specific = [o for c, o in outcomes.items() if c.endswith(f"test_{g.slug}")]
        assert specific, f"test_{g.slug}.py did not run"
        assert "passed" in specific[0]


def test_generated_code_is_ruff_and_mypy_strict_clean(
    workspace: Path, generated: dict[str, Generated], venv: Path
) -> None:
    # The workspace's own ruff and mypy settings (its root pyproject) apply, as in the repo.
    paths = [str(g.path) for g in generated.values()]
    ruff = [sys.executable, "-m", "ruff"]
    _ok(_run([*ruff, "check", "--no-cache", *paths], cwd=workspace))
    _ok(_run([*ruff, "format", "--check", "--no-cache", *paths], cwd=workspace))
    mypy = [sys.executable, "-m", "mypy", "--strict", "--python-executable", str(venv)]
    mypy += ["--cache-dir", str(workspace / ".mypy_cache")]
    for g in generated.values():  # one run each: every package has a tests/conftest.py
        src, tests = g.path / "src", g.path / "tests"
        _ok(_run([*mypy, str(src), str(tests)], cwd=workspace, MYPYPATH=str(src)))


def test_nothing_is_left_unrendered(generated: dict[str, Generated]) -> None:
    for g in generated.values():
        for path in g.path.rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                text = path.read_text(encoding="utf-8")
                for marker in ("{{", "{%", "{#", "cookiecutter"):
                    assert marker not in text, f"{path}: {marker!r}"
                assert "cookiecutter" not in str(path.relative_to(g.path))


def test_each_kind_gets_exactly_its_modules_and_entry_points(
    generated: dict[str, Generated],
) -> None:
    for g in generated.values():
        src = g.path / "src" / g.module
        has_checkpoint = g.kinds in ("both", "checkpoint")
        has_memory = g.kinds in ("both", "memory")
        assert (src / "checkpoint.py").is_file() == has_checkpoint
        assert (src / "raw.py").is_file() == has_checkpoint
        assert (src / "memory.py").is_file() == has_memory
        project = tomllib.loads((g.path / "pyproject.toml").read_text())["project"]
        plugins = project["entry-points"]["spine.plugins"]
        expected = {f"{g.slug}.checkpoint"} if has_checkpoint else set()
        expected |= {f"{g.slug}.memory"} if has_memory else set()
        assert set(plugins) == expected
        bench = project["entry-points"].get("spine.bench", {})
        assert set(bench) == ({g.slug} if has_checkpoint else set())


def test_generated_packages_have_the_adapter_shape(generated: dict[str, Generated]) -> None:
    # The same rules tests/test_repository.py holds every adapter in the repository to.
    for g in generated.values():
        meta = tomllib.loads((g.path / "pyproject.toml").read_text())
        project = meta["project"]
        assert g.path.name == project["name"] == g.dist
        assert project["version"] == "0.1.0"
        assert meta["build-system"]["build-backend"] == "hatchling.build"
        assert "spine-core>=0.1,<0.2" in project["dependencies"]
        assert "Typing :: Typed" in project["classifiers"]
        assert meta["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == [f"src/{g.module}"]
        assert meta["tool"]["spine"]["release"]["services"] == []
        for entry, target in project["entry-points"]["spine.plugins"].items():
            kind = entry.rpartition(".")[2]
            assert target.startswith(f"{g.module}.{kind}:"), target
        for rel in ("README.md", "tests/conftest.py", "tests/test_conformance.py"):
            assert (g.path / rel).is_file(), rel
        for rel in ("__init__.py", "py.typed"):
            assert (g.path / "src" / g.module / rel).is_file(), rel
        assert "pip install" in (g.path / "README.md").read_text()
        assert "# REPLACE:" in (g.path / "src" / g.module / "_connection.py").read_text()
    both = tomllib.loads((generated["both"].path / "pyproject.toml").read_text())
    assert "packaging>=24,<27" in both["project"]["dependencies"]


def test_publish_workflow_written_by_the_release_tooling(
    workspace: Path, generated: dict[str, Generated]
) -> None:
    for g in generated.values():
        workflow = workspace / ".github" / "workflows" / f"publish-{g.dist}.yml"
        text = workflow.read_text()
        assert text.startswith("# Generated by `spine-release generate-workflows`")
        assert f"adapters/{g.dist}" in text


def test_spine_plugin_list_shows_the_new_backends(
    workspace: Path, generated: dict[str, Generated], venv: Path
) -> None:
    out = _ok(_run([str(venv), "-m", "spine_backends", "plugin", "list", "--json"], cwd=workspace))
    plugins = {p["name"]: p for p in json.loads(out)}
    for g in generated.values():
        kinds = ["checkpoint", "memory"] if g.kinds == "both" else [g.kinds]
        assert sorted(plugins[g.slug]["kinds"]) == kinds
        assert plugins[g.slug]["distribution"] == g.dist
        assert plugins[g.slug]["status"] == "not loaded"  # listing imports nothing


# -- the template inside the wheel -----------------------------------------------------------


def test_the_wheel_carries_the_template(wheel: Path) -> None:
    prefix = f"spine_backends/templates/{new.TEMPLATE_NAME}/"
    with zipfile.ZipFile(wheel) as zf:
        shipped = {n[len(prefix) :] for n in zf.namelist() if n.startswith(prefix)}
    caches = {"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"}
    canonical = {
        p.relative_to(TEMPLATE).as_posix()
        for p in TEMPLATE.rglob("*")
        if p.is_file() and not caches.intersection(p.parts)
    }
    # Everything but the repository-only guard that keeps pytest out of the Jinja files.
    assert shipped == canonical - {"conftest.py"}
    assert "{{cookiecutter.__dist_name}}/tests/conftest.py" in shipped


def test_installed_spine_new_generates_the_same_package(
    tmp_path: Path, workspace: Path, generated: dict[str, Generated], venv: Path
) -> None:
    target = tmp_path / "elsewhere"
    proc = _run(
        [
            str(venv),
            "-m",
            "spine_backends",
            "new",
            "backend",
            "Tmpl Both",
            "--kinds",
            "both",
            "--driver",
            "packaging>=24,<27",
            "--no-input",
            "--output-dir",
            str(target),
        ],
        cwd=tmp_path,
        COOKIECUTTER_CONFIG=os.environ["COOKIECUTTER_CONFIG"],
    )
    _ok(proc)
    assert "No uv workspace encloses this package" in proc.stdout  # so: no workflow there
    ours, theirs = generated["both"].path, target / generated["both"].dist
    files = sorted(p.relative_to(ours) for p in ours.rglob("*") if p.is_file())
    files = [f for f in files if "__pycache__" not in f.parts]  # the kit run made some here
    assert files == sorted(p.relative_to(theirs) for p in theirs.rglob("*") if p.is_file())
    for rel in files:
        assert (ours / rel).read_bytes() == (theirs / rel).read_bytes(), rel


# -- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("Abc", "must be lowercase"),
        ("1abc", "must start with a letter"),
        ("class", "Python keyword"),
        ("a-b", "not a valid Python module name"),
        ("redis", "built-in Spine backend"),
        ("tmplboth", "already exists"),
        ("zed", "already registers the backend 'zed.memory'"),
    ],
)
def test_bad_or_taken_slugs_are_refused_and_generate_nothing(
    workspace: Path,
    generated: dict[str, Generated],
    capsys: pytest.CaptureFixture[str],
    slug: str,
    message: str,
) -> None:
    adapters = workspace / "adapters"
    before = sorted(p.name for p in adapters.iterdir())
    code = _spine_new("backend", "X", "--slug", slug, "--no-input", "--output-dir", str(adapters))
    assert code == 2
    err = capsys.readouterr().err
    assert message in err
    assert "nothing was generated" in err
    assert sorted(p.name for p in adapters.iterdir()) == before


@pytest.mark.parametrize("slug", ["a-b", "class", "Abc"])
def test_the_template_hook_refuses_bad_slugs_without_spine_new(
    workspace: Path, generated: dict[str, Generated], capfd: pytest.CaptureFixture[str], slug: str
) -> None:
    # Plain cookiecutter (no pre-check by `spine new`): the pre-generation hook refuses, and
    # cookiecutter removes the folder it had created for the package.
    failed_hook = importlib.import_module("cookiecutter.exceptions").FailedHookException
    cookiecutter = importlib.import_module("cookiecutter.main").cookiecutter
    adapters = workspace / "adapters"
    before = sorted(p.name for p in adapters.iterdir())
    with pytest.raises(failed_hook):
        cookiecutter(
            str(TEMPLATE),
            no_input=True,
            extra_context={"backend_name": "X", "backend_slug": slug},
            output_dir=str(adapters),
        )
    assert "error: slug" in capfd.readouterr().err
    assert sorted(p.name for p in adapters.iterdir()) == before


def test_bad_display_name_driver_and_version_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], cookiecutter_home: Path
) -> None:
    for argv, message in [
        (['Say "hi"', "--slug", "hi"], "must not contain double quotes"),
        (["Fine", "--driver", "acme; python_version<'3'"], "is not a requirement"),
        (["Fine", "--spine-core", "1"], "must look like 0.1"),
        (["Fine", "--author", 'Bob "the" Builder'], "must not contain double quotes"),
        (["Fine", "--kinds", "both", "--license", "WTFPL"], "--license must be one of"),
    ]:
        code = _spine_new("backend", *argv, "--no-input", "--output-dir", str(tmp_path / "out"))
        assert code == 2, argv
        assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_missing_cookiecutter_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = importlib.import_module

    def fake(name: str, package: str | None = None) -> object:
        if name.startswith("cookiecutter"):
            raise ImportError(name)
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", fake)
    assert _spine_new("backend", "Acme", "--no-input") == 2
    assert 'pip install "spine-backends[new]"' in capsys.readouterr().err


# -- defaults ----------------------------------------------------------------------------------


def test_default_output_dir_is_adapters_only_at_a_workspace_root(
    workspace: Path, tmp_path: Path
) -> None:
    assert new.default_output_dir(workspace) == workspace / "adapters"
    assert new.default_output_dir(workspace / "adapters") == workspace / "adapters"
    assert new.default_output_dir(tmp_path) == tmp_path


def test_the_template_in_this_checkout_is_found() -> None:
    assert new.template_dir() in (TEMPLATE, TEMPLATE.resolve())


def test_spine_new_is_a_registered_subcommand() -> None:
    from spine_backends.cli import SUBCOMMANDS, build_parser

    assert "new" in SUBCOMMANDS
    assert "new" in build_parser().format_help()
