"""Configuration shared by the PostgreSQL stores: identifiers, DSNs and URLs (options: `_options`).

Everything here runs in constructors, so it does no I/O; it imports psycopg only to parse a
DSN (a missing driver is reported as a `ConfigError` naming what to install).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from spine_core.errors import ConfigError
from spine_core.spi import check_drivers, redact_secrets, redact_url, refuse_unknown_names

__all__ = [
    "Target",
    "parse_target",
    "place_table",
    "split_url_options",
    "validate_identifier",
]

_SCHEMA = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_PREFIX = re.compile(r"(?:[A-Za-z_][A-Za-z0-9_]{0,39})?")
_TABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,49}")


def validate_identifier(value: object, *, what: Literal["schema", "table_prefix", "table"]) -> str:
    """A schema name, table prefix or table name that is safe to compose into SQL.

    Letters, digits and '_' only (not starting with a digit); a schema has at most 63
    characters and may not start with 'pg_' (reserved by PostgreSQL); a table prefix has at
    most 40 and may be empty, a table name at most 50 (so every derived table and index name
    fits PostgreSQL's 63-byte limit) and may not start with 'pg_'. Names are always quoted,
    so case is kept exactly.
    """
    if what == "schema":
        ok = isinstance(value, str) and bool(_SCHEMA.fullmatch(value))
        ok = ok and not str(value).lower().startswith("pg_")
        rule = "1-63 letters, digits or '_', not starting with a digit or 'pg_'"
    elif what == "table":
        ok = isinstance(value, str) and bool(_TABLE.fullmatch(value))
        ok = ok and not str(value).lower().startswith("pg_")
        rule = "1-50 letters, digits or '_', not starting with a digit or 'pg_'"
    else:
        ok = isinstance(value, str) and bool(_PREFIX.fullmatch(value))
        rule = "0-40 letters, digits or '_', not starting with a digit"
    if not ok:
        raise ConfigError(f"{what} must be {rule}; got {value!r:.80}")
    return str(value)


def place_table(schema: str, table_prefix: str, table: str | None) -> tuple[str, str]:
    """(schema, table) of the checkpoint table; a `table` of `schema.name` also sets the schema.

    The default is `<table_prefix>checkpoints`. spinekit put `table` into its SQL unquoted, so
    PostgreSQL folded it to lower case: it is folded the same way, or `table="AgentRuns"`
    would miss the data spinekit wrote.
    """
    if table is None:
        return schema, validate_identifier(table_prefix + "checkpoints", what="table")
    given, dot, name = table.lower().rpartition(".")
    if dot:
        given = validate_identifier(given, what="schema")
        if schema not in ("public", given):
            raise ConfigError(f"table={table!r} names schema {given!r} but schema={schema!r}")
        schema = given
    return schema, validate_identifier(name, what="table")


def split_url_options(url: str, names: Collection[str]) -> tuple[str, dict[str, str]]:
    """Split a `postgresql://` URL into (the libpq URL, the raw values of the options `names`).

    `postgres://` and `pgvector://` (the memory registry's alias) are accepted too; every
    other query parameter stays in the URL for libpq, which must know its name.
    """
    scheme = urlsplit(url).scheme.lower() if isinstance(url, str) else ""
    if scheme not in ("postgresql", "postgres", "pgvector"):
        raise ConfigError(
            "expected a postgresql://, postgres:// or pgvector:// URL, "
            f"got {redact_url(str(url))!r:.120}"
        )
    parts = urlsplit(url)._replace(scheme="postgresql")
    kept: list[tuple[str, str]] = []
    options: dict[str, str] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key in names:
            options[key] = value
        else:
            kept.append((key, value))
    _check_libpq_names([key for key, _ in kept], names)
    return urlunsplit(parts._replace(query=urlencode(kept))), options


def _check_libpq_names(given: list[str], spine_options: Collection[str]) -> None:
    """Refuse a query parameter neither Spine nor libpq knows (libpq would at connect time)."""
    if not given:
        return
    try:
        from psycopg import pq
    except ImportError:  # pragma: no cover - the distribution depends on psycopg
        return
    libpq = {option.keyword.decode() for option in pq.Conninfo.get_defaults()}
    refuse_unknown_names(given, libpq, store=spine_options, what="PostgreSQL URL parameter")


@dataclass(frozen=True)
class Target:
    """Where a store connects: the DSN (secret) and a printable, password-free description."""

    dsn: str = field(repr=False)
    """The libpq DSN; it may hold a password, so it is kept out of the repr."""
    shown: str
    """`postgresql://user@host:port/dbname`, never with a password."""
    where: str
    """`PostgreSQL at host:port/dbname`, for error messages."""


_PASSWORD_VALUE = re.compile(r"""(?i)password\s*=\s*('(?:[^'\\]|\\.)*'?|[^&\s]*)""")


def _at_signs_encoded(dsn: str) -> str:
    """A URL DSN whose user info runs to the LAST '@' of the authority, as redis-py reads it.

    libpq splits at the first '@', so a raw '@' in a password would make its tail the host:
    encoding the earlier ones as %40 keeps the password whole and the host right.
    """
    scheme, sep, rest = dsn.partition("://")
    if not sep:
        return dsn
    end = min((i for i in (rest.find(c) for c in "/?#") if i != -1), default=len(rest))
    authority = rest[:end]
    if authority.count("@") < 2:
        return dsn
    userinfo, _, hostport = authority.rpartition("@")
    return f"{scheme}://{userinfo.replace('@', '%40')}@{hostport}{rest[end:]}"


def _dsn_secrets(dsn: str) -> list[str]:
    """Every password a DSN may spell, raw: for removing from driver messages that quote it."""
    quoted = [m.group(1).strip("'") for m in _PASSWORD_VALUE.finditer(dsn)]
    # Also as libpq reads a quoted value (backslash escapes undone): drivers quote that form.
    secrets = quoted + [re.sub(r"\\(.)", r"\1", q) for q in quoted]
    if "://" in dsn:
        authority = dsn.partition("://")[2].split("/", 1)[0]
        userinfo = authority.rpartition("@")[0]
        secrets.append(userinfo.partition(":")[2])
    return secrets


def parse_target(dsn: str) -> Target:
    """Parse a libpq URL or key=value conninfo (raises a redacted `ConfigError`)."""
    check_drivers("postgres")  # one ConfigError with the install hint, not ImportError
    from psycopg.conninfo import conninfo_to_dict

    if not isinstance(dsn, str):
        raise ConfigError(f"dsn must be a str, got {type(dsn).__name__}")
    dsn = _at_signs_encoded(dsn)
    try:
        params = conninfo_to_dict(dsn)
    except Exception as exc:  # psycopg.ProgrammingError; its text may quote the password
        hint = " (in a URL, write '%' as %25 and '@' as %40)" if "://" in dsn else ""
        detail = redact_secrets(str(exc), _dsn_secrets(dsn))
        raise ConfigError(f"bad PostgreSQL DSN: {detail}{hint}") from None
    host = str(params.get("host") or params.get("hostaddr") or "localhost")
    port = str(params.get("port") or "5432")
    user = str(params.get("user") or "")
    dbname = str(params.get("dbname") or user or "")
    hostport = f"[{host}]:{port}" if ":" in host and "," not in host else f"{host}:{port}"
    shown = f"postgresql://{user + '@' if user else ''}{hostport}/{dbname}"
    return Target(dsn=dsn, shown=shown, where=f"PostgreSQL at {hostport}/{dbname}")
