"""Connection settings that no retry can fix are a ConfigError at once (issue 14, defect 18)."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit, urlunsplit

import pytest

from spine_backend_postgres import PgVectorMemory, PostgresCheckpoint
from spine_core import ConfigError


def _with(url: str, *, netloc: str | None = None, query: str | None = None) -> str:
    parts = urlsplit(url)
    return urlunsplit(
        parts._replace(
            netloc=parts.netloc if netloc is None else netloc,
            query=parts.query if query is None else query,
        )
    )


def _bad_urls(url: str) -> dict[str, str]:
    host = urlsplit(url).hostname or "127.0.0.1"
    port = urlsplit(url).port or 5432
    return {
        "sslmode": _with(url, query="sslmode=bogus"),
        "port": _with(url, netloc=f"postgres@{host}:99999"),
        "role": _with(url, netloc=f"spt_no_such_role:S3CRETpw@{host}:{port}"),
        "database": urlunsplit(urlsplit(url)._replace(path="/spt_no_such_database")),
    }


@pytest.mark.parametrize("what", ["sslmode", "port", "role", "database"])
@pytest.mark.parametrize("store_class", [PostgresCheckpoint, PgVectorMemory])
async def test_misconfiguration_is_a_config_error_without_retries(
    pg_url: str, what: str, store_class: type, caplog: pytest.LogCaptureFixture
) -> None:
    url = _bad_urls(pg_url)[what]
    caplog.set_level(logging.DEBUG)
    store = store_class(url)
    first_use = store.get("s") if store_class is PostgresCheckpoint else store.load("s")
    with pytest.raises(ConfigError) as info:
        await first_use
    await store.aclose()
    assert "S3CRETpw" not in str(info.value)
    assert "retrying" not in caplog.text, "a configuration error was retried"
    assert "S3CRETpw" not in caplog.text
