"""Servers for the Redis adapter's tests, on top of the spine_testing plugin's fixtures.

`redis8` is Redis ≥ 8 with vector sets (the plugin's `redis_url`), `redis7` the machine's
Redis 7 without them (`legacy_redis_url`). Each is probed once with redis-py itself: a server
the plugin found but this driver cannot use skips (or fails under SPINE_REQUIRE_SERVICES=1)
with the reason. Every test writes only under namespaces that start with its own
`unique_prefix`, and deletes only keys under those (SCAN + DEL; never FLUSHDB).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from spine_core.spi import redact_url
from spine_testing.plugin import skip_or_fail


def _probe(url: str, *, need_vector_sets: bool) -> str:
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=10) as client:
            client.ping()
            if need_vector_sets:
                client.execute_command("VCARD", "spine-probe-no-such-key")
    except redis.ResponseError as exc:
        return f"no vector sets ({exc})"
    except redis.RedisError as exc:
        return f"{type(exc).__name__}: {exc}"
    return ""


def _usable(url: str, *, need_vector_sets: bool) -> str:
    problem = _probe(url, need_vector_sets=need_vector_sets)
    if problem:
        message = f"Redis at {redact_url(url)} is not usable: {problem}"
        skip_or_fail(message)
    return url


@pytest.fixture(scope="session")
def redis8(redis_url: str) -> str:
    """Redis ≥ 8 with vector sets."""
    return _usable(redis_url, need_vector_sets=True)


@pytest.fixture(scope="session")
def redis7(legacy_redis_url: str) -> str:
    """The machine's Redis 7 (no vector sets)."""
    return _usable(legacy_redis_url, need_vector_sets=False)


def keys_under(url: str, prefix: str) -> list[bytes]:
    """Every key of every namespace starting with `prefix` (default key prefix `spine`)."""
    assert prefix.startswith("spt_"), prefix
    with redis.Redis.from_url(url) as client:
        return sorted(client.scan_iter(match=f"{{spine:{prefix}*", count=1000))


def delete_under(url: str, prefix: str) -> None:
    """Delete the keys of namespaces starting with `prefix`: this test's own, nothing else."""
    found = keys_under(url, prefix)
    with redis.Redis.from_url(url) as client:
        for start in range(0, len(found), 500):
            client.delete(*found[start : start + 500])


def _cleaned(url: str, prefix: str) -> Iterator[str]:
    yield prefix
    delete_under(url, prefix)


@pytest.fixture
def ns8(redis8: str, unique_prefix: str) -> Iterator[str]:
    """A namespace prefix on Redis 8 whose keys are deleted after the test."""
    yield from _cleaned(redis8, unique_prefix)


@pytest.fixture
def ns7(redis7: str, unique_prefix: str) -> Iterator[str]:
    """A namespace prefix on Redis 7 whose keys are deleted after the test."""
    yield from _cleaned(redis7, unique_prefix)


def scoped_factory(store_class: Any, url: str, prefix: str, **fixed: Any) -> Callable[..., Any]:
    """`factory(**options)` for the kit, keeping every namespace under `prefix`.

    The kit passes fresh namespaces of its own (`spk_…`) to prove isolation; mapping each to
    `<prefix>_<name>` keeps equal names equal and distinct names distinct, while every key
    stays under this test's prefix, so the cleanup above removes all of it.
    """

    def factory(**options: Any) -> Any:
        namespace = options.pop("namespace", None)
        scoped = prefix if namespace is None else f"{prefix}_{namespace}"
        return store_class.from_url(url, **{**fixed, **options, "namespace": scoped})

    return factory


@pytest.fixture(scope="session")
def make_factory() -> Callable[..., Callable[..., Any]]:
    """`scoped_factory` for test modules (conftest helpers are not importable by name)."""
    return scoped_factory


@pytest.fixture(scope="session")
def list_keys() -> Callable[[str, str], list[bytes]]:
    """`keys_under(url, prefix)`: the keys a test wrote."""
    return keys_under
