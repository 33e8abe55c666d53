"""No part of a password or API key reaches a repr, info, health, error or CLI output.

Issue 14, defects 1-4: every URL form of every server backend, with a sentinel secret that
holds the characters that broke redaction before (a raw '@', an invalid '%' escape).
Nothing listens on port 9, so every probe fails quickly with the error under test.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from spine_core import open_checkpoint, open_memory
from spine_core.errors import SpineError

PARTS = ("S3C", "RETpw")
"""Both halves of the sentinel password `S3C@RETpw`: neither may ever be shown."""

AT_SIGN_URLS = [
    ("checkpoint", "postgresql://app:S3C@RETpw@127.0.0.1:9/test"),
    ("checkpoint", "postgres://app:S3C@RETpw@127.0.0.1:9/test"),
    ("checkpoint", "redis://:S3C@RETpw@127.0.0.1:9/0"),
    ("checkpoint", "rediss://app:S3C@RETpw@127.0.0.1:9/0"),
    ("memory", "postgresql://app:S3C@RETpw@127.0.0.1:9/test"),
    ("memory", "postgres://app:S3C@RETpw@127.0.0.1:9/test"),
    ("memory", "pgvector://app:S3C@RETpw@127.0.0.1:9/test"),
    ("memory", "redis://:S3C@RETpw@127.0.0.1:9/0"),
    ("memory", "rediss://app:S3C@RETpw@127.0.0.1:9/0"),
    ("checkpoint", "postgresql://127.0.0.1:9/test?password=S3C@RETpw"),
    ("memory", "postgresql://127.0.0.1:9/test?sslpassword=S3C@RETpw&sslmode=disable"),
    ("memory", "qdrant://127.0.0.1:9?api_key=S3C@RETpw"),
    ("memory", "qdrant://127.0.0.1:9?api_key=S3C%40RETpw"),
]


def _clean(text: object) -> None:
    shown = str(text)
    for part in PARTS:
        assert part not in shown, shown


def _open(kind: str, url: str, **options: Any) -> Any:
    if not url.startswith("qdrant"):
        options["retries"] = 1  # fail fast; Qdrant's client has its own bound
    return (open_checkpoint if kind == "checkpoint" else open_memory)(url, **options)


@pytest.mark.filterwarnings("ignore:Api key is used with an insecure connection")
@pytest.mark.parametrize(("kind", "url"), AT_SIGN_URLS)
async def test_no_surface_shows_any_part_of_the_password(kind: str, url: str) -> None:
    store = _open(kind, url)
    try:
        _clean(repr(store))
        info = store.info()
        _clean(info)
        assert info.target is not None
        assert "127.0.0.1" in info.target  # the host, not the password's tail
        health = await store.health()
        assert not health.ok
        _clean(health)
        call = store.get("s") if kind == "checkpoint" else store.search("q")
        with pytest.raises(SpineError) as raised:
            await call
        _clean(raised.value)
        _clean(repr(raised.value))
    finally:
        await store.aclose()


@pytest.mark.parametrize("kind", ["checkpoint", "memory"])
@pytest.mark.parametrize(
    "target",
    [
        "postgresql://app:S3CRET%pw@127.0.0.1:9/test",
        "postgresql://app:S3CRET%zzpw@127.0.0.1:9/test",
        "host=127.0.0.1 user=app password=S3CRETpw dbname=test",
        "host=127.0.0.1 user=app password='S3CRET pw' dbname=test",
        "dbname=test sslpassword=S3CRETpw",
    ],
)
def test_a_refused_target_is_not_echoed(kind: str, target: str) -> None:
    with pytest.raises(SpineError) as raised:
        _open(kind, target)
    assert "S3CRET" not in str(raised.value)
    assert "pw" not in str(raised.value).replace("password", "")


def test_the_at_sign_password_reaches_the_server_whole() -> None:
    # libpq itself splits at the FIRST '@'; Spine percent-encodes the rest of the user info
    # so the server sees the password the URL spelled, and the host it named.
    from psycopg.conninfo import conninfo_to_dict

    from spine_backend_postgres._config import parse_target

    target = parse_target("postgresql://app:S3C@RETpw@127.0.0.1:5432/test")
    params = conninfo_to_dict(target.dsn)
    assert params["password"] == "S3C@RETpw"
    assert params["host"] == "127.0.0.1"
    assert params["user"] == "app"
    assert target.where == "PostgreSQL at 127.0.0.1:5432/test"


@pytest.mark.parametrize("as_json", [False, True])
@pytest.mark.parametrize(
    "target",
    [
        "postgresql://app:S3CRET%pw@127.0.0.1:9/test",
        "postgresql://app:S3C@RETpw@127.0.0.1:9/test",
        "host=127.0.0.1 user=app password=S3CRETpw dbname=test",
    ],
)
def test_doctor_never_prints_the_password(
    spine: Callable[..., Any], workdir: Path, target: str, as_json: bool
) -> None:
    config = workdir / "spine.toml"
    config.write_text(
        f"[spine.backends]\ncheckpoint = {json.dumps(target)}\nmemory = {json.dumps(target)}\n",
        encoding="utf-8",
    )
    result = spine("doctor", "--config", str(config), *(["--json"] if as_json else []))
    assert result.code != 0
    for part in ("S3C", "RETpw", "S3CRET"):
        assert part not in result.out + result.err


@pytest.mark.parametrize(
    "target",
    [
        "postgresql://app:S3CRET%pw@127.0.0.1:9/test",
        "host=127.0.0.1 user=app password=S3CRETpw dbname=test",
    ],
)
def test_check_never_prints_the_password(spine: Callable[..., Any], target: str) -> None:
    result = spine("check", target)
    assert result.code != 0
    assert "S3CRET" not in result.out + result.err
