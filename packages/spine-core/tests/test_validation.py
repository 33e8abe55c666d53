"""Shared input checks: each one raises InvalidInput with a clear message."""

from __future__ import annotations

import math
from datetime import datetime

import pytest

from spine_core import InvalidInput
from spine_core._validation import (
    encode_metadata,
    validate_before,
    validate_content,
    validate_filter,
    validate_k,
    validate_namespace,
    validate_ttl,
    validate_vector,
)


@pytest.mark.parametrize("k", [0, -1, True, 1.5, "3", 10_001])
def test_bad_k(k: object) -> None:
    with pytest.raises(InvalidInput, match="k must"):
        validate_k(k)


@pytest.mark.parametrize("content", ["", "   \n", "a\x00", 3, None])
def test_bad_content(content: object) -> None:
    with pytest.raises(InvalidInput, match="content"):
        validate_content(content)


@pytest.mark.parametrize(
    "metadata",
    [{"a": {1, 2}}, {"a": object()}, {"a": math.nan}, {1: "int key"}, ["list"], {"a": "\x00"}],
)
def test_bad_metadata(metadata: object) -> None:
    with pytest.raises(InvalidInput, match="metadata"):
        encode_metadata(metadata)


def test_metadata_copy_is_private() -> None:
    original = {"tags": ["a"], "n": (1, 2)}
    copy, text = encode_metadata(original)
    original["tags"].append("b")  # type: ignore[attr-defined]
    assert copy == {"tags": ["a"], "n": [1, 2]}
    assert text == '{"tags":["a"],"n":[1,2]}'


@pytest.mark.parametrize("ttl", [0, -1, math.nan, math.inf, True, "5"])
def test_bad_ttl(ttl: object) -> None:
    with pytest.raises(InvalidInput, match="ttl"):
        validate_ttl(ttl)


def test_naive_before_is_refused() -> None:
    with pytest.raises(InvalidInput, match="timezone"):
        validate_before(datetime(2026, 1, 1))


@pytest.mark.parametrize("namespace", ["", "-x", "a b", "a/b", "x" * 64, "ü"])
def test_bad_namespace(namespace: str) -> None:
    with pytest.raises(InvalidInput, match="namespace"):
        validate_namespace(namespace)


@pytest.mark.parametrize("flt", [{"a": [1]}, {"a": None}, {"a": math.nan}, {"": 1}, "a=1"])
def test_bad_filter(flt: object) -> None:
    with pytest.raises(InvalidInput, match="filter"):
        validate_filter(flt)


def test_vectors_are_checked_and_normalized() -> None:
    assert validate_vector([3.0, 4.0], 2) == pytest.approx([0.6, 0.8])
    for bad, match in [
        ([1.0], "dimensions"),
        ([0.0, 0.0], "zero"),
        ([math.nan, 1.0], "non-finite"),
    ]:
        with pytest.raises(InvalidInput, match=match):
            validate_vector(bad, 2)


def test_nested_non_str_keys_and_literal_backslash_u0000() -> None:
    with pytest.raises(InvalidInput, match="keys"):
        encode_metadata({"a": [{"b": {1: "x"}}]})
    copy, _ = encode_metadata({"p": "C:\\u0000"})  # a backslash then 'u0000': not a NUL
    assert copy == {"p": "C:\\u0000"}


@pytest.mark.parametrize("bad", ["a\ud800", "\udfff"])
def test_lone_surrogates_are_refused(bad: str) -> None:
    from spine_core._validation import validate_session_id

    for check in (validate_content, validate_session_id):
        with pytest.raises(InvalidInput, match="surrogate"):
            check(bad)
    with pytest.raises(InvalidInput, match="surrogate"):
        encode_metadata({"k": bad})
    with pytest.raises(InvalidInput, match="surrogate"):
        validate_filter({"k": bad})


def test_empty_filter_is_no_filter() -> None:
    assert validate_filter({}) is None
