"""Checks and instruments for the operator's end-to-end tests (test_operator_*.py): which
replica pods are live, whether they are exactly the wanted ones, traffic through the
Service with the pod that served each request, and when pods left the Service.

    with a_world(tmp_path, speed=30) as world:
        deploy(world, replicas=2)
        wait_all_ready(world, 2)
        expect_exactly_owned_replicas(world, 2)
"""

import asyncio
import json
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

import yaml

from llamaops.sim.traffic.client import Record
from llamaops.sim.traffic.lengths import Fixed
from llamaops.sim.traffic.plan import PlannedRequest, plan_requests
from llamaops.sim.traffic.run import run_traffic
from llamaops.sim.traffic.shapes import constant
from tests.integration.cluster_fixture import REPO
from tests.integration.cluster_helpers import is_ready, is_terminating
from tests.integration.operator_harness import OperatorWorld, operator_world

Obj = dict[str, Any]
NAME = "llama3-70b"
LLAMA_70B = REPO / "manifests/llama3-70b.yaml"
PROXY_URL = "sim.llamaops.io/proxy-url"
TAIL_SECONDS = 2.0  # traffic kept going after what a test waited for (PlannedTraffic.finish)


@contextmanager
def a_world(
    tmp_path: Path,
    speed: float = 30.0,
    cluster_file: str = "e2e/clusters/h100-2x8.yaml",
    flags: tuple[str, ...] = (),
) -> Iterator[OperatorWorld]:
    """The operator (`llamaops run` with `flags`) on a 2 × 8 H100 cluster (or
    `cluster_file`); a failure prints the cluster and the log."""
    with operator_world(tmp_path, cluster_file, speed=speed, flags=flags) as world:
        try:
            yield world
        except BaseException:
            print_evidence(world)
            raise


def print_evidence(world: OperatorWorld) -> None:
    """What a failed test leaves: the cluster, the LlamaDeployments, the operator's log."""
    print(f"=== the cluster when the test failed\n{world.cluster.evidence()}")
    print(f"=== LlamaDeployments\n{world.kubectl('get', 'llama', '-o', 'yaml').stdout}")
    print(f"=== the operator's log, DEBUG left out\n{log_without_debug(world)}")


def log_without_debug(world: OperatorWorld) -> str:
    lines = world.log.read_text().splitlines() if world.log.exists() else []
    return "\n".join(line for line in lines if "[DEBUG" not in line)


def deploy(world: OperatorWorld, replicas: int = 2) -> None:
    """`kubectl apply` of the 70B manifest (TP 4 on H100) with `replicas`."""
    manifest = yaml.safe_load(LLAMA_70B.read_text())
    manifest["spec"]["replicas"] = replicas
    path = world.log.parent / f"llama-{replicas}.json"
    path.write_text(json.dumps(manifest))
    world.kubectl("apply", "-f", str(path))


# --- the replica pods --------------------------------------------------------------------
def live_replicas(world: OperatorWorld, name: str = NAME) -> list[Obj]:
    """Replica pods not being deleted: the ones that may count as replicas."""
    return [p for p in world.replica_pods(name) if not is_terminating(p)]


def all_ready(world: OperatorWorld, count: int, name: str = NAME) -> bool:
    """Exactly `count` live replicas, each Ready, and the status says so."""
    return _pods_ready(world, count, name) and world.ready_replicas(name) == count


def wait_all_ready(world: OperatorWorld, count: int, timeout: float = 30.0) -> None:
    world.wait_until(lambda: all_ready(world, count), timeout, f"{count} replicas all Ready")


def wait_pods_ready(world: OperatorWorld, count: int, timeout: float = 30.0) -> None:
    """The cluster's truth, whatever the status says yet."""
    world.wait_until(
        lambda: _pods_ready(world, count), timeout, f"{count} replica pods are all Ready"
    )


def wait_serving(world: OperatorWorld, count: int, name: str = NAME) -> None:
    """The Service's Endpoints list `count` ready addresses (traffic may start)."""

    def addresses() -> int:
        endpoints = world.cluster.get("endpoints", "default", name) or {}
        return sum(len(s.get("addresses") or []) for s in endpoints.get("subsets") or [])

    world.wait_until(lambda: addresses() == count, 10, f"Service {name} has {count} endpoints")


def wait_healed(world: OperatorWorld, count: int, timeout: float = 30.0) -> float:
    """Wait until `count` live replica pods are all Ready and the status says so; return
    how long (wall seconds) status.readyReplicas took to follow the pods."""
    wait_pods_ready(world, count, timeout)
    pods_ready = time.monotonic()
    wait_all_ready(world, count, timeout)
    return time.monotonic() - pods_ready


def _pods_ready(world: OperatorWorld, count: int, name: str = NAME) -> bool:
    live = live_replicas(world, name)
    return len(live) == count and all(is_ready(p) for p in live)


