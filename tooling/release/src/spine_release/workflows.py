"""Per-distribution publish workflows, generated from one template."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from spine_release.workspace import Distribution, discover, find_root

WORKFLOWS_DIR = Path(".github/workflows")
TEMPLATE = "publish.yml.tmpl"
#: Python the publish jobs test and build with.
PUBLISH_PYTHON = "3.13"

#: Every action the workflows use, pinned to a release commit. Bump them here,
#: regenerate, and copy the same lines into ci.yml / release.yml (a test checks
#: that every ``uses:`` in .github/workflows appears in this table).
ACTIONS: dict[str, str] = {
    "checkout": "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1",
    "setup_uv": "astral-sh/setup-uv@c18668ad3cf93ea998bef934396af7bb5c839dc7 # v10.2.0",
    "upload_artifact": "actions/upload-artifact@043fb46d1a93c77aae656e7c1c64a875d1fc6a0a # v7.0.1",
    "download_artifact": (
        "actions/download-artifact@3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c # v8.0.1"
    ),
    "attest_build_provenance": (
        "actions/attest-build-provenance@0f67c3f4856b2e3261c31976d6725780e5e4c373 # v4.1.1"
    ),
    "pypi_publish": (
        "pypa/gh-action-pypi-publish@dc37677b2e1c63e2034f94d8a5b11f265b73ba33 # v1.14.2"
    ),
}


@dataclass(frozen=True)
class Container:
    """A service container a job starts, and the variable that points the tests at it."""

    id: str
    image: str
    port: int
    """Host port (the runner's side of the mapping)."""
    container_port: int
    env_var: str
    url: str
    health_cmd: str | None = None
    env: tuple[tuple[str, str], ...] = ()


# Tests talk to real servers (DESIGN.md §5). Each service brings the modern server
# the stores use and, where one exists, the "legacy" server the memory stores must
# refuse (Redis 7 without vector sets, PostgreSQL without pgvector); all URLs are
# explicit, so the kit's defaults for the local machine never apply on a runner.
_PG_ENV = (("POSTGRES_USER", "spine"), ("POSTGRES_PASSWORD", "spine"), ("POSTGRES_DB", "spine"))
SERVICE_CONTAINERS: dict[str, tuple[Container, ...]] = {
    "redis": (
        Container(
            "redis",
            "redis:8",
            6379,
            6379,
            "SPINE_REDIS_URL",
            "redis://127.0.0.1:6379/0",
            health_cmd="redis-cli ping",
        ),
        Container(
            "legacy-redis",
            "redis:7",
            6378,
            6379,
            "SPINE_LEGACY_REDIS_URL",
            "redis://127.0.0.1:6378/0",
            health_cmd="redis-cli ping",
        ),
    ),
    "postgres": (
        Container(
            "postgres",
            "pgvector/pgvector:pg18",
            5432,
            5432,
            "SPINE_POSTGRES_URL",
            "postgresql://spine:spine@127.0.0.1:5432/spine",
            health_cmd="pg_isready -U spine -d spine",
            env=_PG_ENV,
        ),
        Container(
            "legacy-postgres",
            "postgres:15",
            5431,
            5432,
            "SPINE_LEGACY_POSTGRES_URL",
            "postgresql://spine:spine@127.0.0.1:5431/spine",
            health_cmd="pg_isready -U spine -d spine",
            env=_PG_ENV,
        ),
    ),
    "qdrant": (
        # The image has no HTTP client for a health command; a step waits for /readyz.
        Container(
            "qdrant",
            "qdrant/qdrant:v1.16.2",
            6333,
            6333,
            "SPINE_QDRANT_URL",
            "http://127.0.0.1:6333",
        ),
    ),
}


class DriftError(Exception):
    """Workflows on disk differ from what the generator writes."""


def containers_for(dist: Distribution) -> list[Container]:
    """The service containers ``dist``'s tests need, in a stable order."""
    return [c for service in dist.services for c in SERVICE_CONTAINERS[service]]


def render_workflow(dist: Distribution) -> str:
    """The publish workflow for ``dist``, as the generator writes it."""
    containers = containers_for(dist)
    values = {
        "name": dist.name,
        "path": dist.path.as_posix(),
        "python": PUBLISH_PYTHON,
        **ACTIONS,
    }
    blocks = {
        "services_block": _services_block(containers),
        "service_env_block": [f"{c.env_var}: {c.url}" for c in containers],
        "service_wait_block": _wait_block(containers),
    }
    return _render(_template(), values, blocks)


def expected_workflows(root: Path) -> dict[Path, str]:
    """Repository-relative path -> content, for every distribution of the workspace."""
    return {WORKFLOWS_DIR / d.workflow_file: render_workflow(d) for d in discover(root)}


def write_workflow(package_dir: Path | str) -> Path:
    """(Re)write the publish workflow of the distribution in ``package_dir``; return its path.

    For scaffolding: a new adapter's template calls this once its pyproject exists.
    """
    package_dir = Path(package_dir).resolve()
    root = find_root(package_dir)
    rel = package_dir.relative_to(root).as_posix()
    dist = next((d for d in discover(root) if d.path.as_posix() == rel), None)
    if dist is None:
        raise FileNotFoundError(f"{package_dir} is not a distribution of the workspace at {root}")
    target = root / WORKFLOWS_DIR / dist.workflow_file
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_workflow(dist), encoding="utf-8")
    return target


