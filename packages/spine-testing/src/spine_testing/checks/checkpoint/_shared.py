"""Helpers the checkpoint check modules share."""

from __future__ import annotations

from typing import Any

from spine_testing.context import CheckContext
from spine_testing.expect import expect, short


async def nothing_written(
    ctx: CheckContext, store: Any, session_id: str, what: str, tenant: str | None = None
) -> None:
    """The refused write left nothing: `get` is None and no listing shows the session."""
    got = await store.get(session_id)
    expect(got is None, f"{what} wrote the session anyway: get returned {short(got)}")
    if tenant is not None and ctx.advertises("list_sessions"):
        page = await store.list_sessions(tenant_id=tenant)
        listed = [s.session_id for s in page.sessions]
        expect(session_id not in listed, f"{what} left the session listed")
