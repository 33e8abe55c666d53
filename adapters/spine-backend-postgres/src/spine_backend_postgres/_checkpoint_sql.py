"""The SQL side of `PostgresCheckpoint`: its schema, spinekit adoption and statements."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC
from typing import TYPE_CHECKING, Any

from spine_core.errors import ConfigError
from spine_core.spi import ExportRow, ScanRow, redact_text

from ._migrations import Migration, Names, table_columns
from ._pool import is_connection_error

if TYPE_CHECKING:
    from psycopg import AsyncConnection
    from psycopg.sql import Composed

__all__ = ["Queries", "checkpoint_migrations", "export_rows", "scan_rows"]

_LIVE = "(c.expires_at IS NULL OR c.expires_at > now())"

SPINE_COLUMNS = (
    "namespace",
    "session_id",
    "tenant_id",
    "state",
    "revision",
    "updated_at",
    "expires_at",
)
SPINEKIT_COLUMNS = ("session_id", "version", "revision", "data", "updated")
"""spinekit's `PostgresCheckpoint` table (default `spine_checkpoints`): `data` is jsonb."""

ADOPTED_NAMESPACE = "default"
"""spinekit had no namespaces; the code ported from it opens the default one."""

# Session ids Spine accepts (spine_core.spi.validate_session_id; text holds no NUL).
_ADOPTABLE = "length(session_id) BETWEEN 1 AND 256"

log = logging.getLogger("spine")


def _v1(n: Names, table: str) -> list[Composed]:
    from psycopg import sql

    t = sql.Identifier(n.schema, table)
    return [
        # session ids sort in code-point order (COLLATE "C"), like every other backend.
        sql.SQL(
            "CREATE TABLE {} ("
            ' namespace text COLLATE "C" NOT NULL,'
            ' session_id text COLLATE "C" NOT NULL,'
            ' tenant_id text COLLATE "C",'
            # json, not jsonb: the exact text comes back (jsonb reorders object keys and
            # rewrites numbers, so a State would not round-trip byte for byte); it is still
            # validated on write and queryable with ->, ->> or a cast to jsonb.
            " state json NOT NULL,"
            " revision bigint NOT NULL,"
            " updated_at timestamptz NOT NULL,"
            " expires_at timestamptz,"
            " PRIMARY KEY (namespace, session_id))"
        ).format(t),
        sql.SQL("CREATE INDEX {} ON {} (namespace, tenant_id, session_id)").format(
            sql.Identifier(table + "_tenant"), t
        ),
        sql.SQL("CREATE INDEX {} ON {} (namespace, updated_at)").format(
            sql.Identifier(table + "_updated"), t
        ),
        sql.SQL("CREATE INDEX {} ON {} (expires_at) WHERE expires_at IS NOT NULL").format(
            sql.Identifier(table + "_expires"), t
        ),
    ]


def checkpoint_migrations(
    schema: str, table: str, *, prepare: bool | None
) -> tuple[Migration, ...]:
    """The checkpoint schema for `schema.table`, append-only: never edit a released step."""

    async def create(conn: AsyncConnection[Any], statements: Sequence[Composed]) -> None:
        found = await table_columns(conn, schema, table, prepare=prepare)
        if set(SPINE_COLUMNS) <= set(found):
            return  # Spine's own table, recorded under another table_prefix's migrations
        if found and not set(SPINEKIT_COLUMNS) <= set(found):
            columns = ", ".join(f"{name} {kind}" for name, kind in found.items())
            raise ConfigError(
                f"table {schema}.{table} exists but is neither Spine's checkpoint table nor "
                f"spinekit's; found columns ({columns}). Use another table= or schema=, or "
                "rename that table"
            )
        if found:
            await _adopt(conn, schema, table, statements)
        else:
            for statement in statements:
                await conn.execute(statement, prepare=False)

    return (Migration(1, "checkpoints table", lambda n: _v1(n, table), apply=create),)


