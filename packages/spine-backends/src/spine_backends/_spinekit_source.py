"""Read-only sources over the data spinekit wrote, for `copy(..., from_layout="spinekit")`.

spinekit kept checkpoints in a SQLite `checkpoints` table, a PostgreSQL `spine_checkpoints`
table (jsonb) and Redis string keys `spine:checkpoint:<id>`, and memory in a PostgreSQL
`spine_memory` table (pgvector). Spine's stores adopt (move) such data when they open over it,
which is a write; these readers only SELECT / SCAN + GET, so the source stays as it was.
They live here, not in the adapters, because they need only the drivers and one entry point
(`spine.layouts`), and leave the adapters' store classes alone.

Query parameters choose the names spinekit was configured with: `?table=` (PostgreSQL) and
`?prefix=` (Redis). spinekit recorded no embedder identity, so its vectors are never reused:
memories are embedded again by the target.
"""

from __future__ import annotations

import bisect
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from spine_core import ConfigError, Kind, MemoryRecord, State
from spine_core._codec import load_state
from spine_core._urls import embedded_path
from spine_core.spi import ExportPage, RecordExport, SessionExport

__all__ = ["open_spinekit"]

_SQLITE_TABLE = "checkpoints"
_PG_CHECKPOINTS = "spine_checkpoints"
_PG_MEMORY = "spine_memory"
_REDIS_PREFIX = "spine:checkpoint:"


def open_spinekit(url: str, kind: Kind) -> Any:
    """A read-only source over spinekit's layout at `url` for `kind`."""
    scheme = url.partition("://")[0].lower()
    base, params = _split_params(url)
    if kind == "checkpoint":
        if scheme == "sqlite":
            return SpinekitSQLiteCheckpoints(url)
        if scheme in ("postgresql", "postgres"):
            return SpinekitPostgresCheckpoints(base, params.get("table", _PG_CHECKPOINTS))
        if scheme in ("redis", "rediss"):
            return SpinekitRedisCheckpoints(base, params.get("prefix", _REDIS_PREFIX))
    elif scheme in ("postgresql", "postgres"):
        return SpinekitPgVectorMemory(base, params.get("table", _PG_MEMORY))
    raise ConfigError(
        f"spinekit kept no {kind} data on {scheme}:// (checkpoints: sqlite, postgresql, redis; "
        "memory: postgresql)"
    )


def _split_params(url: str) -> tuple[str, dict[str, str]]:
    # `table` / `prefix` are ours; every other parameter belongs to the driver.
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    ours = {k: v for k, v in pairs if k in ("table", "prefix")}
    rest = urlencode([(k, v) for k, v in pairs if k not in ours])
    return urlunsplit(parts._replace(query=rest)), ours


def _page(items: list[Any], ids: list[str], more: bool) -> ExportPage[Any]:
    return ExportPage(items=items, next_cursor=ids[-1] if more and ids else None)


class _Source:
    embedder_name: str | None = None
    dimension: int | None = None

    async def aclose(self) -> None:
        """Release the connection."""


