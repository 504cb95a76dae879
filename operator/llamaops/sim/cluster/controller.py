"""The shape every controller of the local cluster shares: watch some kinds, wake on a
change that matters, and run one pass over the world (never per event), as level-driven
Kubernetes controllers do."""

import asyncio
from typing import Any

from llamaops.sim.cluster.access import ClusterApi

Obj = dict[str, Any]


class Controller:
    """Subclasses name what they watch and implement `reconcile()`."""

    watches: tuple[str, ...] = ()
    name = "controller"

    def __init__(self, api: ClusterApi) -> None:
        self.api = api
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._follow(plural)) for plural in self.watches]
        self._tasks.append(asyncio.create_task(self._loop(), name=self.name))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def wants(self, plural: str, kind: str, obj: Obj) -> bool:
        """Whether a change wakes the controller; every change does unless overridden."""
        return True

    def reconcile(self) -> None:
        raise NotImplementedError

    async def _follow(self, plural: str) -> None:
        while True:  # a watch ended by a fault is opened again
            async for kind, obj in self.api.watch(plural):
                if self.wants(plural, kind, obj):
                    self._wake.set()
            await asyncio.sleep(0.05)

    async def _loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await asyncio.sleep(0)  # let a burst of changes arrive before one pass
            self.reconcile()
