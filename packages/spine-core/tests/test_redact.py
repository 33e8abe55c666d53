"""Secrets never reach messages, reprs or logs."""

from __future__ import annotations

import logging

import pytest

from spine_core import BackendUnavailable
from spine_core.redact import redact_text, redact_url
from spine_core.retry import retry_transient


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
