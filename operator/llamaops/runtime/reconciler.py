"""One reconcile for every trigger: observe -> plan -> apply -> report, one at a time per
deployment; a plan that asks to look again soon (drains, loading replicas) is honoured."""

import asyncio
import logging
import time
from typing import Any

import aiohttp

from llamaops.kube.client import Kube
from llamaops.reconcile.planner import plan
from llamaops.reconcile.suffixes import random_suffixes
from llamaops.runtime import metrics
from llamaops.runtime.apply import apply
from llamaops.runtime.observe import observe
from llamaops.runtime.report import report

log = logging.getLogger("llamaops")
Key = tuple[str, str]


class Reconciler:
    def __init__(self, kube: Kube) -> None:
        self.kube = kube
        self._locks: dict[Key, asyncio.Lock] = {}
        self._later: dict[Key, tuple[float, asyncio.Task[None]]] = {}
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        for _, task in self._later.values():
            task.cancel()
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
        """The session that reads the replicas' /metrics (one, shared with the autoscaler)."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    def lock(self, namespace: str, name: str) -> asyncio.Lock:
        """Held while a reconcile of this deployment runs; deletion takes it too."""
        return self._locks.setdefault((namespace, name), asyncio.Lock())

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
        body: dict[str, Any] | None = await asyncio.to_thread(
            self.kube.get_deployment, namespace, name
        )
        if body is None or body["metadata"].get("deletionTimestamp"):
            return
        observed = await observe(self.kube, body, self.http())
        decided = plan(observed, random_suffixes())
        for action in decided.actions:
            log.info("%s/%s: %s", namespace, name, action.reason)
        await apply(self.kube, namespace, decided.actions, self.http())
        await report(self.kube, body, observed, decided)
        if decided.requeue_after is not None:
            self.soon(namespace, name, decided.requeue_after)