def expect_exactly_owned_replicas(
    world: OperatorWorld, count: int, seconds: float = 2.0, name: str = NAME
) -> None:
    """Over `seconds`, always `count` live replica pods (no duplicate), and every pod of
    the namespace controlled by the LlamaDeployment that exists (no orphan)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        owner = world.llama(name)
        assert owner is not None, f"LlamaDeployment {name} is gone"
        live = [p["metadata"]["name"] for p in live_replicas(world, name)]
        assert len(live) == count, f"{len(live)} live replica pods, {count} wanted: {live}"
        for pod in world.cluster.pods():
            assert controller_uid(pod) == owner["metadata"]["uid"], (
                f"Pod {pod['metadata']['name']} is not controlled by {name}: "
                f"{pod['metadata'].get('ownerReferences')}"
            )
        time.sleep(0.2)


def controller_uid(pod: Obj) -> str | None:
    refs = pod["metadata"].get("ownerReferences") or []
    return next(
        (r["uid"] for r in refs if r.get("controller") and r.get("kind") == "LlamaDeployment"),
        None,
    )


def names_of(pods: Iterable[Obj]) -> set[str]:
    return {p["metadata"]["name"] for p in pods}


def events_with_reason(world: OperatorWorld, reason: str) -> list[Obj]:
    events = world.cluster.run(lambda: world.cluster.cluster.api.list("events", "default"))
    return [e for e in events if e.get("reason") == reason]


def crash_engine(world: OperatorWorld, pod: Obj) -> None:
    """The pod's vLLM engine core dies (health 503, then the process exits)."""
    runtime = world.cluster.cluster.runtime

    def crash() -> None:
        engine = runtime.engine_of(pod["metadata"]["uid"])
        assert engine is not None, f"no engine for Pod {pod['metadata']['name']}"
        engine.crash()

    world.cluster.run(crash)


def service_url(world: OperatorWorld, name: str = NAME) -> str:
    def url() -> str:
        service = world.cluster.get("services", "default", name) or {}
        return str((service.get("metadata", {}).get("annotations") or {}).get(PROXY_URL, ""))

    return str(world.wait_until(url, 10, f"Service {name} has a proxy URL"))


# --- traffic, and what the Service did meanwhile ----------------------------------------
class PlannedTraffic:
    """Streaming requests through the Service's proxy as `plan` says, sent from a thread of
    its own; each record names the pod that served it (X-Served-By)."""

    JOIN_SECONDS = 120.0

    def __init__(
        self,
        world: OperatorWorld,
        plan: Sequence[PlannedRequest],
        timeout: float = 20.0,
        concurrency: int = 64,
    ) -> None:
        self.url = service_url(world)
        self.model = str((world.llama(NAME) or {})["spec"]["model"]["name"])
        self.plan, self.timeout, self.concurrency = list(plan), timeout, concurrency
        self.started = 0.0
        self._records: list[Record] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._send, name="traffic", daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        while not self.started:
            time.sleep(0.01)
        return self

    def __exit__(self, *_: object) -> None:
        self._thread.join(timeout=self.JOIN_SECONDS)

    def records(self) -> list[Record]:
        """Every record, once the whole plan has been sent and answered."""
        self._thread.join(timeout=self.JOIN_SECONDS)
        assert not self._thread.is_alive(), "the traffic run did not finish"
        return self._records

    def finish(self, tail: float = TAIL_SECONDS) -> list[Record]:
        """What the test waited for has happened: keep sending for `tail` seconds more
        (whatever that step set going, such as a drain, still meets traffic), then send
        nothing more and return the records once those in flight have answered."""
        time.sleep(tail)
        self._stop.set()
        return self.records()

    def began(self, record: Record) -> float:
        return self.started + record.start

    def ended(self, record: Record) -> float:
        return self.started + record.start + (record.latency or 0.0)

    def _send(self) -> None:
        self.started = time.monotonic()
        self._records = asyncio.run(
            run_traffic(
                self.url,
                self.plan,
                model=self.model,
                timeout=self.timeout,
                concurrency=self.concurrency,
                stop=self._stop,
            )
        )


class Traffic(PlannedTraffic):
    """`rate` requests per wall second for `seconds`, each asking for `tokens`."""

    def __init__(self, world: OperatorWorld, rate: float, seconds: float, tokens: int) -> None:
        super().__init__(world, plan_requests(constant(rate, seconds), Fixed(16), Fixed(tokens)))


def failures(records: Sequence[Record]) -> list[str]:
    return [f"+{r.start:.2f}s {r.pod}: {r.status}" for r in records if not r.ok]


class Watch:
    """A thread that polls the world (`_poll`, until `_stopped` is set) while a test acts;
    leaving waits `JOIN_SECONDS` for it to finish."""

    JOIN_SECONDS = 5.0

    def __init__(self, world: OperatorWorld, name: str = NAME) -> None:
        self.world, self.name = world, name
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._poll, name=type(self).__name__, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stopped.set()
        self._thread.join(timeout=self.JOIN_SECONDS)

    def _poll(self) -> None:
        raise NotImplementedError


class ServiceWatch(Watch):
    """Polls, from a thread, when each pod was last among the Service's ready addresses
    and when it was first seen being deleted (time.monotonic())."""

    def __init__(self, world: OperatorWorld, name: str = NAME) -> None:
        self.last_in_endpoints: dict[str, float] = {}
        self.deleted_at: dict[str, float] = {}
        super().__init__(world, name)

    def _poll(self) -> None:
        running = self.world.cluster
        while not self._stopped.is_set():
            endpoints = running.get("endpoints", "default", self.name) or {}
            pods = {p["metadata"]["name"]: p for p in self.world.replica_pods(self.name)}
            now = time.monotonic()
            for subset in endpoints.get("subsets") or []:
                for address in subset.get("addresses") or []:
                    self.last_in_endpoints[address["targetRef"]["name"]] = now
            for pod in set(self.last_in_endpoints) - set(self.deleted_at):
                if pod not in pods or is_terminating(pods[pod]):
                    self.deleted_at[pod] = now
            time.sleep(0.05)
