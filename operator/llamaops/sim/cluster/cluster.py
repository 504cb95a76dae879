"""The local cluster: the API emulator plus the parts that make its objects live.

`LocalCluster(config, server)` creates the nodes of the cluster file, and runs a kubelet
and a heartbeat per node, the scheduler, the node lifecycle controller, the endpoints
controller, a proxy per Service and Prometheus' service discovery (`discovery.url`), all
on the emulator's event loop. It can fail, drain and restore nodes, and add new ones.
"""

import asyncio
from typing import Any

from llamaops.sim.apiserver import subresources
from llamaops.sim.apiserver.errors import ApiError
from llamaops.sim.apiserver.server import ApiServer
from llamaops.sim.clock import timestamp
from llamaops.sim.cluster.access import ClusterApi
from llamaops.sim.cluster.addresses import PodAddresses, node_address
from llamaops.sim.cluster.config import ClusterFile
from llamaops.sim.cluster.endpoints import EndpointsController
from llamaops.sim.cluster.engines import EngineRuntime
from llamaops.sim.cluster.kubelet import Kubelet
from llamaops.sim.cluster.node_lifecycle import NodeLifecycle
from llamaops.sim.cluster.nodes import Heartbeat, node_object
from llamaops.sim.cluster.prometheus_sd_server import PrometheusDiscovery
from llamaops.sim.cluster.proxy import Proxies
from llamaops.sim.cluster.scheduler import Scheduler

Obj = dict[str, Any]
UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
DRAIN_RETRY_SECONDS = 5.0


class LocalCluster:
    def __init__(self, config: ClusterFile, server: ApiServer) -> None:
        self.config, self.server = config, server
        self.api = ClusterApi(server)
        self.addresses = PodAddresses()
        self.runtime = EngineRuntime(config, self.api)
        self.scheduler = Scheduler(self.api)
        self.lifecycle = NodeLifecycle(self.api, config.node_grace_seconds)
        self.endpoints = EndpointsController(self.api)
        self.proxies = Proxies(self.api)
        self.discovery = PrometheusDiscovery(self.api)
        self.heartbeats: dict[str, Heartbeat] = {}
        self.kubelets: dict[str, Kubelet] = {}
        self._ordinal = 0

    async def start(self) -> None:
        for pool in self.config.nodes:
            for _ in range(pool.count):
                await self.add_node(pool.pool)
        self.scheduler.start()
        self.lifecycle.start()
        self.endpoints.start()
        self.proxies.start()
        await self.discovery.start()

    async def stop(self) -> None:
        for kubelet in self.kubelets.values():
            await kubelet.stop()
        for heartbeat in self.heartbeats.values():
            await heartbeat.stop()
        for part in (self.scheduler, self.lifecycle, self.endpoints, self.proxies):
            await part.stop()
        await self.discovery.stop()
        await self.runtime.close()

    async def add_node(self, pool_name: str) -> str:
        """One more node of a pool from the cluster file."""
        pool = next(p for p in self.config.nodes if p.pool == pool_name)
        index = sum(1 for name in self.kubelets if name.rsplit("-", 1)[0] == pool_name)
        node = node_object(pool, index, self._ordinal, timestamp(self.api.clock.now()))
        name = str(node["metadata"]["name"])
        self.api.create("nodes", "", node)
        self._ordinal += 1
        self.heartbeats[name] = Heartbeat(self.api, name, self.config.heartbeat_seconds)
        self.heartbeats[name].start()
        self.kubelets[name] = Kubelet(
            self.api, name, node_address(self._ordinal - 1), self.addresses, self.runtime
        )
        await self.kubelets[name].start()
        return name

    async def fail_node(self, name: str) -> None:
        """The node stops: no more heartbeats, its containers die, its kubelet is silent."""
        await self.heartbeats[name].stop()
        await self.kubelets[name].stop()

    async def restore_node(self, name: str) -> None:
        """The node comes back: heartbeats resume and a fresh kubelet takes its pods."""
        self.heartbeats[name].start()
        kubelet = self.kubelets[name]
        self.kubelets[name] = Kubelet(self.api, name, kubelet.node_ip, self.addresses, self.runtime)
        await self.kubelets[name].start()
        node = self.api.get("nodes", "", name)
        if node is not None and node["spec"].get("unschedulable"):
            self.api.update("nodes", node, _uncordon)

    def cordon(self, name: str) -> None:
        node = self.api.get("nodes", "", name)
        if node is not None:
            self.api.update("nodes", node, _cordon)

    async def drain_node(self, name: str, timeout: float = 600.0) -> list[str]:
        """Cordon, then evict every pod through the eviction API, which honours
        PodDisruptionBudgets, retrying refused evictions; returns the pods still there."""
        self.cordon(name)
        deadline = self.api.clock.monotonic() + timeout
        while True:
            left = [
                p
                for p in self.api.list("pods", fields=f"spec.nodeName={name}")
                if not p["metadata"].get("deletionTimestamp")
            ]
            for pod in left:
                self._evict(pod)
            remaining = [
                p["metadata"]["name"] for p in self.api.list("pods", fields=f"spec.nodeName={name}")
            ]
            if not remaining or self.api.clock.monotonic() >= deadline:
                return remaining
            await self.api.clock.sleep(DRAIN_RETRY_SECONDS)

    def _evict(self, pod: Obj) -> None:
        resource = self.api.resource("pods")
        try:
            subresources.evict(self.server.api, self.server.lifecycle, resource, pod, {})
        except ApiError as error:
            if error.code not in (404, 429):
                raise

    def service_url(self, namespace: str, name: str) -> str | None:
        return self.proxies.url_of(namespace, name)

    async def settle(self) -> None:
        """Let queued work (watch events, controller passes) run."""
        for _ in range(3):
            await asyncio.sleep(0)


def _cordon(node: Obj) -> None:
    node["spec"]["unschedulable"] = True
    taints = node["spec"].setdefault("taints", [])
    if not any(t.get("key") == UNSCHEDULABLE for t in taints):
        taints.append({"key": UNSCHEDULABLE, "effect": "NoSchedule"})


def _uncordon(node: Obj) -> None:
    node["spec"].pop("unschedulable", None)
    node["spec"]["taints"] = [
        t for t in node["spec"].get("taints") or [] if t.get("key") != UNSCHEDULABLE
    ]
