"""Every store's options are one model: URL query and keywords meet there (issue 11, item 4).

For each first-party store: a URL query value and the same keyword reach the same model value;
a bad value is one `ConfigError` naming the option, the value and what is allowed; an unknown
option gets a suggestion; a secret never appears in an error, `info()` or a repr. Stores are
only constructed (no I/O), so no server is needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import ValidationError

from spine_backend_postgres import PgVectorMemory, PostgresCheckpoint
from spine_backend_qdrant import QdrantMemory
from spine_backend_redis import RedisCheckpoint, RedisMemory
from spine_backend_sqlite import SQLiteCheckpoint, SQLiteMemory
from spine_core import (
    BufferMemory,
    ConfigError,
    InMemoryCheckpointStore,
    InMemoryVectorMemory,
    open_checkpoint,
    open_memory,
)
from spine_core.spi import StoreOptions

SECRET = "S3cr3t-never-shown"


@dataclass(frozen=True)
class Case:
    store: Any
    url: str
    option: str
    raw: str  # as the URL query spells it
    typed: Any  # as a keyword gives it
    bad: Any  # a keyword value outside the allowed range
    allowed: str  # how the error spells the range or the choices
    kind: str = "checkpoint"


CASES = [
    Case(InMemoryCheckpointStore, "memory://", "default_ttl", "30", 30.0, "soon", "number"),
    Case(InMemoryVectorMemory, "vector://", "dim", "64", 64, 0, "> 0", "memory"),
    Case(BufferMemory, "buffer://", "namespace", "notes", "notes", 7, "string", "memory"),
    Case(SQLiteCheckpoint, "sqlite://", "busy_timeout", "2.5", 2.5, -1, ">= 0"),
    Case(SQLiteMemory, "sqlite://", "busy_timeout", "0.5", 0.5, -1, ">= 0", "memory"),
    Case(RedisCheckpoint, "redis://localhost:6379/0", "retries", "5", 5, 0, "> 0"),
    Case(RedisMemory, "redis://localhost:6379/0", "scan_share", "0.25", 0.25, 2, "<= 1", "memory"),
    Case(PostgresCheckpoint, "postgresql://u@127.0.0.1:1/db", "pool_max_size", "20", 20, 0, "> 0"),
    Case(
        PgVectorMemory,
        "postgresql://u@127.0.0.1:1/db",
        "ef_search",
        "300",
        300,
        5000,
        ">= 1 and <= 1000",
        "memory",
    ),
    Case(QdrantMemory, "qdrant+local://", "hnsw_ef", "64", 64, 0, "> 0", "memory"),
]
IDS = [c.store.__name__ for c in CASES]


def _with(url: str, query: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{query}"


def _open(case: Case, url: str, **options: Any) -> Any:
    return (open_checkpoint if case.kind == "checkpoint" else open_memory)(url, **options)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_url_query_and_keyword_reach_the_same_model_value(case: Case) -> None:
    by_query = case.store.from_url(_with(case.url, f"{case.option}={case.raw}"))
    by_keyword = case.store.from_url(case.url, **{case.option: case.typed})
    assert isinstance(by_query.options, StoreOptions)
    assert by_query.options == by_keyword.options
    assert by_query.options.details()[case.option] == case.typed
    assert by_query.info().options == by_keyword.info().options
    # Keywords win over the query.
    both = case.store.from_url(
        _with(case.url, f"{case.option}={case.raw}"), **{case.option: case.typed}
    )
    assert both.options == by_keyword.options
    with pytest.raises(ValidationError, match="frozen"):
        by_query.options.namespace = "changed"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_bad_value_names_the_option_the_value_and_the_range(case: Case) -> None:
    with pytest.raises(ConfigError) as raised:
        case.store.from_url(case.url, **{case.option: case.bad})
    message = str(raised.value)
    assert case.store.__name__ in message
    assert f"{case.option}={case.bad!r}" in message
    assert case.allowed in message
    with pytest.raises(ConfigError) as by_open:
        _open(case, case.url, **{case.option: case.bad})
    assert f"{case.option}=" in str(by_open.value)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_an_unknown_option_gets_a_suggestion(case: Case) -> None:
    with pytest.raises(ConfigError, match=r"did you mean 'namespace'\?") as raised:
        case.store.from_url(_with(case.url, "namespce=x"))
    assert "namespace" in str(raised.value).split("did you mean", 1)[1]
    with pytest.raises(ConfigError, match=r"did you mean 'namespace'\?"):
        _open(case, case.url, namespce="x")


def test_the_range_of_a_choice_lists_the_choices() -> None:
    with pytest.raises(ConfigError, match=r"quantization='q4'.*'q8'.*'noquant'.*'bin'"):
        RedisMemory("redis://localhost:6379/0", quantization="q4")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"iterative_scan=.*'relaxed_order'"):
        PgVectorMemory("postgresql://u@h/db", iterative_scan="sideways")  # type: ignore[arg-type]


def test_a_rule_across_options_is_one_config_error() -> None:
    with pytest.raises(ConfigError, match=r"pool_min_size \(5\) exceeds pool_max_size \(2\)"):
        PostgresCheckpoint("postgresql://u@h/db", pool_min_size=5, pool_max_size=2)
    with pytest.raises(ConfigError, match=r"hnsw_ef_construction \(8\) must be at least"):
        PgVectorMemory("postgresql://u@h/db", hnsw_m=16, hnsw_ef_construction=8)


def test_a_keyword_of_the_wrong_type_is_not_coerced() -> None:
    # A URL spells everything as text; code passing text (or a bool for an int) is a mistake.
    with pytest.raises(ConfigError, match=r"search_ef='500'"):
        RedisMemory("redis://localhost:6379/0", search_ef="500")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"hnsw_ef=True"):
        QdrantMemory(hnsw_ef=True)


def test_a_secret_option_is_never_echoed() -> None:
    url = "qdrant://localhost:6333"
    store = QdrantMemory.from_url(_with(url, f"api_key={SECRET}"))
    assert store.options.api_key is not None
    assert store.options.api_key.get_secret_value() == SECRET
    shown = [repr(store), repr(store.options), str(store.info()), str(store.options.details())]
    assert not any(SECRET in text for text in shown), shown
    assert "api_key" not in store.info().options
    with pytest.raises(ConfigError) as raised:
        QdrantMemory(url=url, api_key=SECRET.encode())  # type: ignore[arg-type]
    assert "api_key='***'" in str(raised.value)
    assert SECRET not in str(raised.value)
    with pytest.raises(ConfigError) as raised:
        open_memory(_with(url, f"api_key={SECRET}&hnsw_ef=0"))
    assert SECRET not in str(raised.value)
    assert "hnsw_ef='0'" in str(raised.value)


@pytest.mark.parametrize(
    ("store", "url"),
    [
        (RedisCheckpoint, f"rediss://:{SECRET}@cache:6380/0?retries=0"),
        (PostgresCheckpoint, f"postgresql://u:{SECRET}@h/db?pool_timeout=-1"),
    ],
)
def test_a_password_in_the_url_stays_out_of_an_option_error(store: Any, url: str) -> None:
    with pytest.raises(ConfigError) as raised:
        store.from_url(url)
    assert SECRET not in str(raised.value)
    good = store.from_url(url.partition("?")[0])
    assert SECRET not in str(good.info()) + repr(good) + repr(good.options)


def test_redis_driver_options_pass_through_by_name() -> None:
    # redis-py's own options are the one pass-through: checked by name, not in the model.
    store = RedisCheckpoint.from_url("redis://localhost:6379/0?health_check_interval=5")
    assert "health_check_interval" not in store.options.details()
    store = RedisCheckpoint("redis://localhost:6379/0", max_connections=5)
    with pytest.raises(ConfigError, match=r"did you mean 'max_connections'\?"):
        RedisCheckpoint("redis://localhost:6379/0", max_conections=5)
