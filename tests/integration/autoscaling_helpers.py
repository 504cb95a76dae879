"""Instruments for the autoscaler's end-to-end tests: an autoscaled 70B LlamaDeployment,
traffic in phases, and a watch of spec.replicas and of the engines' queues over time.

    with a_world(tmp_path, speed=SPEED) as world:
        deploy_autoscaled(world, max_replicas=4)
        with ReplicasWatch(world) as watch, PhasedTraffic(world, [(4, 1), (12, 10)]) as load:
            ...
"""

import itertools
import json
import time
from collections.abc import Sequence
from typing import Any

import yaml

from llamaops.sim.traffic.client import Record
from llamaops.sim.traffic.lengths import Fixed
from llamaops.sim.traffic.plan import plan_requests
from llamaops.sim.traffic.shapes import Step, steps
from tests.integration.operator_harness import OperatorWorld
from tests.integration.operator_helpers import LLAMA_70B, NAME, PlannedTraffic, Watch

SPEED = 10.0  # cluster seconds per wall second
INTERVAL = 1  # metricsIntervalSeconds
WINDOW = 8  # scaleDownStabilizationSeconds
TARGET = 2  # targetQueueDepth
OUTPUT_TOKENS = 256


def deploy_autoscaled(
    world: OperatorWorld, *, replicas: int = 1, max_replicas: int = 4, window: int = WINDOW
) -> None:
    """`kubectl apply` of the 70B manifest (TP 4 on H100) with autoscaling on; each engine
    runs at most 2 requests at once (--max-num-seqs 2), so that a queue forms."""
    manifest = yaml.safe_load(LLAMA_70B.read_text())
    manifest["spec"]["replicas"] = replicas
    manifest["spec"]["engine"] = {"extraArgs": ["--max-num-seqs", "2"]}
    manifest["spec"]["autoscaling"] = {
        "enabled": True,
        "minReplicas": 1,
        "maxReplicas": max_replicas,
        "targetQueueDepth": TARGET,
        "metricsIntervalSeconds": INTERVAL,
        "scaleDownStabilizationSeconds": window,
    }
    path = world.log.parent / "llama-autoscaled.json"
    path.write_text(json.dumps(manifest))
    world.kubectl("apply", "-f", str(path))


def spec_replicas(world: OperatorWorld) -> int | None:
    """Read in the cluster's own process (no kubectl), for watching closely."""
    server = world.cluster.cluster.api.server

    def read() -> Any:
        kind = server.registry.find("serving.llamaops.io", "v1alpha1", "llamadeployments")
        return server.store.get(kind.key, "default", NAME) if kind is not None else None

    found = world.cluster.run(read)
    return int(found["spec"]["replicas"]) if found else None


def autoscaler_status(world: OperatorWorld) -> dict[str, Any]:
    return dict(((world.llama(NAME) or {}).get("status") or {}).get("autoscaler") or {})


class PhasedTraffic(PlannedTraffic):
    """Streaming requests in phases of (seconds, requests per wall second)."""

    def __init__(self, world: OperatorWorld, phases: Sequence[tuple[float, float]]) -> None:
        arrivals = steps([Step(seconds, rate) for seconds, rate in phases])
        plan = plan_requests(arrivals, Fixed(16), Fixed(OUTPUT_TOKENS))
        super().__init__(world, plan, timeout=60, concurrency=256)
        self.duration = sum(seconds for seconds, _ in phases)


class ReplicasWatch(Watch):
    """Polls, from a thread: spec.replicas (each change, with its time.monotonic()), and
    the longest queue of any engine of the deployment (when it first passed a level)."""

    def __init__(self, world: OperatorWorld) -> None:
        self.changes: list[tuple[float, int]] = []
        self.queues: list[tuple[float, int]] = []  # (time, waiting summed over engines)
        super().__init__(world)

    def first_queue_above(self, level: float) -> float | None:
        return next((t for t, waiting in self.queues if waiting > level), None)

    def first_change_to_more_than(self, replicas: int) -> float | None:
        return next((t for t, count in self.changes if count > replicas), None)

    @staticmethod
    def turns(counts: Sequence[int]) -> int:
        """How often a series of replica counts turns from rising to falling or back."""
        moves = [b - a for a, b in itertools.pairwise(counts) if b != a]
        return sum(1 for a, b in itertools.pairwise(moves) if (a > 0) != (b > 0))

    def _poll(self) -> None:
        runtime = self.world.cluster.cluster.runtime
        while not self._stopped.is_set():
            now = time.monotonic()
            replicas = spec_replicas(self.world)
            if replicas is not None and (not self.changes or self.changes[-1][1] != replicas):
                self.changes.append((now, replicas))
            waiting = self.world.cluster.run(
                lambda: sum(
                    len(engine.batcher.waiting)
                    for engine in runtime.engines.values()
                    if engine.state == "serving"
                )
            )
            self.queues.append((now, int(waiting)))
            time.sleep(0.1)


def failed(records: Sequence[Record]) -> list[str]:
    return [f"+{r.start:.2f}s {r.pod}: {r.status}" for r in records if not r.ok]
