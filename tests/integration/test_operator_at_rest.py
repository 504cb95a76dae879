"""The operator at rest: once every LlamaDeployment is ready and nothing changes, it makes
no write and no list, counted by verb and resource on the local API server (its request
log), over more than a resync of every deployment and several autoscaler ticks (the
resync made 15 s here instead of 300, so that the test sees one)."""

import time
from pathlib import Path

import yaml

from llamaops.sim.apiserver.request_log import Request, tally
from tests.integration.operator_harness import OperatorWorld
from tests.integration.operator_helpers import a_world, log_without_debug

DEPLOYMENTS = 5  # 8B replicas of one GPU each, on 2 × 8 H100
OPERATOR_AGENTS = ("llamaops/", "kopf/")
RESYNC_SECONDS = 15


def eight_b(name: str, autoscaled: bool) -> dict:  # type: ignore[type-arg]
    spec: dict = {"model": {"name": "llama3.1-8b-instruct", "maxModelLen": 8192}, "replicas": 1}  # type: ignore[type-arg]
    if autoscaled:
        spec["autoscaling"] = {"enabled": True, "minReplicas": 1, "maxReplicas": 2}
    return {
        "apiVersion": "serving.llamaops.io/v1alpha1",
        "kind": "LlamaDeployment",
        "metadata": {"name": name},
        "spec": spec,
    }


def operator_requests(world: OperatorWorld, mark: int) -> list[Request]:
    log = world.cluster.api.server.requests  # type: ignore[union-attr]
    return [r for r in log.since(mark) if r.agent.startswith(OPERATOR_AGENTS)]


def mark(world: OperatorWorld) -> int:
    return int(world.cluster.api.server.requests.mark())  # type: ignore[union-attr]


def settled(world: OperatorWorld, quiet: float) -> bool:
    """No write by the operator for `quiet` seconds."""
    start = mark(world)
    time.sleep(quiet)
    return not any(r.write for r in operator_requests(world, start))


def test_at_rest_the_operator_neither_writes_nor_lists(tmp_path: Path) -> None:
    with a_world(tmp_path, flags=("--resync-seconds", str(RESYNC_SECONDS))) as world:
        manifests = tmp_path / "fleet.yaml"
        names = [f"fleet-{i}" for i in range(DEPLOYMENTS)]
        documents = [eight_b(name, autoscaled=i == 0) for i, name in enumerate(names)]
        manifests.write_text(yaml.safe_dump_all(documents))
        world.kubectl("apply", "-f", str(manifests))
        for name in names:
            world.wait_until(lambda n=name: world.ready_replicas(n) == 1, 60, f"{name} ready")
        # Settled: no write for longer than an autoscaler tick (5 s: its first reading of
        # a replica that just became ready is still a change).
        world.wait_until(lambda: settled(world, 6.0), 60, "the operator stops writing")

        start = mark(world)
        time.sleep(RESYNC_SECONDS + 6)
        requests = operator_requests(world, start)

        counts = tally(requests)
        print(f"operator requests over {RESYNC_SECONDS + 6:.0f} s at rest: {dict(counts)}")
        assert [str(r) for r in requests if r.write] == [], "writes at rest"
        assert [str(r) for r in requests if r.verb == "list"] == [], "lists at rest"
        assert [str(r) for r in requests if r.verb == "get"] == [], "reads at rest"
        errors = [line for line in log_without_debug(world).splitlines() if "[ERROR" in line]
        assert errors == [], "the operator logged errors"
        log = world.log.read_text()  # --verbose: DEBUG lines say what kopf invoked
        for handler in ("Handler 'seen'", "Timer 'resync'"):
            assert f"{handler} is invoked." in log, handler
            assert f"{handler} succeeded." not in log, "a line per event says nothing"
