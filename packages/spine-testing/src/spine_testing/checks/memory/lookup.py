"""Memory `get` and `forget`: records by id."""

from __future__ import annotations

from functools import partial

from spine_core import InvalidInput
from spine_testing._check import check
from spine_testing.checks.memory._shared import expect_same_record
from spine_testing.context import CheckContext
from spine_testing.expect import expect, expect_equal, expect_json_equal, expect_raises


@check("memory", "get")
async def get_returns_record(ctx: CheckContext) -> None:
    """`get(id)` returns the saved record (a fresh copy); unknown ids give None, bad ids raise."""
    memory = await ctx.store()
    record = await memory.save(
        f"{ctx.token()} fetch me", session_id=ctx.sid("get"), metadata={"k": [1]}
    )
    got = await memory.get(record.id)
    expect_same_record(got, record, "get")
    expect_json_equal(got.metadata, {"k": [1]}, "metadata read by get")
    got.metadata["k"].append(2)
    again = await memory.get(record.id)
    expect(again is not got, "two gets returned the same object")
    expect_json_equal(again.metadata, {"k": [1]}, "metadata after mutating a get result")
    expect(await memory.get("0190a0a0-0000-7000-8000-000000000000") is None, "get of unknown id")
    for bad in ("", "a\x00b", None, 5):
        await expect_raises(InvalidInput, partial(memory.get, bad), f"get({bad!r})")


@check("memory", "forget")
async def forget_removes(ctx: CheckContext) -> None:
    """`forget(id)` removes one record (True), then returns False; unknown ids give False."""
    memory = await ctx.store()
    sid = ctx.sid("forget")
    token = ctx.token()
    gone = await memory.save(f"{token} to be forgotten", session_id=sid)
    kept = await memory.save(f"{token} to be kept", session_id=sid)
    expect((await memory.forget(gone.id)) is True, "forget of an existing record is not True")
    expect((await memory.forget(gone.id)) is False, "forget of a forgotten record is not False")
    unknown = "0190a0a0-0000-7000-8000-000000000001"
    expect((await memory.forget(unknown)) is False, "forget of an unknown id is not False")
    expect_equal([r.id for r in await memory.load(sid)], [kept.id], "load after forget")
    hits = await memory.search(gone.content, k=5, session_id=sid)
    expect(all(h.record.id != gone.id for h in hits), "search still finds a forgotten record")
    if ctx.advertises("get"):
        expect(await memory.get(gone.id) is None, "get still finds a forgotten record")
    for bad in ("", "a\x00b"):
        await expect_raises(InvalidInput, partial(memory.forget, bad), f"forget({bad!r})")
