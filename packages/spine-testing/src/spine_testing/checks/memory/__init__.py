"""Memory checks (DESIGN.md §3 and §4), one module per capability.

Every text carries a fresh token and every record a fresh session id, so the checks hold on a
namespace that also contains other data. Scores are compared with the cosine similarity the
kit computes itself from the store's embedder (the kit passes `HashEmbedder` explicitly).
"""

# Importing a module registers its checks; this order is the order checks are listed and run.
# isort: off
from . import base, lookup, prune, batch, filter, persistence, ann, export

# isort: on

__all__ = ["ann", "base", "batch", "export", "filter", "lookup", "persistence", "prune"]
