"""Versioned, append-only schema migrations, applied once under an advisory lock.

Each store owns a *component* (``checkpoint``, ``memory``, ``memory_384``...) with an ordered
list of migrations. Applied versions are recorded in ``<schema>.<prefix>schema_migrations``.
Two processes opening a fresh schema at once serialize on a transaction-scoped advisory lock
(which also works behind a transaction-mode pooler), and the second finds the work done.
Every statement here runs inside that transaction, so nothing non-transactional (such as
``CREATE INDEX CONCURRENTLY``) may ever be added to a migration.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from spine_core.errors import ConfigError

if TYPE_CHECKING:
    from psycopg import AsyncConnection
    from psycopg.sql import Composable, Composed

__all__ = [
    "LOCK_CLASS",
    "Apply",
    "Migration",
    "Names",
    "ensure_migrated",
    "locked",
    "table_columns",
]

LOCK_CLASS = 0x5350494E
"""First key of every advisory lock Spine takes ('SPIN'), so it cannot collide by accident."""


@dataclass(frozen=True)
class Names:
    """Composes the store's identifiers: ``schema`` and ``<prefix><name>``, always quoted."""

    schema: str
    prefix: str

    def table(self, name: str) -> Composable:
        """``"schema"."<prefix>name"``."""
        from psycopg import sql

        return sql.Identifier(self.schema, self.prefix + name)

    def bare(self, name: str) -> Composable:
        """``"<prefix>name"`` (index names take no schema)."""
        from psycopg import sql

        return sql.Identifier(self.prefix + name)

    def regclass(self, name: str) -> str:
        """The text `to_regclass` takes for ``name`` (identifiers are pre-validated)."""
        return f'"{self.schema}"."{self.prefix}{name}"'


Apply = Callable[["AsyncConnection[Any]", Sequence["Composed"]], Awaitable[None]]
"""Runs a migration's statements on the connection, with whatever it must do around them."""


@dataclass(frozen=True)
class Migration:
    """One schema step: a version, a description and the statements it runs.

    `apply`, when given, runs instead of executing the statements one by one: it receives
    them and may inspect the database and do more in the same transaction.
    """

    version: int
    name: str
    statements: Callable[[Names], Sequence[Composed]]
    apply: Apply | None = None


async def table_columns(
    conn: AsyncConnection[Any], schema: str, table: str, *, prepare: bool | None
) -> dict[str, str]:
    """Column name -> type of `schema.table`, in order (empty when there is no such table)."""
    cur = await conn.execute(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod)"
        " FROM pg_catalog.pg_attribute AS a"
        " WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped"
        " ORDER BY a.attnum",
        (f'"{schema}"."{table}"',),
        prepare=prepare,
    )
    return {str(name): str(kind) for name, kind in await cur.fetchall()}


def _lock_key(names: Names) -> str:
    return f"spine:{names.schema}.{names.prefix}"


async def locked(conn: AsyncConnection[Any], key: str, *, prepare: bool | None) -> None:
    """Take the transaction-scoped advisory lock for `key` (call inside a transaction)."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (LOCK_CLASS, key), prepare=prepare
    )


async def _applied(
    conn: AsyncConnection[Any], names: Names, component: str, *, prepare: bool | None
) -> set[int] | None:
    """Versions of `component` already applied, or None when there is no migrations table."""
    from psycopg import sql

    cur = await conn.execute(
        "SELECT to_regclass(%s) IS NOT NULL",
        (names.regclass("schema_migrations"),),
        prepare=prepare,
    )
    row = await cur.fetchone()
    if row is None or not row[0]:
        return None
    cur = await conn.execute(
        sql.SQL("SELECT version FROM {} WHERE component = %s").format(
            names.table("schema_migrations")
        ),
        (component,),
        prepare=prepare,
    )
    return {int(r[0]) for r in await cur.fetchall()}


def _check_known(applied: set[int], component: str, migrations: Sequence[Migration]) -> bool:
    """True when every migration is applied; ConfigError when the database is newer."""
    known = {m.version for m in migrations}
    unknown = applied - known
    if unknown:
        raise ConfigError(
            f"the database holds {component} schema version {max(unknown)}, newer than this "
            f"spine-backend-postgres knows (up to {max(known)}); upgrade the package"
        )
    return known <= applied


async def ensure_migrated(
    conn: AsyncConnection[Any],
    names: Names,
    component: str,
    migrations: Sequence[Migration],
    *,
    prepare: bool | None,
) -> None:
    """Apply the missing migrations of `component`, once, even with racing processes.

    `conn` must be idle and in autocommit mode; the work runs in one transaction.
    """
    from psycopg import sql

    versions = [m.version for m in migrations]
    assert versions == sorted(set(versions)), "migrations must be in strictly increasing order"
    applied = await _applied(conn, names, component, prepare=prepare)
    if applied is not None and _check_known(applied, component, migrations):
        return  # fast path: no lock, two cheap catalog reads
    table = names.table("schema_migrations")
    async with conn.transaction():
        await locked(conn, _lock_key(names), prepare=prepare)
        cur = await conn.execute(
            "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = %s",
            (names.schema,),
            prepare=prepare,
        )
        if await cur.fetchone() is None:
            # Only when missing: CREATE SCHEMA IF NOT EXISTS still needs CREATE on the database.
            await conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(names.schema)))
        await conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} ("
                ' component text COLLATE "C" NOT NULL,'
                " version integer NOT NULL,"
                " name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now(),"
                " PRIMARY KEY (component, version))"
            ).format(table)
        )
        applied = await _applied(conn, names, component, prepare=prepare) or set()
        if _check_known(applied, component, migrations):
            return  # another process finished while we waited for the lock
        for migration in migrations:
            if migration.version in applied:
                continue
            statements = migration.statements(names)
            if migration.apply is not None:
                await migration.apply(conn, statements)
            else:
                for statement in statements:
                    await conn.execute(statement, prepare=False)
            await conn.execute(
                sql.SQL("INSERT INTO {} (component, version, name) VALUES (%s, %s, %s)").format(
                    table
                ),
                (component, migration.version, migration.name),
                prepare=False,
            )