async def _adopt(
    conn: AsyncConnection[Any], schema: str, table: str, statements: Sequence[Composed]
) -> None:
    """Replace spinekit's table by Spine's under the same name, moving every row.

    Runs inside the migration's transaction (under the advisory lock), so it happens once,
    entirely or not at all. The revision and update time are copied, so revisions continue.
    """
    import psycopg
    from psycopg import sql

    old = table + "_spinekit"
    spinekit = sql.Identifier(schema, old)
    try:
        await conn.execute(
            sql.SQL("ALTER TABLE {} RENAME TO {}").format(
                sql.Identifier(schema, table), sql.Identifier(old)
            ),
            prepare=False,
        )
        # Free the primary key's index name (`<table>_pkey`) for Spine's table.
        cur = await conn.execute(
            "SELECT c.relname FROM pg_catalog.pg_index AS i"
            " JOIN pg_catalog.pg_class AS c ON c.oid = i.indexrelid"
            " WHERE i.indrelid = to_regclass(%s) AND i.indisprimary",
            (f'"{schema}"."{old}"',),
            prepare=False,
        )
        for (index,) in await cur.fetchall():
            await conn.execute(
                sql.SQL("ALTER INDEX {} RENAME TO {}").format(
                    sql.Identifier(schema, str(index)), sql.Identifier(old + "_pk")
                ),
                prepare=False,
            )
        for statement in statements:
            await conn.execute(statement, prepare=False)
        await conn.execute(
            sql.SQL(
                "INSERT INTO {} (namespace, session_id, tenant_id, state, revision,"
                " updated_at, expires_at)"
                " SELECT %s, session_id,"
                " CASE WHEN jsonb_typeof(data::jsonb -> 'tenant_id') = 'string'"
                " THEN data::jsonb ->> 'tenant_id' END,"
                " data::text::json, revision, updated::timestamptz, NULL FROM {}"
                f" WHERE {_ADOPTABLE}"
            ).format(sql.Identifier(schema, table), spinekit),
            (ADOPTED_NAMESPACE,),
            prepare=False,
        )
        # An id Spine refuses (empty, over 256 characters) could never be read in Spine's
        # table: such rows stay behind in spinekit's, renamed, so nothing is lost.
        await conn.execute(
            sql.SQL("DELETE FROM {} WHERE " + _ADOPTABLE).format(spinekit), prepare=False
        )
        left = await conn.execute(
            sql.SQL("SELECT count(*) FROM {}").format(spinekit), prepare=False
        )
        row = await left.fetchone()
        if row is not None and row[0]:
            log.warning(
                "%d spinekit session(s) have ids Spine refuses and were not adopted; they "
                "stay in %s.%s",
                row[0],
                schema,
                old,
            )
        else:
            await conn.execute(sql.SQL("DROP TABLE {}").format(spinekit), prepare=False)
    except psycopg.Error as exc:
        if is_connection_error(exc):
            raise
        raise ConfigError(
            f"could not adopt spinekit's checkpoint table {schema}.{table}; nothing was "
            f"changed: {redact_text(f'{type(exc).__name__}: {exc}')}"
        ) from None


