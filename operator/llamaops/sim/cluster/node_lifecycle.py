"""The node lifecycle controller and its taint manager.

A node whose Lease has not been renewed for the grace period (40 s) turns Ready=Unknown and
gets the `node.kubernetes.io/unreachable` NoSchedule and NoExecute taints; pods on a node
with a NoExecute taint they do not tolerate are evicted at once, and those that tolerate it
for `tolerationSeconds` (300 s by default) are evicted when that time runs out. Evicted
pods stay Terminating until their node comes back (its kubelet finishes them) or goes.
"""

import asyncio
from datetime import datetime
from typing import Any

from llamaops.sim.clock import timestamp
from llamaops.sim.cluster.access import ClusterApi
from llamaops.sim.cluster.nodes import ready_conditions
from llamaops.sim.cluster.scheduling import tolerates

Obj = dict[str, Any]
UNREACHABLE = "node.kubernetes.io/unreachable"
MONITOR_SECONDS = 2.0


class NodeLifecycle:
    def __init__(self, api: ClusterApi, grace_seconds: float) -> None:
        self.api, self.grace = api, grace_seconds
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._monitor(), name="node-lifecycle")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _monitor(self) -> None:
        while True:
            self.check()
            await self.api.clock.sleep(MONITOR_SECONDS)

    def check(self) -> None:
        now = self.api.clock.now()
        for node in self.api.list("nodes"):
            lease = self.api.get("leases", "kube-node-lease", node["metadata"]["name"])
            renewed = _parse((lease or {}).get("spec", {}).get("renewTime"))
            silent = renewed is None or (now - renewed).total_seconds() > self.grace
            unreachable = any(t.get("key") == UNREACHABLE for t in node["spec"].get("taints") or [])
            if silent and not unreachable:
                self._mark_unreachable(node)
            elif not silent and unreachable:
                self._mark_reachable(node)
        self._evict(now)

    def _mark_unreachable(self, node: Obj) -> None:
        now = timestamp(self.api.clock.now())

        def taint(obj: Obj) -> None:
            taints = obj["spec"].setdefault("taints", [])
            taints += [
                {"key": UNREACHABLE, "effect": effect, "timeAdded": now}
                for effect in ("NoSchedule", "NoExecute")
            ]

        def unknown(obj: Obj) -> None:
            obj["status"]["conditions"] = ready_conditions(now, ready=None)

        self.api.update("nodes", node, taint)
        self.api.update("nodes", node, unknown, status=True)
        self._mark_pods_not_ready(node["metadata"]["name"], now)
        self.api.event(
            {**node, "kind": "Node"},
            "NodeNotReady",
            f"Node {node['metadata']['name']} status is now: NodeNotReady",
            component="node-controller",
        )

    def _mark_pods_not_ready(self, node: str, now: str) -> None:
        """Pods of a node that stopped reporting are not ready any more: Services drop them
        long before they are evicted."""

        def not_ready(pod: Obj) -> None:
            for condition in (pod.get("status") or {}).get("conditions") or []:
                if condition.get("type") in ("Ready", "ContainersReady") and (
                    condition.get("status") == "True"
                ):
                    condition.update(status="False", reason="NodeNotReady", lastTransitionTime=now)

        for pod in self.api.list("pods", fields=f"spec.nodeName={node}"):
            if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                continue
            self.api.update("pods", pod, not_ready, status=True)
            self.api.event(
                pod,
                "NodeNotReady",
                "Node is not ready",
                kind="Warning",
                component="node-controller",
            )

    def _mark_reachable(self, node: Obj) -> None:
        def untaint(obj: Obj) -> None:
            obj["spec"]["taints"] = [
                t for t in obj["spec"].get("taints") or [] if t.get("key") != UNREACHABLE
            ]

        self.api.update("nodes", node, untaint)

    def _evict(self, now: datetime) -> None:
        nodes = {n["metadata"]["name"]: n for n in self.api.list("nodes")}
        for pod in self.api.list("pods"):
            node = nodes.get(pod["spec"].get("nodeName") or "")
            if node is None or pod["metadata"].get("deletionTimestamp"):
                continue
            taints = [t for t in node["spec"].get("taints") or [] if t.get("effect") == "NoExecute"]
            if taints and _eviction_due(pod, taints, now):
                meta = pod["metadata"]
                self.api.event(
                    pod,
                    "TaintManagerEviction",
                    f"Marking for deletion Pod {meta['namespace']}/{meta['name']}",
                    component="taint-eviction-controller",
                )
                self.api.delete("pods", meta["namespace"], meta["name"])


def _eviction_due(pod: Obj, taints: list[Obj], now: datetime) -> bool:
    tolerations = pod["spec"].get("tolerations") or []
    for taint in taints:
        matching = [t for t in tolerations if tolerates([t], taint)]
        if not matching:
            return True
        limits = [
            t["tolerationSeconds"] for t in matching if t.get("tolerationSeconds") is not None
        ]
        added = _parse(taint.get("timeAdded"))
        if limits and added is not None and (now - added).total_seconds() >= min(limits):
            return True
    return False


def _parse(text: Any) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(str(text).replace("Z", "+00:00"))
