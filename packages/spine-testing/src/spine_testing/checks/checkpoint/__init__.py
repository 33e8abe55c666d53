"""Checkpoint-store checks (DESIGN.md §3 and §4), one module per capability.

Base checks run against every store; the others only when their capability is advertised.
Decisions the contract leaves to the kit, mirroring the reference store:
- a put without ``ttl`` uses the store's ``default_ttl`` (None: never expires), so a plain
  put after a ttl put makes the session permanent again;
- ``list_sessions`` orders by session id in code-point order (= UTF-8 byte order);
- ``prune(before=...)`` compares against each session's last put, by the writer's UTC clock;
- ``export_sessions`` orders like ``list_sessions``; ``restore_session`` keeps ``updated_at``
  (to the millisecond) and the remaining ttl (to two seconds), and starts revisions anew.
"""

# Importing a module registers its checks; this order is the order checks are listed and run.
# isort: off
from . import base, durability, revisions, ttl, listing, prune, export

# isort: on

__all__ = ["base", "durability", "export", "listing", "prune", "revisions", "ttl"]
