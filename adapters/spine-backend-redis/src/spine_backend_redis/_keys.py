"""Key names. Every key of one namespace carries the same hash tag, `{<prefix>:<ns>}`.

Redis Cluster hashes only the text between the first `{` and the next `}`, so all keys of a
namespace live in one slot: the Lua scripts that update a session and its indexes (or a
record, its vector and its orderings) touch several keys atomically, which Cluster allows
only within one slot. Namespaces are validated to `[A-Za-z0-9_-]`, so no namespace can
contain a brace and move the tag; session ids, tenant ids and record ids may contain
anything, because they come after the tag.
"""

from __future__ import annotations

__all__ = [
    "SPINEKIT_PREFIX",
    "CheckpointKeys",
    "MemoryKeys",
]

SPINEKIT_PREFIX = "spine:checkpoint:"
"""Where spinekit's `RedisCheckpoint` kept sessions: a string key `<prefix><session id>`."""


class CheckpointKeys:
    """Keys of one checkpoint namespace.

    `spinekit_prefix` is the prefix of the spinekit keys this store adopts. spinekit users
    kept stores apart by giving each its own prefix, so any prefix but spinekit's default
    becomes part of the hash tag (`{spine:default:myapp:}`): such stores stay apart here too.
    Namespaces and key prefixes contain no ':', so no two configurations share a tag.
    """

    def __init__(self, prefix: str, namespace: str, spinekit_prefix: str = SPINEKIT_PREFIX) -> None:
        scope = "" if spinekit_prefix == SPINEKIT_PREFIX else ":" + spinekit_prefix
        self.tag = f"{{{prefix}:{namespace}{scope}}}"
        base = f"{self.tag}:cp:"
        self.adopted = base + "adopted"
        """Set once every spinekit key under the prefix has been adopted: later opens skip it."""
        self.session_prefix = base + "session:"
        self.tenant_prefix = base + "tenant:"
        self.sessions = base + "sessions"
        """Sorted set of every session id, all scores 0: ordered by id, paged by ZRANGE BYLEX."""
        self.updated = base + "updated"
        """Sorted set of session id scored by the last put (µs since the epoch), for prune."""
        self.tenant_of = base + "tenant_of"
        """Hash of session id to tenant id: outlives an expired session, for index hygiene."""

    def session(self, session_id: str) -> str:
        """The hash holding a session's state, revision, tenant and update time."""
        return self.session_prefix + session_id

    def tenant(self, tenant_id: str) -> str:
        """Sorted set of the session ids of one tenant (scores 0)."""
        return self.tenant_prefix + tenant_id


class MemoryKeys:
    """Keys of one memory namespace."""

    def __init__(self, prefix: str, namespace: str) -> None:
        self.tag = f"{{{prefix}:{namespace}}}"
        base = f"{self.tag}:mem:"
        self.meta = base + "meta"
        """Hash: embedder name and dimension, quantization, M (checked on every open)."""
        self.vectors = base + "vectors"
        """The vector set: element = record id, attributes = digests for FILTER."""
        self.by_time = base + "by_time"
        """Sorted set of every record id scored by its ts (µs), for prune(before=)."""
        self.counts = base + "counts"
        """Hash: how many records carry each (metadata key, value) pair, to plan filters."""
        self.record_prefix = base + "record:"
        self.session_prefix = base + "session:"

    def record(self, record_id: str) -> str:
        """The hash holding a record's content, session, metadata and ts."""
        return self.record_prefix + record_id

    def session(self, session_id: str) -> str:
        """Sorted set of a session's record ids scored by ts (µs): `load` order."""
        return self.session_prefix + session_id
