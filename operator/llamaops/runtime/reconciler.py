"""One reconcile for every trigger: observe -> plan -> apply -> report, one at a time per
deployment; a plan that asks to look again soon (drains, loading replicas) is honoured,
and a reconcile that changed status looks again shortly (FOLLOW_UP_SECONDS): the planner
reads its own status (a halted rollout, for one), and no event wakes a deployment for its
own status, so a step recorded there is taken at once and not at the next resync. One that
wrote nothing waits for an event: at rest, nothing.

The Reconciler owns what the operator keeps between reconciles: the cache of the cluster
(cache.py, fed by the pod and node informers and kopf's watches) and the shared reads of
the replicas' /metrics (scrapes.py)."""

import asyncio
import contextvars
import logging
import time

import aiohttp

from llamaops.kube.client import Kube
from llamaops.kube.informer import Informer
from llamaops.reconcile.planner import plan
from llamaops.reconcile.suffixes import random_suffixes
from llamaops.runtime import metrics
from llamaops.runtime.apply import apply
from llamaops.runtime.cache import Cache, slim_node, slim_pod
from llamaops.runtime.observe import observe
from llamaops.runtime.report import report
from llamaops.runtime.scrapes import Scrapes

log = logging.getLogger("llamaops")
FOLLOW_UP_SECONDS = 0.5  # after a status change: the next step it may unlock
Key = tuple[str, str]


class Reconciler:
    def __init__(self, kube: Kube) -> None:
        self.kube = kube
        self.cache = Cache(replica_changed=self._replica_changed)
        # kopf's context (its event queue, for kopf.event) from a handler: reconciles that
        # a watch of ours starts run in it. None until kopf has handled a deployment (it
        # reconciles each one as it resumes, so nothing is missed before).
        self.kopf_context: contextvars.Context | None = None
        self._locks: dict[Key, asyncio.Lock] = {}
        self._later: dict[Key, tuple[float, asyncio.Task[None]]] = {}
        self._session: aiohttp.ClientSession | None = None
        self._scrapes: Scrapes | None = None
        self._informers: list[Informer] = []

    def watch(self) -> None:
        """Start the pod and node informers that feed the cache (on the running loop)."""
        loop = asyncio.get_running_loop()
        cache = self.cache
        self._informers = [
            Informer(
                self.kube, "pods", loop, cache.pods_relisted, cache.pod_changed, trim=slim_pod
            ),
            Informer(
                self.kube, "nodes", loop, cache.nodes_relisted, cache.node_changed, trim=slim_node
            ),
        ]
        for informer in self._informers:
            informer.start()

    async def close(self) -> None:
        for _, task in self._later.values():
            task.cancel()
        await asyncio.gather(*(asyncio.to_thread(i.stop) for i in self._informers))
        if self._session is not None:
            await self._session.close()

    async def reconcile(self, namespace: str, name: str) -> None:
        lock = self.lock(namespace, name)
        if lock.locked():
            self.soon(namespace, name, 1.0)  # a reconcile is running: look again after it
            return
        async with lock:
            started = time.monotonic()
            try:
                await self._once(namespace, name)
                metrics.RECONCILES.labels(result="ok").inc()
            except Exception:
                metrics.RECONCILES.labels(result="error").inc()
                log.exception("Reconcile of LlamaDeployment %s/%s failed", namespace, name)
                self.soon(namespace, name, 5.0)
            finally:
                metrics.RECONCILE_SECONDS.observe(time.monotonic() - started)

    def http(self) -> aiohttp.ClientSession:
        """The session for the replicas' HTTP (warm-ups, /metrics), shared."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    def scrapes(self) -> Scrapes:
        """The replicas' /metrics, read once for the reconciles and the autoscaler."""
        if self._scrapes is None:
            self._scrapes = Scrapes(self.http())
        return self._scrapes

    def lock(self, namespace: str, name: str) -> asyncio.Lock:
        """Held while a reconcile of this deployment runs; deletion takes it too."""
        return self._locks.setdefault((namespace, name), asyncio.Lock())

    def _replica_changed(self, namespace: str, name: str) -> None:
        if self.kopf_context is not None:
            self.kopf_context.run(self.soon, namespace, name, 0.2)

    def soon(self, namespace: str, name: str, seconds: float) -> None:
        """Reconcile again after `seconds`; of several such requests the earliest wins."""
        key = (namespace, name)
        due = asyncio.get_running_loop().time() + seconds
        waiting = self._later.get(key)
        if waiting is not None and not waiting[1].done():
            if waiting[0] <= due:
                return
            waiting[1].cancel()

        async def later() -> None:
            await asyncio.sleep(seconds)
            self._later.pop(key, None)
            await self.reconcile(namespace, name)

        self._later[key] = (due, asyncio.create_task(later()))

    async def _once(self, namespace: str, name: str) -> None:
        # As kopf's watch last showed it (its handlers run after the cache has it): a
        # deployment kopf has not shown yet is reconciled when it does.
        body = self.cache.get("LlamaDeployment", namespace, name)
        if body is None or body["metadata"].get("deletionTimestamp"):
            return
        observed = await observe(self.cache, self.kube, body, self.scrapes())
        decided = plan(observed, random_suffixes())
        for action in decided.actions:
            log.info("%s/%s: %s", namespace, name, action.reason)
        await apply(self.kube, self.cache, namespace, decided.actions, self.http())
        if await report(self.kube, self.cache, body, observed, decided):
            self.soon(namespace, name, FOLLOW_UP_SECONDS)
        if decided.requeue_after is not None:
            self.soon(namespace, name, decided.requeue_after)