class SpinekitSQLiteCheckpoints(_Source):
    """spinekit's SQLite `checkpoints` table, opened read-only."""

    kind: Kind = "checkpoint"

    def __init__(self, url: str) -> None:
        path = embedded_path(url)
        if path is None:
            raise ConfigError("a spinekit SQLite source needs a file path")
        self._conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)

    async def aclose(self) -> None:
        """Close the file."""
        self._conn.close()

    async def count_sessions(self, *, tenant_id: str | None = None) -> int | None:
        """How many rows the table holds (None with a tenant: that needs a scan)."""
        if tenant_id is not None:
            return None
        return int(self._conn.execute(f"SELECT count(*) FROM {_SQLITE_TABLE}").fetchone()[0])

    async def export_sessions(
        self, *, tenant_id: str | None = None, after: str | None = None, limit: int = 100
    ) -> ExportPage[SessionExport]:
        """A page of sessions in session-id order (SQLite compares TEXT as UTF-8 bytes)."""
        rows = self._conn.execute(
            f"SELECT session_id, revision, data, updated FROM {_SQLITE_TABLE} "
            "WHERE session_id > ? ORDER BY session_id LIMIT ?",
            ("" if after is None else after, limit + 1),
        ).fetchall()
        items, ids = [], []
        for sid, revision, data, updated in rows[:limit]:
            ids.append(sid)
            state = load_state(data, session_id=sid)
            if tenant_id is not None and state.tenant_id != tenant_id:
                continue
            items.append(
                SessionExport(
                    session_id=sid,
                    tenant_id=state.tenant_id,
                    state=state,
                    revision=revision,
                    updated_at=datetime.fromtimestamp(float(updated), UTC),
                    expires_at=None,
                )
            )
        return _page(items, ids, len(rows) > limit)

    async def get(self, session_id: str) -> State | None:
        """The stored state, or None."""
        row = self._conn.execute(
            f"SELECT data FROM {_SQLITE_TABLE} WHERE session_id = ?", (session_id,)
        ).fetchone()
        return None if row is None else load_state(row[0], session_id=session_id)


class _Postgres(_Source):
    def __init__(self, dsn: str, table: str) -> None:
        self.dsn = dsn
        self.table = table
        self._conn: Any = None

    async def _connection(self) -> Any:
        if self._conn is None:
            import psycopg

            self._conn = await psycopg.AsyncConnection.connect(
                self.dsn, autocommit=True, connect_timeout=10
            )
        return self._conn

    def _name(self) -> Any:
        from psycopg import sql

        schema, dot, table = self.table.rpartition(".")
        return sql.Identifier(schema, table) if dot else sql.Identifier(table)

    async def aclose(self) -> None:
        """Close the connection."""
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def _fetch(self, query: str, args: tuple[Any, ...]) -> list[Any]:
        from psycopg import sql

        conn = await self._connection()
        cur = await conn.execute(sql.SQL(query).format(self._name()), args)
        return list(await cur.fetchall())


class SpinekitPostgresCheckpoints(_Postgres):
    """spinekit's PostgreSQL checkpoint table (`spine_checkpoints`, jsonb `data`)."""

    kind: Kind = "checkpoint"

    async def count_sessions(self, *, tenant_id: str | None = None) -> int | None:
        """How many rows the table holds (None with a tenant)."""
        if tenant_id is not None:
            return None
        return int((await self._fetch("SELECT count(*) FROM {}", ()))[0][0])

    async def export_sessions(
        self, *, tenant_id: str | None = None, after: str | None = None, limit: int = 100
    ) -> ExportPage[SessionExport]:
        """A page of sessions in session-id code-point order (collation "C")."""
        tenant = "" if tenant_id is None else " AND data->>'tenant_id' = %s"
        args: tuple[Any, ...] = ("" if after is None else after,)
        args += (() if tenant_id is None else (tenant_id,)) + (limit + 1,)
        rows = await self._fetch(
            "SELECT session_id, revision, data::text, updated FROM {} "
            'WHERE session_id COLLATE "C" > %s' + tenant + ' ORDER BY session_id COLLATE "C" '
            "LIMIT %s",
            args,
        )
        items = []
        for sid, revision, data, updated in rows[:limit]:
            state = load_state(data, session_id=sid)
            items.append(
                SessionExport(
                    session_id=sid,
                    tenant_id=state.tenant_id,
                    state=state,
                    revision=revision,
                    updated_at=updated.astimezone(UTC),
                    expires_at=None,
                )
            )
        return _page(items, [i.session_id for i in items], len(rows) > limit)

    async def get(self, session_id: str) -> State | None:
        """The stored state, or None."""
        rows = await self._fetch("SELECT data::text FROM {} WHERE session_id = %s", (session_id,))
        return load_state(rows[0][0], session_id=session_id) if rows else None


