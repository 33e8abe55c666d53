"""`spine_core.spi.parse_options`: one model for URL query strings and keyword options."""

from __future__ import annotations

from typing import ClassVar, Literal

import pytest
from pydantic import Field, PositiveInt, SecretStr

from spine_core import ConfigError, InvalidInput, register_checkpoint, resolve_checkpoint
from spine_core.registry import unregister
from spine_core.spi import DefaultTTL, StoreOptions, option_names, parse_options, query_options


class Opts(StoreOptions):
    store_name: ClassVar[str] = "Demo"
    size: PositiveInt = 4
    ratio: float = Field(default=0.5, ge=0, le=1)
    mode: Literal["fast", "safe"] = "safe"
    flag: bool = False
    ttl: DefaultTTL = None
    token: SecretStr | None = None
    schema_: str = Field(default="public", alias="schema")


def test_query_strings_are_converted_and_keywords_win() -> None:
    opts = parse_options(
        Opts, {"size": "8", "flag": "yes", "ttl": "", "schema": "app"}, {"size": 9}
    )
    assert (opts.size, opts.flag, opts.ttl, opts.schema_) == (9, True, None, "app")
    assert query_options(Opts, {"ratio": "0.25", "ttl": "none"}) == {"ratio": 0.25, "ttl": None}
    assert option_names(Opts) == ("flag", "mode", "ratio", "schema", "size", "token", "ttl")


def test_keywords_are_strict() -> None:
    with pytest.raises(ConfigError, match=r"size='8'"):
        parse_options(Opts, kwargs={"size": "8"})
    with pytest.raises(ConfigError, match=r"size=True"):
        parse_options(Opts, kwargs={"size": True})


def test_one_error_names_every_bad_option_with_its_range() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_options(Opts, kwargs={"ratio": 2.0, "mode": "wild", "size": 0})
    message = str(raised.value)
    assert message.startswith("bad option for Demo: ")
    assert "ratio=2.0" in message
    assert ">= 0 and <= 1" in message
    assert "mode='wild'" in message
    assert "'fast' or 'safe'" in message
    assert "size=0" in message
    assert "greater than 0" in message


def test_unknown_options_get_a_suggestion_and_the_known_list() -> None:
    with pytest.raises(
        ConfigError, match=r"unknown option 'sise' for Demo \(did you mean 'size'\?\)"
    ):
        parse_options(Opts, {"sise": "1"})
    with pytest.raises(ConfigError, match=r"known options: flag, mode, ratio, schema, size"):
        parse_options(Opts, kwargs={"zzz": 1})


def test_a_secret_is_hidden_in_errors_and_details() -> None:
    opts = parse_options(Opts, {"token": "hunter2"})
    assert "token" not in opts.details()
    assert "hunter2" not in repr(opts)
    with pytest.raises(ConfigError) as raised:
        parse_options(Opts, kwargs={"token": b"hunter2"})
    assert "token='***'" in str(raised.value)
    assert "hunter2" not in str(raised.value)


def test_spine_rules_keep_their_error_type() -> None:
    with pytest.raises(InvalidInput, match="ttl must be positive"):
        parse_options(Opts, kwargs={"ttl": -1})


def test_a_type_error_inside_a_factory_propagates() -> None:
    class Broken:
        def __init__(self, *, path: str = "x") -> None:
            raise TypeError("a bug inside the constructor")

    register_checkpoint("opts-broken", Broken)
    try:
        with pytest.raises(TypeError, match="a bug inside") as raised:
            resolve_checkpoint("opts-broken", path="y")
        assert not isinstance(raised.value, ConfigError)
        with pytest.raises(ConfigError, match=r"did you mean 'path'\?.*it takes: path"):
            resolve_checkpoint("opts-broken", pth="y")
    finally:
        unregister("checkpoint", "opts-broken")
