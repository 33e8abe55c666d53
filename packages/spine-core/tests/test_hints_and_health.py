"""Typed answers where a user would otherwise get a traceback: scheme typos, a missing
driver, and a health probe that tells "cannot serve" from "not there"."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from pydantic import ValidationError

from spine_core import ConfigError, Health, UnsupportedServer, open_checkpoint, open_memory
from spine_core._reference import InMemoryCheckpointStore


@pytest.mark.parametrize(
    ("url", "suggestion"),
    [
        ("redsi://localhost:6379", "redis://"),
        ("postgersql://localhost/db", "postgresql://"),
        ("sqlit:///agent.db", "sqlite://"),
    ],
)
def test_a_scheme_typo_gets_did_you_mean(url: str, suggestion: str) -> None:
    with pytest.raises(ConfigError, match=rf"did you mean {suggestion}\?"):
        open_checkpoint(url)


def test_an_unrelated_scheme_gets_no_guess() -> None:
    with pytest.raises(ConfigError) as caught:
        open_memory("zzzzzz://host")
    assert "did you mean" not in str(caught.value)
    assert "known:" in str(caught.value)


# Hides one driver from the import system, as if it were not installed, then opens a URL.
_BLOCKED = textwrap.dedent(
    """
    import sys

    class Blocker:
        def find_spec(self, name, path=None, target=None):
            if name == {driver!r} or name.startswith({driver!r} + "."):
                raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
            return None

    sys.meta_path.insert(0, Blocker())
    from spine_core import ConfigError, open_{kind}, resolve_{kind}
    try:
        open_{kind}({url!r}) if {url!r} else resolve_{kind}({name!r})
    except ConfigError as exc:
        print("ConfigError:", exc)
    else:
        print("opened")
    """
)


@pytest.mark.parametrize(
    ("driver", "kind", "url", "name", "extra"),
    [
        ("redis", "checkpoint", "redis://127.0.0.1:1/0", "", "spine-backends[redis]"),
        ("psycopg", "checkpoint", "postgresql://127.0.0.1:1/db", "", "spine-backends[postgres]"),
        ("qdrant_client", "memory", "qdrant+local://", "", "spine-backends[qdrant]"),
        # spinekit's registry call, by name
        ("redis", "checkpoint", "", "redis", "spine-backends[redis]"),
        ("psycopg", "memory", "", "pgvector", "spine-backends[postgres]"),
    ],
)
def test_a_missing_driver_is_a_config_error_with_the_install_hint(
    driver: str, kind: str, url: str, name: str, extra: str
) -> None:
    code = _BLOCKED.format(driver=driver, kind=kind, url=url, name=name)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ConfigError:"), done.stdout
    assert f'pip install "{extra}"' in done.stdout
    assert "ModuleNotFoundError" not in done.stdout + done.stderr


def test_an_installed_driver_opens_without_io() -> None:
    # The check reads import metadata only: the port is closed and nothing connects yet.
    store = open_checkpoint("redis://127.0.0.1:1/0")
    assert type(store).__name__ == "RedisCheckpoint"


def test_health_status_follows_ok_and_back() -> None:
    assert Health(ok=True).status == "ok"
    assert Health(ok=False).status == "unavailable"
    assert Health(status="unsupported").ok is False
    assert Health(status="ok").ok is True
    with pytest.raises(ValidationError, match="contradicts"):
        Health(ok=True, status="unsupported")


class _RefusingStore(InMemoryCheckpointStore):
    """Answers, but cannot serve: what memory on Redis 7 or PostgreSQL without pgvector is."""

    async def _ping(self) -> None:
        raise UnsupportedServer("needs a feature this server lacks")


class _MisconfiguredStore(InMemoryCheckpointStore):
    """Configured wrong (a path that cannot be a database): not the server's fault."""

    async def _ping(self) -> None:
        raise ConfigError("not a directory")


class _DownStore(InMemoryCheckpointStore):
    async def _ping(self) -> None:
        raise ConnectionError("refused")


async def test_health_says_unsupported_for_a_server_that_cannot_serve() -> None:
    health = await _RefusingStore().health()
    assert (health.ok, health.status) == (False, "unsupported")
    assert "lacks" in (health.error or "")


async def test_health_says_unavailable_for_a_bad_configuration() -> None:
    health = await _MisconfiguredStore().health()
    assert (health.ok, health.status) == (False, "unavailable")


def test_unsupported_server_is_a_config_error() -> None:
    assert issubclass(UnsupportedServer, ConfigError)


async def test_health_says_unavailable_for_a_server_that_is_down() -> None:
    health = await _DownStore().health()
    assert (health.ok, health.status) == (False, "unavailable")


async def test_health_of_a_working_store_is_ok() -> None:
    health = await InMemoryCheckpointStore().health()
    assert (health.ok, health.status) == (True, "ok")
