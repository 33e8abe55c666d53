from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from spine_release.workspace import Distribution, find_root


def pytest_configure(config: pytest.Config) -> None:
    # Registered here, not in the root config, so the release tooling stays self-contained;
    # `-m "not rehearsal"` deselects the slow end-to-end rehearsal.
    config.addinivalue_line(
        "markers", "rehearsal: builds and installs every distribution (slow, needs the index)"
    )


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return find_root(Path(__file__).parent)


MakeDist = Callable[..., Distribution]


@pytest.fixture
def make_dist() -> MakeDist:
    def make(
        name: str,
        version: str = "0.1.0",
        *,
        kind: str = "package",
        requires: tuple[str, ...] = (),
        dev_requires: tuple[str, ...] = (),
        extras: dict[str, tuple[str, ...]] | None = None,
        services: tuple[str, ...] = (),
    ) -> Distribution:
        folder = "adapters" if kind == "adapter" else "packages"
        return Distribution(
            name=name,
            version=version,
            path=Path(f"{folder}/{name}"),
            kind=kind,
            requires=frozenset(requires),
            dev_requires=frozenset(dev_requires),
            extras={k: frozenset(v) for k, v in (extras or {}).items()},
            services=services,
        )

    return make


def write_member(root: Path, rel: str, pyproject: str, *, package: str | None = None) -> Path:
    """Create a member folder with a pyproject (and a src package) under ``root``."""
    folder = root / rel
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    (folder / "README.md").write_text(f"# {rel}\n", encoding="utf-8")
    if package:
        (folder / "src" / package).mkdir(parents=True, exist_ok=True)
        (folder / "src" / package / "__init__.py").write_text('"""x."""\n', encoding="utf-8")
        (folder / "src" / package / "py.typed").write_text("", encoding="utf-8")
    return folder


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A small workspace: core, an umbrella with extras, two adapters, one dev dependency."""
    (tmp_path / "pyproject.toml").write_text(
        '[tool.uv.workspace]\nmembers = ["packages/*", "adapters/*"]\n'
        "[tool.uv.sources]\n"
        "demo-core = { workspace = true }\n"
        "demo-kit = { workspace = true }\n"
        "demo-umbrella = { workspace = true }\n"
        "demo-backend-redis = { workspace = true }\n"
        "demo-backend-sqlite = { workspace = true }\n",
        encoding="utf-8",
    )
    write_member(
        tmp_path,
        "packages/demo-core",
        '[project]\nname = "demo-core"\nversion = "1.2.0"\ndependencies = ["pydantic>=2"]\n'
        '[project.entry-points."spine.plugins"]\n"memory.checkpoint" = "demo_core.ref:Mem"\n',
        package="demo_core",
    )
    write_member(
        tmp_path,
        "packages/demo-kit",
        '[project]\nname = "demo-kit"\nversion = "1.2.0"\ndependencies = ["demo-core>=1.2"]\n',
        package="demo_kit",
    )
    write_member(
        tmp_path,
        "packages/demo-umbrella",
        '[project]\nname = "Demo_Umbrella"\nversion = "1.3.0"\n'
        'dependencies = ["demo-core>=1.2,<2", "demo-backend-sqlite"]\n'
        "[project.optional-dependencies]\n"
        'redis = ["demo-backend-redis>=1"]\n'
        'all = ["demo-umbrella[redis]"]\n'
        'docs = ["sphinx"]\n'
        '[project.scripts]\nspine = "demo_umbrella.cli:main"\n',
        package="demo_umbrella",
    )
    write_member(
        tmp_path,
        "adapters/demo-backend-redis",
        '[project]\nname = "demo-backend-redis"\nversion = "1.2.0"\n'
        'dependencies = ["demo-core>=1.2", "redis>=5"]\n'
        '[dependency-groups]\ndev = ["demo-kit", {include-group = "lint"}]\nlint = ["ruff"]\n',
        package="demo_backend_redis",
    )
    write_member(
        tmp_path,
        "adapters/demo-backend-sqlite",
        '[project]\nname = "demo-backend-sqlite"\nversion = "1.2.0"\n'
        'dependencies = ["demo-core>=1.2"]\n'
        "[tool.spine.release]\nservices = []\n",
        package="demo_backend_sqlite",
    )
    return tmp_path


@pytest.fixture
def add_member() -> Callable[..., Path]:
    """:func:`write_member`, for tests that grow a workspace."""
    return write_member
