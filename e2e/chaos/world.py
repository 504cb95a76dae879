"""The instruments of a chaos run, each a thread beside the test (operator_helpers.Watch):
the faults played on their timeline, steady traffic through the Service, and a watch of
the Service's ready replicas against the floor the spec allows.

    with Faults(world, run) as faults, Traffic(world), Floor(world, 3, faults) as floor: ...
"""

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.integration.operator_harness import OperatorWorld
from tests.integration.operator_helpers import NAME, Watch, service_url

from e2e.chaos.schedule import FLAKY_SHARE, Fault, Run
from llamaops.sim.traffic.client import Record
from llamaops.sim.traffic.lengths import Fixed
from llamaops.sim.traffic.plan import plan_requests
from llamaops.sim.traffic.run import run_traffic
from llamaops.sim.traffic.shapes import constant

OPERATOR_AGENTS = ("llamaops/", "kopf/")
NODE_FAULTS = ("lose-node", "drain-node")


@dataclass
class Played:
    fault: Fault
    started: float  # time.monotonic()
    ended: float = 0.0
    what: str = ""


class Faults(Watch):
    """Plays the run's faults at their moments (seconds after entering)."""

    JOIN_SECONDS = 120.0

    def __init__(self, world: OperatorWorld, run: Run) -> None:
        self.run = run
        self.played: list[Played] = []
        self.refused = 0  # writes the flaky API refused
        self.done = threading.Event()
        super().__init__(world)

    @property
    def server_faults(self) -> Any:
        return self.world.cluster.api.server.faults  # type: ignore[union-attr]

    def node_windows(self) -> list[tuple[float, float]]:
        """When a node fault was on (until it ended; its aftermath is the floor's to see)."""
        return [
            (p.started, p.ended or time.monotonic())
            for p in self.played
            if p.fault.kind in NODE_FAULTS
        ]

    def _poll(self) -> None:
        """Writes are flaky for the whole span; a node fault runs in a thread of its own
        (it lasts), the others in order."""
        began = time.monotonic()
        faults = self.server_faults
        seed = self.run.seed
        flaky = self.world.cluster.run(
            lambda: faults.flaky_writes(FLAKY_SHARE, OPERATOR_AGENTS, seed)
        )
        lasting: list[threading.Thread] = []
        for fault in self.run.faults:
            if self._stopped.wait(max(0.0, began + fault.at - time.monotonic())):
                break
            played = Played(fault, time.monotonic())
            self.played.append(played)
            if fault.kind in NODE_FAULTS:
                lasting.append(threading.Thread(target=self._play_into, args=(played,)))
                lasting[-1].start()
            else:
                self._play_into(played)
        self._stopped.wait(max(0.0, began + self.run.seconds - time.monotonic()))
        self.world.cluster.run(faults.clear)
        self.refused = flaky.refused
        for thread in lasting:
            thread.join()
        self.done.set()

    def _play_into(self, played: Played) -> None:
        played.what = self._play(played.fault)
        played.ended = time.monotonic()

    def _play(self, fault: Fault) -> str:
        world, faults = self.world, self.server_faults
        if fault.kind == "kill":
            world.kill_operator()
            time.sleep(fault.lasts)
            world.start_operator()
            return "operator killed"
        if fault.kind == "close":
            return f"{world.cluster.run(faults.close_watches)} watches closed"
        if fault.kind == "expire":
            return f"{world.cluster.run(faults.expire_watches)} watches expired"
        node = self._node_with_a_replica()
        if node is None:
            return "no node holds a replica"
        cluster = world.cluster.cluster
        if fault.kind == "lose-node":
            world.cluster.run(lambda: cluster.fail_node(node))
            time.sleep(fault.lasts)
            world.cluster.run(lambda: cluster.restore_node(node))
            return f"node {node} lost for {fault.lasts:.0f} s"
        left = world.cluster.run(lambda: cluster.drain_node(node, timeout=fault.lasts * 30))
        world.cluster.run(lambda: _uncordon(cluster, node))
        return f"node {node} drained ({len(left)} pods left)"

    def _node_with_a_replica(self) -> str | None:
        nodes = sorted({p["spec"].get("nodeName") for p in self.world.replica_pods(NAME)} - {None})
        return nodes[0] if nodes else None


def _uncordon(cluster: Any, node: str) -> None:
    found = cluster.api.get("nodes", "", node)
    if found is not None:

        def uncordon(obj: dict[str, Any]) -> None:
            obj["spec"].pop("unschedulable", None)
            obj["spec"]["taints"] = [
                t
                for t in obj["spec"].get("taints") or []
                if t.get("key") != "node.kubernetes.io/unschedulable"
            ]

        cluster.api.update("nodes", found, uncordon)


@dataclass
class Sent:
    at: float  # time.monotonic() when it was sent
    record: Record


class Traffic(Watch):
    """Steady requests through the Service, in 5 s rounds, until stopped."""

    RATE = 2.0
    JOIN_SECONDS = 60.0  # the round under way

    def __init__(self, world: OperatorWorld) -> None:
        self.url = service_url(world)
        self.model = str((world.llama(NAME) or {})["spec"]["model"]["name"])
        self.sent: list[Sent] = []
        super().__init__(world)

    def failed(self, excused: Callable[[float], bool]) -> tuple[list[Sent], int]:
        """Failed requests no node fault explains, and how many one did."""
        bad = [s for s in self.sent if not s.record.ok]
        return [s for s in bad if not excused(s.at)], sum(excused(s.at) for s in bad)

    def burst(self, rate: float = 20.0, seconds: float = 2.0) -> None:
        """A burst of longer requests, waited for (they queue: load for the autoscaler)."""
        plan = plan_requests(constant(rate, seconds), Fixed(16), Fixed(64))
        began = time.monotonic()
        records = asyncio.run(run_traffic(self.url, plan, model=self.model, timeout=60))
        self.sent += [Sent(began + r.start, r) for r in records]

    def _poll(self) -> None:
        plan = plan_requests(constant(self.RATE, 5.0), Fixed(16), Fixed(8))
        while not self._stopped.is_set():
            began = time.monotonic()
            records = asyncio.run(run_traffic(self.url, plan, model=self.model, timeout=20))
            self.sent += [Sent(began + r.start, r) for r in records]


class Floor(Watch):
    """Polls the Service's ready addresses; a count under the floor the spec allows is a
    breach, unless a node fault is on or its replicas are still coming back."""

    def __init__(self, world: OperatorWorld, floor: int, faults: Faults) -> None:
        self.floor, self.faults = floor, faults
        self.breaches: list[str] = []
        self.fewest: int | None = None
        super().__init__(world)

    def _poll(self) -> None:
        recovering = False
        while not self._stopped.is_set():
            count = self._addresses()
            node_fault_on = any(
                end >= time.monotonic() - 0.2 for _, end in self.faults.node_windows()
            )
            if node_fault_on:
                recovering = True
            elif recovering and count >= self.floor:
                recovering = False
            if count < self.floor and not (node_fault_on or recovering):
                self.breaches.append(f"{count} ready addresses, floor {self.floor}")
            elif not (node_fault_on or recovering):
                self.fewest = count if self.fewest is None else min(self.fewest, count)
            time.sleep(0.1)

    def _addresses(self) -> int:
        endpoints = self.world.cluster.get("endpoints", "default", NAME) or {}
        return sum(len(s.get("addresses") or []) for s in endpoints.get("subsets") or [])
