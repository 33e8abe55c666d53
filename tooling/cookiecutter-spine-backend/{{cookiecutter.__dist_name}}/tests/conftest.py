{%- set P = cookiecutter.__class_prefix -%}
{%- set slug = cookiecutter.backend_slug -%}
"""Where the tests find a server: probed once, skipped when unreachable.

`server_url` is the URL in {{ cookiecutter.__env_var }} when that is set, else the
default URL. The in-process stand-in answers any URL, so the conformance kit runs with no
server at all. Once the driver is wired in, a server that does not answer skips these tests
with the reason, or fails them when the variable is set and SPINE_REQUIRE_SERVICES=1 (CI).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from {{ cookiecutter.__module }}._connection import (
    DEFAULT_URL,
    URL_ENV,
    check_url,
    drop_namespace,
    ping,
)
from spine_core.spi import redact_text, redact_url
from spine_testing import services


def _unreachable(url: str) -> str | None:
    """Why the server at `url` cannot be used, or None when it answers."""
    try:
        asyncio.run(ping(url))
    except Exception as exc:  # whatever the driver raises, its message is the reason
        return redact_text(f"{type(exc).__name__}: {exc}")
    return None


@pytest.fixture(scope="session")
def server_url() -> str:
    """URL of a {{ cookiecutter.backend_name }} server that answered a ping; skips otherwise."""
    explicit = os.environ.get(URL_ENV, "").strip()
    url = check_url(explicit or DEFAULT_URL)  # a malformed URL is an error, not a skip
    problem = _unreachable(url)
    if problem is not None:
        message = f"no {{ cookiecutter.backend_name }} server at {redact_url(url)}: {problem}"
        if not explicit:
            message += f" (set {URL_ENV} to test against one)"
        if explicit and services.require_services():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return url


@pytest_asyncio.fixture
async def namespaces(server_url: str) -> AsyncIterator[list[str]]:
    """Collects the namespaces a test's stores use, and deletes them from the server afterwards.

    Tests share a server, so each one deletes exactly what it made and nothing else.
    """
    used: list[str] = []
    yield used
    for namespace in sorted(set(used)):
        await drop_namespace(server_url, namespace)
