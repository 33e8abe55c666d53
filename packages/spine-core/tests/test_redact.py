"""Secrets never reach messages, reprs or logs."""

from __future__ import annotations

import logging

import pytest

from spine_core import BackendUnavailable
from spine_core._redact import redact_text, redact_url
from spine_core._retry import retry_transient


@pytest.mark.parametrize(
    "url",
    [
        "redis://:hunter2@h:6379/0",
        "postgresql://app:hunter2@db/x?sslmode=require",
        "qdrant://h:6333?api_key=hunter2",
        "postgresql://db/x?password=hunter2",
    ],
)
def test_urls_are_redacted(url: str) -> None:
    assert "hunter2" not in redact_url(url)
    assert "hunter2" not in redact_text(f"failed to connect to {url}: refused")


def test_user_without_password_is_kept() -> None:
    assert redact_url("postgresql://app@db/x") == "postgresql://app@db/x"


async def test_retries_are_bounded_and_redacted(caplog: pytest.LogCaptureFixture) -> None:
    calls = 0

    async def flaky() -> None:
        nonlocal calls
        calls += 1
        raise ConnectionError("redis://:hunter2@h refused")

    with (
        caplog.at_level(logging.WARNING, logger="spine"),
        pytest.raises(BackendUnavailable) as info,
    ):
        await retry_transient(flaky, transient=(ConnectionError,), what="redis", base_delay=0.001)
    assert calls == 3
    assert "hunter2" not in str(info.value)
    assert info.value.__cause__ is None
    assert "hunter2" not in caplog.text


SENTINEL_PARTS = ("S3C", "RETpw")


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://app:S3C@RETpw@127.0.0.1:5432/test",
        "postgres://app:S3C@RETpw@127.0.0.1/test?sslmode=disable",
        "redis://:S3C@RETpw@127.0.0.1:6379/0",
        "rediss://user:S3C@RETpw@[::1]:6380/0",
    ],
)
def test_an_at_sign_in_a_password_never_leaks_its_tail(url: str) -> None:
    # libpq and redis split the user info at the LAST '@' before the host.
    for shown in (redact_url(url), redact_text(url), redact_text(f"cannot reach {url}: no")):
        assert not any(part in shown for part in SENTINEL_PARTS), shown
        assert "127.0.0.1" in shown or "::1" in shown


@pytest.mark.parametrize(
    "dsn",
    [
        "host=127.0.0.1 user=app password=S3CRETpw dbname=test",
        "host=127.0.0.1 password = S3CRETpw dbname=test",
        "host=127.0.0.1 password='S3CRET pw' dbname=test",
        r"host=127.0.0.1 password='S3CRET\' pw' dbname=test",
        "host=127.0.0.1 sslpassword=S3CRETpw dbname=test",
        "postgresql://db/x?sslpassword=S3CRETpw&sslmode=require",
        "postgresql://db/x?token=S3CRETpw",
    ],
)
def test_key_value_secrets_are_redacted(dsn: str) -> None:
    shown = redact_text(dsn)
    assert "S3CRET" not in shown
    assert "pw'" not in shown
    assert "host=127.0.0.1" in shown or "//db/x" in shown


@pytest.mark.parametrize(
    "text",
    [
        '{"headers": {"api-key": "S3CRETpw", "host": "x"}}',
        "api-key: S3CRETpw\r\nhost: x",
        "Authorization: Bearer S3CRETpw",
        '{"authorization": "Basic S3CRETpw"}',
        "X-Api-Key=S3CRETpw",
    ],
)
def test_header_secrets_are_redacted(text: str) -> None:
    assert "S3CRET" not in redact_text(text), redact_text(text)


def test_known_secrets_are_removed_even_when_no_pattern_matches() -> None:
    from spine_core._redact import redact_secrets

    message = 'invalid percent-encoding in "S3CRET%pw"'
    assert "S3CRET" not in redact_secrets(message, ["S3CRET%pw"])
    assert redact_secrets(message, ["", None]) == message
