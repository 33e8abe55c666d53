"""Connection handling shared by the Redis stores: clients, retries, scripts, decoding.

The driver (`redis.asyncio`) is imported inside functions only, so importing this module
(and so the package) never needs it installed.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from spine_core.errors import BackendUnavailable, ConfigError
from spine_core.spi import (
    check_drivers,
    redact_text,
    redact_url,
    refuse_unknown_names,
    retry_transient,
)

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = [
    "DEFAULT_URL",
    "SOCKET_TIMEOUT",
    "Connection",
    "Script",
    "as_float",
    "as_int",
    "as_text",
    "decodes_responses",
    "from_us",
    "is_cluster",
    "split_url_options",
    "to_us",
]

T = TypeVar("T")

DEFAULT_URL = "redis://localhost:6379/0"
_SCHEMES = ("redis", "rediss", "unix")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)

# Our defaults for a client we build: a dead or paused server fails within seconds instead of
# hanging (redis-py's defaults wait forever, and retry each command three more times with
# up to 10 s of backoff: 90 s against a paused server with a 30 s timeout). redis-py's own
# retries are switched off in `Connection.open`: `Connection.run` is the one retry policy.
# The read/write bound is not redis-py's `socket_timeout` but one deadline per call in
# `Connection.run`: redis-py wraps every socket write in `asyncio.wait_for` (a new task per
# command), which cost ~25 µs per command, a fifth of a checkpoint get.
SOCKET_TIMEOUT = 5.0
_CLIENT_DEFAULTS: dict[str, Any] = {
    "socket_connect_timeout": SOCKET_TIMEOUT,
    "socket_timeout": None,
}


def split_url_options(url: str, names: Sequence[str]) -> tuple[str, dict[str, str]]:
    """Remove Spine's own query parameters (`names`) from a Redis URL.

    Returns the URL redis-py should see and the removed options; redis-py passes every
    query parameter it does not know to its connection class, which would reject ours.
    """
    if not isinstance(url, str) or "://" not in url:
        raise ConfigError(f"not a Redis URL: {redact_text(str(url))!r}")
    parts = urlsplit(url)
    if parts.scheme.lower() not in _SCHEMES:
        raise ConfigError(
            f"unsupported scheme {parts.scheme!r} in {redact_url(url)!r}; "
            "use redis://, rediss:// or unix://"
        )
    ours: dict[str, str] = {}
    theirs: list[tuple[str, str]] = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        (ours.__setitem__(key, value) if key in names else theirs.append((key, value)))
    return urlunsplit(parts._replace(query=urlencode(theirs))), ours


def to_us(moment: datetime) -> int:
    """Microseconds since the epoch of an aware datetime, exactly (scores and ts fields)."""
    return (moment - _EPOCH) // _US


def from_us(us: int) -> datetime:
    """The aware UTC datetime `us` microseconds after the epoch, exactly."""
    return _EPOCH + timedelta(microseconds=us)


def _describe(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"redis at unix:{parts.path}"
    try:
        port = parts.port or 6379
    except ValueError:
        port = 6379
    return f"redis at {parts.hostname or 'localhost'}:{port}"


def _describe_client(client: Any) -> tuple[str, str]:
    """(`what` for messages, a redacted target URL) of an injected client."""
    kwargs: Mapping[str, Any] = getattr(
        getattr(client, "connection_pool", None), "connection_kwargs", {}
    )
    if "path" in kwargs:
        return f"redis at unix:{kwargs['path']}", f"unix://{kwargs['path']}"
    host = kwargs.get("host") or getattr(client, "host", None) or "localhost"
    port = kwargs.get("port") or getattr(client, "port", None) or 6379
    db = kwargs.get("db", 0)
    return f"redis at {host}:{port}", f"redis://{host}:{port}/{db}"


def decodes_responses(client: Any) -> bool:
    """Whether an injected client turns replies into str (it cannot return binary data)."""
    kwargs = getattr(getattr(client, "connection_pool", None), "connection_kwargs", None)
    if kwargs is None:
        get = getattr(client, "get_connection_kwargs", None)  # RedisCluster
        kwargs = get() if callable(get) else {}
    return bool(kwargs.get("decode_responses", False))


def is_cluster(client: Any) -> bool:
    """Whether `client` is a redis-py cluster client (its pipelines refuse scripts)."""
    try:
        from redis.asyncio.cluster import RedisCluster
    except ImportError:  # pragma: no cover - every supported redis-py has it
        return False
    return isinstance(client, RedisCluster)


def as_text(value: Any) -> str:
    """A reply element as str (replies are bytes unless the client decodes them)."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8")
    return str(value)