def generate(root: Path) -> list[Path]:
    """Write every publish workflow and delete those of distributions that are gone."""
    expected = expected_workflows(root)
    for rel, content in expected.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.is_file() or target.read_text(encoding="utf-8") != content:
            target.write_text(content, encoding="utf-8")
    for stale in _generated_on_disk(root) - set(expected):
        (root / stale).unlink()
    return sorted(expected)


def drift(root: Path) -> list[str]:
    """What differs between the workflows on disk and the generator's output (empty: none)."""
    problems: list[str] = []
    expected = expected_workflows(root)
    for rel, content in sorted(expected.items()):
        target = root / rel
        if not target.is_file():
            problems.append(f"{rel} is missing")
        elif target.read_text(encoding="utf-8") != content:
            problems.append(f"{rel} differs from the generator's output")
    for stale in sorted(_generated_on_disk(root) - set(expected)):
        problems.append(f"{stale} belongs to no distribution of the workspace")
    return problems


def check(root: Path) -> None:
    """Raise :class:`DriftError` listing every drifted workflow."""
    problems = drift(root)
    if problems:
        raise DriftError(
            "publish workflows are out of date (run `spine-release generate-workflows`):\n  "
            + "\n  ".join(problems)
        )


_GENERATED_MARK = "# Generated by `spine-release generate-workflows`"


def _generated_on_disk(root: Path) -> set[Path]:
    folder = root / WORKFLOWS_DIR
    if not folder.is_dir():
        return set()
    return {
        WORKFLOWS_DIR / p.name
        for p in folder.glob("publish-*.yml")
        if p.read_text(encoding="utf-8").startswith(_GENERATED_MARK)
    }


def _template() -> str:
    return (resources.files("spine_release") / "templates" / TEMPLATE).read_text(encoding="utf-8")


_PLACEHOLDER = re.compile(r"@@\{([a-z_]+)\}")


def _render(template: str, values: dict[str, str], blocks: dict[str, list[str]]) -> str:
    """Fill the template's ``@@{name}`` placeholders.

    A line holding only a block placeholder becomes that block's lines at the
    line's indentation, or disappears when the block is empty.
    """
    out: list[str] = []
    for line in template.splitlines():
        stripped = line.strip()
        block = _PLACEHOLDER.fullmatch(stripped)
        if block and block.group(1) in blocks:
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(f"{indent}{b}" if b else "" for b in blocks[block.group(1)])
            continue

        def fill(match: re.Match[str]) -> str:
            key = match.group(1)
            if key not in values:
                raise KeyError(f"template placeholder @@{{{key}}} has no value")
            return values[key]

        out.append(_PLACEHOLDER.sub(fill, line))
    return "\n".join(out) + "\n"


def _services_block(containers: list[Container]) -> list[str]:
    if not containers:
        return []
    lines = ["services:"]
    for c in containers:
        lines += [f"  {c.id}:", f"    image: {c.image}"]
        if c.env:
            lines.append("    env:")
            lines += [f"      {k}: {v}" for k, v in c.env]
        lines += ["    ports:", f'      - "{c.port}:{c.container_port}"']
        if c.health_cmd:
            lines += [
                "    options: >-",
                f'      --health-cmd "{c.health_cmd}"',
                "      --health-interval 5s",
                "      --health-timeout 5s",
                "      --health-retries 20",
            ]
    return lines


def _wait_block(containers: list[Container]) -> list[str]:
    lines: list[str] = []
    for c in containers:
        if c.health_cmd:
            continue  # the runner already waited for its health check
        lines += [
            f"- name: Wait for {c.id}",
            "  run: |",
            "    for _ in $(seq 1 60); do",
            f"      if curl -fsS {c.url}/readyz >/dev/null; then exit 0; fi",
            "      sleep 1",
            "    done",
            f'    echo "{c.id} did not become ready" >&2',
            "    exit 1",
        ]
    return lines
