{%- set P = cookiecutter.__class_prefix -%}
"""The benchmark floor: the checkpoint store's own operations through the bare client.

`spine bench` runs the same workload through this class and through the store and reports
the ratio: the cost of Spine itself (validation, serialization, revision bookkeeping). Keep
it honest: the same operations the store runs (its upsert, its keyed read, its
compare-and-set), minus Spine; not a strawman that makes the store look cheap.
"""

from __future__ import annotations

import secrets

from ._connection import StandInServer, check_url, connect

__all__ = ["Raw{{ P }}"]


class Raw{{ P }}:
    """The store's own operations through the bare client, for `spine bench`."""

    def __init__(self, target: str) -> None:
        """`target` is the same URL the store takes."""
        self._url = check_url(target)
        self._table = f"raw/{secrets.token_hex(4)}"
        self._server: StandInServer | None = None

    def _rows(self) -> dict[str, tuple[int, str]]:
        if self._server is None:
            raise RuntimeError("Raw{{ P }} is not open; call open() first")
        # REPLACE: a private table or key prefix of its own (cleanup removes it).
        return self._server.table(self._table)

    async def open(self) -> None:
        """Connect."""
        self._server = await connect(self._url)

    async def close(self) -> None:
        """Disconnect."""
        # REPLACE: close the driver's client.
        self._server = None

    async def put(self, key: str, payload: str) -> None:
        """The store's plain write: the payload, and the revision bumped."""
        rows = self._rows()
        # REPLACE: the same upsert the store's put runs.
        revision = rows[key][0] if key in rows else 0
        rows[key] = (revision + 1, payload)

    async def get(self, key: str) -> str | None:
        """The payload under `key`, or None."""
        # REPLACE: the same keyed read the store's get runs.
        row = self._rows().get(key)
        return None if row is None else row[1]

    async def cas_put(self, key: str, payload: str, expected: int) -> bool:
        """Write only if the revision is `expected` (0: only if missing); True if written."""
        rows = self._rows()
        # REPLACE: the same atomic compare-and-set the store's put runs.
        revision = rows[key][0] if key in rows else 0
        if revision != expected:
            return False
        rows[key] = (revision + 1, payload)
        return True

    async def cleanup(self) -> None:
        """Remove everything this instance wrote."""
        # REPLACE: drop the private table / delete the key prefix.
        if self._server is not None:
            self._server.drop(self._table)