class SpinekitPgVectorMemory(_Postgres):
    """spinekit's pgvector memory table (`spine_memory`)."""

    kind: Kind = "memory"

    async def count_records(self) -> int:
        """How many rows the table holds."""
        return int((await self._fetch("SELECT count(*) FROM {}", ()))[0][0])

    async def export_records(
        self, *, after: str | None = None, limit: int = 500
    ) -> ExportPage[RecordExport]:
        """A page of records in id code-point order, without vectors (see the module doc)."""
        rows = await self._fetch(
            "SELECT id, session_id, content, metadata::text, ts FROM {} "
            'WHERE id COLLATE "C" > %s ORDER BY id COLLATE "C" LIMIT %s',
            ("" if after is None else after, limit + 1),
        )
        items = [_record(row) for row in rows[:limit]]
        return _page(items, [i.id for i in items], len(rows) > limit)

    async def get(self, record_id: str) -> MemoryRecord | None:
        """The record with this id, or None."""
        rows = await self._fetch(
            "SELECT id, session_id, content, metadata::text, ts FROM {} WHERE id = %s",
            (record_id,),
        )
        return _record(rows[0]) if rows else None


def _record(row: Any) -> RecordExport:
    rid, session_id, content, metadata, ts = row
    return RecordExport(
        id=rid,
        session_id=session_id,
        content=content,
        metadata=json.loads(metadata) if metadata else {},
        ts=ts.astimezone(UTC),
    )


class SpinekitRedisCheckpoints(_Source):
    """spinekit's Redis checkpoint keys (`<prefix><session id>` strings holding the JSON).

    Redis keeps no order, so the ids are collected once with SCAN and sorted; pages then
    come from that list (memory: the ids, not the states).
    """

    kind: Kind = "checkpoint"

    def __init__(self, url: str, prefix: str) -> None:
        import redis.asyncio as aioredis

        self._client = aioredis.Redis.from_url(url)
        self.prefix = prefix
        self._ids: list[str] | None = None

    async def aclose(self) -> None:
        """Close the client."""
        await self._client.aclose()

    async def _all_ids(self) -> list[str]:
        if self._ids is None:
            pattern = _glob_escape(self.prefix) + "*"
            found = set()
            async for key in self._client.scan_iter(match=pattern, count=1000, _type="string"):
                raw = key.decode("utf-8", "replace") if isinstance(key, bytes) else str(key)
                found.add(raw[len(self.prefix) :])
            self._ids = sorted(found)
        return self._ids

    async def count_sessions(self, *, tenant_id: str | None = None) -> int | None:
        """How many keys there are (None with a tenant)."""
        return None if tenant_id is not None else len(await self._all_ids())

    async def export_sessions(
        self, *, tenant_id: str | None = None, after: str | None = None, limit: int = 100
    ) -> ExportPage[SessionExport]:
        """A page of sessions in session-id order; `updated_at` is now (spinekit kept none)."""
        ids = await self._all_ids()
        start = 0 if after is None else bisect.bisect_right(ids, after)
        chunk = ids[start : start + limit]
        now = datetime.now(UTC)
        pipe = self._client.pipeline(transaction=False)
        for sid in chunk:
            pipe.get(self.prefix + sid)
            pipe.pttl(self.prefix + sid)
        replies = await pipe.execute()
        items = []
        for i, sid in enumerate(chunk):
            raw, pttl = replies[2 * i], replies[2 * i + 1]
            if raw is None:  # deleted or expired since the scan
                continue
            state = load_state(raw, session_id=sid)
            if tenant_id is not None and state.tenant_id != tenant_id:
                continue
            expires = now + timedelta(milliseconds=pttl) if pttl and pttl > 0 else None
            items.append(
                SessionExport(
                    session_id=sid,
                    tenant_id=state.tenant_id,
                    state=state,
                    revision=None,
                    updated_at=now,
                    expires_at=expires,
                )
            )
        return _page(items, chunk, start + limit < len(ids))

    async def get(self, session_id: str) -> State | None:
        """The stored state, or None."""
        raw = await self._client.get(self.prefix + session_id)
        return None if raw is None else load_state(raw, session_id=session_id)


def _glob_escape(text: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)