def as_int(value: Any) -> int:
    """A reply element as int."""
    return int(as_text(value)) if isinstance(value, bytes | bytearray | memoryview) else int(value)


def as_float(value: Any) -> float:
    """A reply element as float."""
    return float(as_text(value)) if isinstance(value, bytes | bytearray) else float(value)


class Script:
    """A Lua script run with EVALSHA, falling back to EVAL when the server lost it.

    EVAL also caches the script, so after a `SCRIPT FLUSH`, a failover or a restart the
    next call is back on EVALSHA: the body is sent once, not on every call.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()

    async def __call__(self, client: Any, keys: Sequence[Any], args: Sequence[Any]) -> Any:
        """Run the script on `client` and return its reply."""
        from redis.exceptions import NoScriptError

        try:
            return await client.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:
            return await client.eval(self.source, len(keys), *keys, *args)


@functools.cache
def _known_client_options(cluster: bool) -> frozenset[str]:
    """Every option redis-py's clients and connections take by name (URL query or keyword)."""
    import inspect

    from redis.asyncio import Redis, connection
    from redis.asyncio.cluster import RedisCluster

    owners: list[Any] = [
        Redis,
        connection.ConnectionPool,
        connection.BlockingConnectionPool,
        connection.Connection,
        connection.SSLConnection,
        connection.UnixDomainSocketConnection,
        connection.AbstractConnection,
    ]
    if cluster:
        owners.append(RedisCluster)
    names = set(connection.URL_QUERY_ARGUMENT_PARSERS)
    for owner in owners:
        names.update(inspect.signature(owner.__init__).parameters)
    return frozenset(names - {"self", "args", "kwargs"})


def _check_client_options(
    url: str, options: Mapping[str, Any], *, cluster: bool, spine_options: Sequence[str]
) -> None:
    """Refuse a malformed URL and options redis-py would reject only at the first command.

    Driver options pass through the store untyped; only their names are checked here, against
    redis-py's own signatures (a misspelled Spine option gets a suggestion too).
    """
    try:
        query = urlsplit(url).query
    except ValueError as exc:
        raise ConfigError(f"malformed Redis URL {redact_text(url)!r}: {exc}") from None
    given = {k for k, _ in parse_qsl(query, keep_blank_values=True)} | set(options)
    refuse_unknown_names(
        sorted(given),
        _known_client_options(cluster),
        store=spine_options,
        what=f"Redis client option for {redact_url(url)}",
    )