class Queries:
    """Every statement the store runs, composed once from validated identifiers."""

    def __init__(self, n: Names, table: str) -> None:
        from psycopg import sql

        t = sql.Identifier(n.schema, table)

        def q(text: str) -> bytes:
            return sql.SQL(text).format(t=t).as_bytes(None)

        # Expiry (the ttl) is computed on the server's clock, shared by every client.
        expires = (
            "CASE WHEN %(ttl)s::float8 IS NULL THEN NULL "
            "ELSE now() + %(ttl)s::float8 * interval '1 second' END"
        )
        insert = (
            "INSERT INTO {t} AS c (namespace, session_id, tenant_id, state, revision,"
            " updated_at, expires_at)"
            f" VALUES (%(ns)s, %(sid)s, %(tenant)s, %(state)s::json, 1, %(now)s, {expires})"
            " ON CONFLICT (namespace, session_id) DO UPDATE SET"
            " tenant_id = excluded.tenant_id, state = excluded.state,"
            f" revision = CASE WHEN {_LIVE} THEN c.revision + 1 ELSE 1 END,"
            " updated_at = excluded.updated_at, expires_at = excluded.expires_at"
        )
        self.put = q(insert + " RETURNING c.revision")
        # expected_revision=0: create, or replace only an expired (so, missing) session.
        self.put_new = q(insert + f" WHERE NOT {_LIVE} RETURNING c.revision")
        # expected_revision=N>0: one atomic UPDATE; READ COMMITTED re-checks the WHERE on the
        # newest row version, so two racing writers cannot both see revision N.
        self.put_cas = q(
            "UPDATE {t} AS c SET tenant_id = %(tenant)s, state = %(state)s::json,"
            f" revision = c.revision + 1, updated_at = %(now)s, expires_at = {expires}"
            " WHERE c.namespace = %(ns)s AND c.session_id = %(sid)s"
            f" AND c.revision = %(expected)s AND {_LIVE} RETURNING c.revision"
        )
        self.get = q(
            "SELECT c.state::text FROM {t} AS c"
            f" WHERE c.namespace = %s AND c.session_id = %s AND {_LIVE}"
        )
        self.revision = q(
            "SELECT c.revision FROM {t} AS c"
            f" WHERE c.namespace = %s AND c.session_id = %s AND {_LIVE}"
        )
        self.delete = q("DELETE FROM {t} WHERE namespace = %s AND session_id = %s")
        select = "SELECT c.session_id, c.tenant_id, c.updated_at, c.revision FROM {t} AS c"
        self.list = q(
            f"{select} WHERE c.namespace = %(ns)s AND c.session_id > %(after)s AND {_LIVE}"
            " ORDER BY c.session_id LIMIT %(limit)s"
        )
        self.list_tenant = q(
            f"{select} WHERE c.namespace = %(ns)s AND c.tenant_id = %(tenant)s"
            f" AND c.session_id > %(after)s AND {_LIVE} ORDER BY c.session_id LIMIT %(limit)s"
        )
        # Export: the list statements with the state and expiry; a range scan of the primary
        # key (namespace, session_id) or the tenant index, so a page costs the same at 1M.
        export = (
            "SELECT c.session_id, c.tenant_id, c.updated_at, c.revision, c.state::text,"
            " c.expires_at FROM {t} AS c"
        )
        self.export = q(
            f"{export} WHERE c.namespace = %(ns)s AND c.session_id > %(after)s AND {_LIVE}"
            " ORDER BY c.session_id LIMIT %(limit)s"
        )
        self.export_tenant = q(
            f"{export} WHERE c.namespace = %(ns)s AND c.tenant_id = %(tenant)s"
            f" AND c.session_id > %(after)s AND {_LIVE} ORDER BY c.session_id LIMIT %(limit)s"
        )
        # Expired rows go too (they already read as missing); only the stale ones are counted.
        self.prune = q(
            "DELETE FROM {t} AS c WHERE c.namespace = %(ns)s"
            " AND (c.updated_at < %(before)s OR NOT" + _LIVE + ")"
            " RETURNING c.updated_at < %(before)s"
        )


def scan_rows(rows: Sequence[Any]) -> list[ScanRow]:
    """`list` / `list_tenant` rows as the base's `ScanRow`s (times in UTC)."""
    return [(sid, t, updated.astimezone(UTC), int(rev)) for sid, t, updated, rev in rows]


def export_rows(rows: Sequence[Any]) -> list[ExportRow]:
    """`export` / `export_tenant` rows as the base's `ExportRow`s (times in UTC)."""
    return [
        (sid, t, updated.astimezone(UTC), int(rev), str(state), expires and expires.astimezone(UTC))
        for sid, t, updated, rev, state, expires in rows
    ]
