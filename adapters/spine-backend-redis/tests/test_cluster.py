"""Both Redis stores on a Redis Cluster (issue 14, item 19), including a failover.

The plugin's `redis_cluster_url` is `SPINE_REDIS_CLUSTER_URL` or a throwaway cluster of three
masters with one replica each, started from the same `redis-server` as the other tests.
The kit's conformance classes run verbatim with `cluster=True`; every key a test writes is
under its own prefix and deleted afterwards on every master.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest
import redis

from spine_backend_redis import RedisCheckpoint, RedisMemory
from spine_core import MemoryItem, State
from spine_core.errors import ConflictError
from spine_testing import CheckpointStoreContract, Intermittent, MemoryContract
from spine_testing.plugin import skip_or_fail
from spine_testing.services import RedisCluster, started_redis_cluster

Factory = Callable[..., Any]


def _delete_under(url: str, prefix: str) -> None:
    assert prefix.startswith("spt_"), prefix
    with redis.RedisCluster.from_url(url, socket_timeout=5) as client:
        for key in list(client.scan_iter(match=f"{{spine:{prefix}*", count=1000)):
            client.delete(key)


@pytest.fixture
def nsc(redis_cluster_url: str, unique_prefix: str) -> Iterator[str]:
    """A namespace prefix on the cluster whose keys are deleted after the test."""
    yield unique_prefix
    _delete_under(redis_cluster_url, unique_prefix)


# redis-py's asyncio RedisCluster (7.4) fails when many tasks send their first commands at once
# on fresh node connections: "AttributeError: 'NoneType' object has no attribute 'writelines'"
# from the driver's own connect path. Not ours to patch. Most runs show it, some do not (it
# is a race), so it is an intermittent expected failure: reported either way, never hidden.
_DRIVER_RACE = Intermittent(
    "redis-py asyncio RedisCluster: concurrent first commands race on connect"
)


class TestClusterCheckpoint(CheckpointStoreContract):
    """RedisCheckpoint on a Redis Cluster."""

    expected_failures: ClassVar[dict[str, str]] = {
        "concurrent_puts_distinct_sessions": _DRIVER_RACE
    }

    @pytest.fixture
    def store_factory(
        self, redis_cluster_url: str, nsc: str, make_factory: Callable[..., Factory]
    ) -> Factory:
        return make_factory(RedisCheckpoint, redis_cluster_url, nsc, cluster=True)


class TestClusterMemory(MemoryContract):
    """RedisMemory on a Redis Cluster."""

    @pytest.fixture
    def store_factory(
        self, redis_cluster_url: str, nsc: str, make_factory: Callable[..., Factory]
    ) -> Factory:
        return make_factory(RedisMemory, redis_cluster_url, nsc, cluster=True)


async def test_namespaces_on_different_slots_all_work(redis_cluster_url: str, nsc: str) -> None:
    url = redis_cluster_url
    for ns in (f"{nsc}_{i}" for i in range(3)):  # three namespaces, three slots
        async with RedisCheckpoint.from_url(url, namespace=ns, cluster=True) as checkpoint:
            await checkpoint.put(State(session_id="a", tenant_id="t"), ttl=60)
            await checkpoint.put(State(session_id="a", tenant_id="u"), expected_revision=1)
            with pytest.raises(ConflictError):
                await checkpoint.put(State(session_id="a"), expected_revision=1)
            page = await checkpoint.list_sessions(tenant_id="u")
            assert [s.session_id for s in page.sessions] == ["a"]
            assert await checkpoint.prune(before=datetime.now(UTC)) == 1
        async with RedisMemory.from_url(url, namespace=ns, cluster=True) as memory:
            items = [
                MemoryItem(content=f"hello {i}", session_id="s", metadata={"odd": i % 2})
                for i in range(40)
            ]
            await memory.save_many(items)
            hits = await memory.search("hello 3", k=3, session_id="s", filter={"odd": 1})
            assert hits[0].record.content == "hello 3"
            assert [r.content for r in await memory.load("s", limit=1)] == ["hello 39"]
            assert await memory.prune(session_id="s") == 40


def _owner(cluster: RedisCluster, key: str) -> int:
    """Index in `cluster.nodes` of the master now serving `key`."""
    seed = next(node for node in cluster.nodes if node.running)  # `cluster.url` may be down
    with redis.Redis(port=seed.port, socket_timeout=2) as client:
        number = int(client.execute_command("CLUSTER", "KEYSLOT", key))
    for i, node in enumerate(cluster.nodes):
        if not node.running:
            continue
        try:
            with redis.Redis(port=node.port, socket_timeout=1) as client:
                if client.execute_command("ROLE")[0] != b"master":
                    continue
                for first, last, *_ in client.execute_command("CLUSTER", "SLOTS"):
                    if first <= number <= last:
                        return i
        except redis.RedisError:
            continue
    raise AssertionError(f"no master serves slot {number}")


def _failed_over(cluster: RedisCluster, key: str, victim: int) -> bool:
    """Whether a running master other than node `victim` now serves `key`."""
    try:
        return _owner(cluster, key) != victim
    except AssertionError:  # between the kill and the promotion no master serves the slot
        return False


async def test_stores_keep_working_after_a_master_fails_over(
    redis_cluster_url: str, nsc: str
) -> None:
    """Kill the master of the namespace's slot: its replica takes over, the same stores work."""
    cluster = started_redis_cluster()
    if cluster is None:
        skip_or_fail("the failover test needs the kit's own cluster (SPINE_REDIS_CLUSTER_URL set)")
    checkpoint = RedisCheckpoint.from_url(redis_cluster_url, namespace=nsc, cluster=True)
    memory = RedisMemory.from_url(redis_cluster_url, namespace=nsc, cluster=True)
    try:
        await checkpoint.put(State(session_id="a", step=1))
        await memory.save("before the failover", session_id="s")
        key = f"{{spine:{nsc}}}"
        index = _owner(cluster, key)
        victim = cluster.nodes[index]
        victim.stop()  # like a crash: the process is gone
        # `healthy()` is still true right after the kill (the other nodes have not marked the
        # master failed yet), so wait for the replica to own the slot: the retries below then
        # cover only the client's topology refresh, which redis-py 8 paces (one per second).
        cluster.wait_until(lambda: _failed_over(cluster, key, index), timeout=30)
        cluster.wait_until(cluster.healthy, timeout=30)

        # Replication is asynchronous, so a write acknowledged just before the crash may be
        # lost; the stores must work again, on the same objects, with bounded retries.
        async def works() -> bool:
            try:
                await checkpoint.put(State(session_id="b", step=2))
                return await checkpoint.get("b") == State(session_id="b", step=2)
            except Exception:
                return False

        for _ in range(20):
            if await works():
                break
        else:
            raise AssertionError("the checkpoint store did not recover after the failover")
        record = await memory.save("after the failover", session_id="s")
        assert (await memory.search("after the failover", k=1))[0].record.id == record.id
    finally:
        await checkpoint.aclose()
        await memory.aclose()
        for node in cluster.nodes:
            if not node.running:
                node.restart()  # it rejoins as a replica of the new master
        cluster.wait_until(cluster.healthy, timeout=30)
