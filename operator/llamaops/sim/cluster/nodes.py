"""GPU nodes as GPU Feature Discovery and the device plugin leave them, and their heartbeats.

Each node renews its Lease in kube-node-lease every heartbeat and refreshes its Ready
condition; a failed node stops both, which is how the node lifecycle controller notices.
"""

import asyncio
import contextlib
from typing import Any

from llamaops.sim.clock import micro_timestamp, timestamp
from llamaops.sim.cluster.access import ClusterApi
from llamaops.sim.cluster.addresses import node_address
from llamaops.sim.cluster.config import ClusterFile, NodePool

Obj = dict[str, Any]
STATUS_EVERY = 6  # heartbeats between Ready-condition refreshes (leases carry the rest)


def node_object(pool: NodePool, index: int, ordinal: int, now: str) -> Obj:
    name = f"{pool.pool}-{index}"
    labels = {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "sim.llamaops.io/pool": pool.pool,
        **pool.labels,
    }
    resources = {"cpu": pool.cpu, "memory": pool.memory, "pods": "110", "ephemeral-storage": "1Ti"}
    if pool.gpu is not None:
        labels.update(
            {
                "nvidia.com/gpu.present": "true",
                "nvidia.com/gpu.product": pool.gpu.product,
                "nvidia.com/gpu.count": str(pool.gpu.count),
            }
        )
        if pool.gpu.memory_mib is not None:
            labels["nvidia.com/gpu.memory"] = str(pool.gpu.memory_mib)
        resources["nvidia.com/gpu"] = str(pool.gpu.count)
    return {
        "metadata": {"name": name, "labels": labels},
        "spec": {"taints": [taint.model_dump() for taint in pool.taints]},
        "status": {
            "capacity": dict(resources),
            "allocatable": dict(resources),
            "conditions": ready_conditions(now, ready=True),
            "addresses": [
                {"type": "InternalIP", "address": node_address(ordinal)},
                {"type": "Hostname", "address": name},
            ],
            "nodeInfo": {
                "kubeletVersion": "v1.32.0-llamaops-sim",
                "kubeProxyVersion": "",
                "containerRuntimeVersion": "sim://1.0",
                "osImage": "llamaops local cluster",
                "kernelVersion": "sim",
                "operatingSystem": "linux",
                "architecture": "amd64",
                "machineID": name,
                "systemUUID": name,
                "bootID": name,
            },
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        },
    }


def ready_conditions(now: str, ready: bool | None) -> list[Obj]:
    """Ready (True, or Unknown when `ready` is None), with the pressure conditions False."""
    status = "Unknown" if ready is None else ("True" if ready else "False")
    reason, message = (
        ("KubeletReady", "kubelet is posting ready status")
        if status == "True"
        else ("NodeStatusUnknown", "Kubelet stopped posting node status.")
    )
    pressure = [
        {
            "type": kind,
            "status": "Unknown" if ready is None else "False",
            "reason": f"KubeletHas{why}" if ready is not None else "NodeStatusUnknown",
            "message": message if ready is None else f"kubelet has {why.lower()}",
            "lastHeartbeatTime": now,
            "lastTransitionTime": now,
        }
        for kind, why in (
            ("MemoryPressure", "SufficientMemory"),
            ("DiskPressure", "NoDiskPressure"),
            ("PIDPressure", "SufficientPID"),
        )
    ]
    ready_condition = {
        "type": "Ready",
        "status": status,
        "reason": reason,
        "message": message,
        "lastHeartbeatTime": now,
        "lastTransitionTime": now,
    }
    return [*pressure, ready_condition]


def create_nodes(api: ClusterApi, cluster: ClusterFile) -> list[str]:
    names = []
    now = timestamp(api.clock.now())
    ordinal = 0
    for pool in cluster.nodes:
        for index in range(pool.count):
            node = node_object(pool, index, ordinal, now)
            api.create("nodes", "", node)
            names.append(node["metadata"]["name"])
            ordinal += 1
    return names


class Heartbeat:
    """One node's kubelet heartbeat: renews its Lease, refreshes its Ready condition."""

    def __init__(self, api: ClusterApi, node: str, period: float) -> None:
        self.api, self.node, self.period = api, node, period
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._beat(), name=f"heartbeat-{self.node}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _beat(self) -> None:
        beats = 0
        while True:
            self._renew_lease()
            if beats % STATUS_EVERY == 0:
                self._post_ready()
            beats += 1
            await self.api.clock.sleep(self.period)

    def _renew_lease(self) -> None:
        now = micro_timestamp(self.api.clock.now())
        lease = self.api.get("leases", "kube-node-lease", self.node)
        if lease is None:
            self.api.create(
                "leases",
                "kube-node-lease",
                {
                    "metadata": {"name": self.node, "namespace": "kube-node-lease"},
                    "spec": {
                        "holderIdentity": self.node,
                        "leaseDurationSeconds": 40,
                        "renewTime": now,
                    },
                },
            )
            return
        self.api.update("leases", lease, lambda obj: obj["spec"].update(renewTime=now))

    def _post_ready(self) -> None:
        node = self.api.get("nodes", "", self.node)
        if node is None:
            return
        now = timestamp(self.api.clock.now())

        def refresh(obj: Obj) -> None:
            conditions = obj["status"].get("conditions") or []
            was_ready = any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)
            fresh = ready_conditions(now, ready=True)
            if was_ready:  # keep transition times: only the heartbeat moves
                for new, old in zip(fresh, conditions, strict=False):
                    new["lastTransitionTime"] = old.get("lastTransitionTime", now)
            obj["status"]["conditions"] = fresh

        self.api.update("nodes", node, refresh, status=True)
