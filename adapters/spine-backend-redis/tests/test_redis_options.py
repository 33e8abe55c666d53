"""Bad Redis URLs and unknown options are a ConfigError at construction (issue 14, defect 17).

Before: `redis://[::1/0` raised a raw ValueError, and an unknown option (in the URL query or
as a keyword) a raw TypeError at the first command.
"""

from __future__ import annotations

import pytest

from spine_backend_redis import RedisCheckpoint, RedisMemory
from spine_core import ConfigError, open_checkpoint, open_memory
from spine_testing.faults import hide_modules

STORES = [RedisCheckpoint, RedisMemory]


@pytest.mark.parametrize("store", STORES)
@pytest.mark.parametrize(
    "url",
    [
        "redis://[::1/0",
        "redis://localhost:6379/0?bogus_option=1",
        "rediss://:S3CRETpw@localhost:6380/0?bogus_option=1",
    ],
)
def test_a_bad_url_is_refused_at_construction(store: type, url: str) -> None:
    with pytest.raises(ConfigError) as raised:
        store(url)
    assert "S3CRET" not in str(raised.value)
    opener = open_checkpoint if store is RedisCheckpoint else open_memory
    with pytest.raises(ConfigError):
        opener(url)


@pytest.mark.parametrize("store", STORES)
def test_an_unknown_keyword_option_is_refused_at_construction(store: type) -> None:
    with pytest.raises(ConfigError, match="bogus_option"):
        store("redis://localhost:6379/0", bogus_option=1)


@pytest.mark.parametrize("store", STORES)
async def test_known_client_options_still_work(store: type, redis_url: str) -> None:
    sep = "&" if "?" in redis_url else "?"
    built = store(f"{redis_url}{sep}health_check_interval=5", socket_keepalive=True)
    try:
        health = await built.health()
        assert health.ok, health.error
    finally:
        await built.aclose()


@pytest.mark.parametrize("path", ["/notadb", "/0x1", "/-1", "/?db=x"])
def test_a_database_that_is_not_a_number_is_refused(path: str) -> None:
    # redis-py silently used database 0 for these (issue 14, defect 18).
    with pytest.raises(ConfigError, match="must be a number"):
        RedisCheckpoint(f"redis://127.0.0.1:6379{path}")


async def test_a_database_the_server_lacks_is_a_config_error(redis7: str) -> None:
    from urllib.parse import urlsplit, urlunsplit

    store = RedisCheckpoint(urlunsplit(urlsplit(redis7)._replace(path="/9999")))
    with pytest.raises(ConfigError, match="no such database"):
        await store.get("s")
    await store.aclose()


@pytest.mark.parametrize("cls", [RedisCheckpoint, RedisMemory])
def test_a_missing_driver_is_one_config_error_with_the_install_hint(
    cls: type, monkeypatch: pytest.MonkeyPatch
) -> None:
    hide_modules(monkeypatch, "redis")  # as after `pip install --no-deps spine-backend-redis`
    with pytest.raises(
        ConfigError, match=r'provides .redis.*pip install "spine-backends\[redis\]"'
    ):
        cls("redis://127.0.0.1:6379/0")
