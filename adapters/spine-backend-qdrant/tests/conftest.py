"""Fixtures for the Qdrant adapter: local mode always, a server when one is reachable.

Embedded modes (qdrant-client in memory and on disk, qdrant-edge on disk) need no server, so
those tests always run.
Server tests use the kit's `qdrant_url` (from SPINE_QDRANT_URL; it skips without one, even in
CI), probed once more here so an unreachable server skips instead of failing every test with a
connection error. Server tests only touch collections named after `unique_prefix`, and drop them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from spine_backend_qdrant import QdrantMemory
from spine_core.spi import redact_text
from spine_testing import services
from spine_testing.plugin import skip_or_fail

if TYPE_CHECKING:
    from qdrant_client import QdrantClient

MODES = ("memory", "disk", "client-disk", "server")
"""qdrant-client in memory, qdrant-edge on disk (the default), qdrant-client on disk, a server."""


def _server_options(url: str) -> dict[str, Any]:
    """Store options for a server URL in any form the kit's fixture may give."""
    from spine_backend_qdrant._target import parse_url

    return parse_url(str(url))


def _raw_client(url: str) -> QdrantClient:
    """A plain synchronous client for the server behind a store URL (same key handling)."""
    from qdrant_client import QdrantClient

    target = QdrantMemory(**_server_options(url))._where
    return QdrantClient(
        url=target.url,
        https=target.https,
        api_key=target.api_key,
        timeout=5,
        check_compatibility=False,
    )


def _probe(url: str) -> str | None:
    """None when the server answers an authenticated call, else why it does not."""
    try:
        client = _raw_client(url)
        try:
            client.get_collections()
        finally:
            client.close()
    except Exception as exc:
        return redact_text(f"{type(exc).__name__}: {exc}")[:300]
    return None


@pytest.fixture(scope="session")
def qdrant_server(qdrant_url: str) -> str:
    """The kit's Qdrant URL, once the server has answered; skips (or fails when required)."""
    reason = _probe(qdrant_url)
    if reason is not None:
        message = f"qdrant at {services.redact_url(str(qdrant_url))} unreachable: {reason}"
        skip_or_fail(message)
    return qdrant_url


@pytest.fixture
def server_options(qdrant_server: str) -> dict[str, Any]:
    """QdrantMemory options (url, api key, ...) for the reachable test server."""
    return _server_options(qdrant_server)


@pytest.fixture
def drop_collections(qdrant_server: str) -> Iterator[list[str]]:
    """Namespaces a server test created; their collections are dropped afterwards."""
    created: list[str] = []
    yield created
    if not created:
        return
    client = _raw_client(qdrant_server)
    try:
        for namespace in set(created):
            client.delete_collection(f"spine_{namespace}")
    finally:
        client.close()


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    """Each place a QdrantMemory can keep its data."""
    return str(request.param)


@pytest.fixture
def make_store(
    mode: str,
    tmp_path: Path,
    unique_prefix: str,
    request: pytest.FixtureRequest,
) -> Callable[..., QdrantMemory]:
    """`make_store(**options)`: a new, unopened store in `mode`; equal options share data."""
    fixed: dict[str, Any]
    if mode == "memory":
        fixed = {"location": ":memory:"}
    elif mode == "disk":
        fixed = {"path": tmp_path / "qdrant"}
    elif mode == "client-disk":
        fixed = {"path": tmp_path / "qdrant", "engine": "client"}
    else:
        fixed = request.getfixturevalue("server_options")
        created: list[str] = request.getfixturevalue("drop_collections")

    def factory(**options: Any) -> QdrantMemory:
        opts = {**fixed, "namespace": unique_prefix, **options}
        if mode == "server":
            created.append(opts["namespace"])
        return QdrantMemory(**opts)

    return factory
