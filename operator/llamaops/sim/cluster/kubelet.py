"""A node's kubelet: runs the pods bound to its node, and finishes the ones being deleted.

It watches pods with `spec.nodeName=<node>` and keeps one PodWorker per pod. Stopped
abruptly (the node failed), its containers die and it reports nothing; started again
(the node came back), it removes the pods that were deleted meanwhile and restarts the
others, as a rebooted kubelet does.
"""

import asyncio
import contextlib
import logging
from typing import Any, Protocol

import aiohttp

from llamaops.sim.cluster.access import ClusterApi
from llamaops.sim.cluster.addresses import PodAddresses
from llamaops.sim.cluster.containers import Container
from llamaops.sim.cluster.pod_worker import PodWorker

log = logging.getLogger("llamaops.sim.kubelet")
Obj = dict[str, Any]
TERMINAL = ("Succeeded", "Failed")


class Runtime(Protocol):
    def container_for(self, node: str, pod: Obj, spec: Obj, ip: str) -> Container: ...


class Kubelet:
    def __init__(
        self, api: ClusterApi, node: str, node_ip: str, addresses: PodAddresses, runtime: Runtime
    ) -> None:
        self.api, self.node, self.node_ip = api, node, node_ip
        self.addresses, self.runtime = addresses, runtime
        self.session: aiohttp.ClientSession | None = None
        self._workers: dict[str, tuple[PodWorker, asyncio.Task[None]]] = {}
        self._watching: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.session = aiohttp.ClientSession()
        self._watching = asyncio.create_task(self._watch(), name=f"kubelet-{self.node}")

    async def stop(self) -> None:
        """The node dies: every container is killed and nothing more is written."""
        if self._watching is not None:
            self._watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watching
            self._watching = None
        for worker, task in self._workers.values():
            worker.stop_abruptly()
            task.cancel()
        for _, task in self._workers.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._workers.clear()
        if self.session is not None:
            await self.session.close()
            self.session = None

    def container_for(self, pod: Obj, spec: Obj, ip: str) -> Container:
        return self.runtime.container_for(self.node, pod, spec, ip)

    async def _watch(self) -> None:
        while True:  # a watch closed by a fault is opened again, as the kubelet would
            async for kind, pod in self.api.watch("pods", fields=f"spec.nodeName={self.node}"):
                self._see(kind, pod)
            await asyncio.sleep(0.05)

    def _see(self, kind: str, pod: Obj) -> None:
        uid = pod["metadata"]["uid"]
        if kind == "DELETED":
            entry = self._workers.pop(uid, None)
            if entry is not None and not entry[1].done():
                entry[0].stop_abruptly()
                entry[1].cancel()
            self.addresses.release(uid)
            return
        deleting = bool(pod["metadata"].get("deletionTimestamp"))
        if uid in self._workers:
            if deleting:
                self._workers[uid][0].deleting.set()
            return
        if deleting:  # deleted while this kubelet was away: its containers are long gone
            self.api.delete("pods", pod["metadata"]["namespace"], pod["metadata"]["name"], 0)
            return
        if (pod.get("status") or {}).get("phase") in TERMINAL:
            return
        worker = PodWorker(self, pod)
        task = asyncio.create_task(self._run(worker), name=f"pod-{pod['metadata']['name']}")
        self._workers[uid] = (worker, task)

    async def _run(self, worker: PodWorker) -> None:
        try:
            await worker.run()
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug here must not take the node down silently
            log.exception("pod %s/%s failed in the kubelet", worker.namespace, worker.name)