class Connection:
    """A lazily created, pooled `redis.asyncio` client plus bounded retries.

    Either built from a URL (we own it and close it) or injected (the caller owns it).
    """

    def __init__(
        self,
        *,
        url: str | None,
        client: Redis | None,
        client_options: Mapping[str, Any],
        retries: int,
        cluster: bool = False,
        spine_options: Sequence[str] = (),
    ) -> None:
        if (url is None) == (client is None):
            raise ConfigError("pass exactly one of a Redis URL or client=")
        if client is not None and client_options:
            raise ConfigError(
                "client options (" + ", ".join(sorted(client_options)) + ") apply only when "
                "the store builds its own client from a URL; configure the injected client"
            )
        if client is not None and cluster:
            raise ConfigError("cluster=True applies to a URL; inject a RedisCluster client instead")
        if url is not None:
            check_drivers("redis")  # one ConfigError with the install hint, not ImportError
            _check_client_options(url, client_options, cluster=cluster, spine_options=spine_options)
            _check_database(url)
        self._url = url
        self._cluster = cluster
        self._options = dict(client_options)
        # Seconds one call may take: a socket_timeout the caller set (keyword or URL query)
        # still bounds each socket operation in redis-py too; None in either means no bound.
        self.call_timeout = _call_timeout(url, self._options)
        self._client: Any = client
        self._owned = client is None
        self.retries = retries
        if url is not None:
            self.what = _describe(url)
            self.target = redact_url(url)
        else:
            self.what, self.target = _describe_client(client)

    @property
    def client(self) -> Any:
        """The client; `open` must have run."""
        if self._client is None:
            raise RuntimeError("connection is not open")  # pragma: no cover - internal misuse
        return self._client

    def open(self) -> None:
        """Build the client (no I/O: redis-py connects on the first command)."""
        if self._client is not None:
            return
        from redis.asyncio import Redis
        from redis.asyncio.cluster import RedisCluster
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        assert self._url is not None
        factory: Any = RedisCluster if self._cluster else Redis
        defaults = {**_CLIENT_DEFAULTS, "retry": Retry(NoBackoff(), 0)}
        try:
            self._client = factory.from_url(self._url, **{**defaults, **self._options})
        except (TypeError, ValueError) as exc:
            # redis-py's messages may quote the URL; never echo it unredacted.
            raise ConfigError(
                f"bad Redis URL or options for {self.target}: {redact_text(str(exc))}"
            ) from None

    async def close(self) -> None:
        """Close the pool of a client we built; leave an injected client alone."""
        if self._owned and self._client is not None:
            client, self._client = self._client, None
            closer = getattr(client, "aclose", None) or client.close
            await closer()

    async def run(self, operation: Callable[[Any], Awaitable[T]]) -> T:
        """Run `operation(client)`, retrying transient failures a bounded number of times.

        Lost or refused connections are retried with backoff, then raise
        `BackendUnavailable`; a timeout raises it at once (a server that does not answer
        within `socket_timeout` is not helped by being asked again); refused credentials fail
        at once with `ConfigError`. Writes are idempotent scripts, so retrying one is safe.
        """
        from redis.exceptions import ResponseError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        client = self.client
        refused, transient = _errors()

        deadline = self.call_timeout

        async def attempt() -> T:
            try:
                if deadline is None:
                    return await operation(client)
                # A timeout cancels the command; redis-py then drops that connection, so no
                # late reply is ever read as another command's.
                async with asyncio.timeout(deadline):
                    return await operation(client)
            except refused as exc:
                raise ConfigError(
                    f"{self.what} refused the credentials: {redact_text(str(exc))}"
                ) from None
            except ResponseError as exc:
                if not _database_problem(exc):
                    raise
                raise ConfigError(
                    f"{self.what} has no such database ({self.target}): {redact_text(str(exc))}"
                ) from None
            except (RedisTimeoutError, TimeoutError) as exc:
                limit = "the client's socket_timeout" if deadline is None else f"{deadline:g}s"
                raise BackendUnavailable(
                    f"{self.what} did not answer within {limit} (socket_timeout): "
                    f"{redact_text(str(exc)) or type(exc).__name__}"
                ) from None

        return await retry_transient(
            attempt, transient=transient, what=self.what, attempts=self.retries
        )


def _call_timeout(url: str | None, options: Mapping[str, Any]) -> float | None:
    """The per-call deadline: the caller's socket_timeout (keyword, then URL), else ours.

    An injected client keeps its own timeouts: no deadline is added to its calls.
    """
    if url is None:
        return None
    if "socket_timeout" in options:
        given = options["socket_timeout"]
    else:
        query = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
        if "socket_timeout" not in query:
            return SOCKET_TIMEOUT
        given = query["socket_timeout"] or None
    try:
        return None if given is None else float(given)
    except (TypeError, ValueError):
        raise ConfigError(f"socket_timeout must be a number of seconds, got {given!r}") from None


def _check_database(url: str) -> None:
    """The URL's database is a number (``redis://host/3``); redis-py silently uses 0 otherwise."""
    from urllib.parse import parse_qs, urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        return  # unix:// sockets name their database in the query only
    path = parts.path.strip("/")
    values = ([path] if path else []) + parse_qs(parts.query).get("db", [])
    for value in values:
        if not value.isascii() or not value.isdigit():
            raise ConfigError(
                f"the Redis database in {redact_url(url)} must be a number (e.g. /0), "
                f"got {value[:40]!r}"
            )


def _database_problem(exc: BaseException) -> bool:
    # SELECT of a database the server does not have fails on connect with this reply.
    return "DB index is out of range" in str(exc) or "invalid DB index" in str(exc)


@functools.cache
def _errors() -> tuple[tuple[type[Exception], ...], tuple[type[BaseException], ...]]:
    """(credential errors, transient errors) of redis-py, imported on first use."""
    from redis.exceptions import AuthenticationError, AuthorizationError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return (
        (AuthenticationError, AuthorizationError),
        (RedisConnectionError, RedisTimeoutError, OSError),
    )
