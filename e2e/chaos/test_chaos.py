"""Seeded chaos runs (schedule.py): the operator's scenarios one after another under steady
traffic, while the operator is SIGKILLed at random moments, a share of its writes are
refused, watches close and expire, and a node is lost or drained. Every run prints its
seed and timeline (replay one with `pytest e2e/chaos --chaos-seeds N`), and must keep:

- each step reaches its end state, and after the last fault the world converges within
  60 s: the replicas the spec asks for, all ready, on one template, status agreeing;
- never fewer ready replicas in the Service than the floor the spec allows, except while
  a node fault is on and until its replicas are back;
- no duplicate pod, no orphan pod, and after the delete no pod at all;
- no failed request, except those a lost node took in flight.
"""

import json
import time
from pathlib import Path
from typing import Any

from tests.integration.operator_harness import OperatorWorld
from tests.integration.operator_helpers import (
    NAME,
    a_world,
    all_ready,
    expect_exactly_owned_replicas,
    live_replicas,
)
from tests.integration.test_operator_rollout import ROLLOUT_CLUSTER, deploy_on, roll_to

from e2e.chaos.schedule import Run, Step, run_of
from e2e.chaos.tally import TALLY
from e2e.chaos.world import Faults, Floor, Traffic

RUN_SECONDS = 60.0  # the faults' span
CONVERGE = 60.0  # after the last fault
STEP_LIMIT = 120.0  # a step under faults
START_REPLICAS = 3
TEMPLATE = "serving.llamaops.io/template-hash"


def test_a_seeded_chaos_run_keeps_every_invariant(seed: int, tmp_path: Path) -> None:
    run = run_of(seed, RUN_SECONDS)
    print(run.describe())
    began = time.monotonic()
    with a_world(tmp_path, cluster_file=ROLLOUT_CLUSTER, speed=30) as world:
        deploy_on(world, "r0", replicas=START_REPLICAS)
        world.wait_until(lambda: all_ready(world, START_REPLICAS), 60, "the first replicas")
        replicas = START_REPLICAS
        with (
            Faults(world, run) as faults,
            Traffic(world) as traffic,
            Floor(world, replicas, faults) as floor,
        ):
            for step in run.steps[:-1]:
                replicas = take(world, step, replicas, floor, traffic)
            faults.done.wait(RUN_SECONDS + 120)
            last_fault = max(p.ended for p in faults.played)
            world.wait_until(
                lambda: converged(world, replicas),
                max(1.0, last_fault + CONVERGE - time.monotonic()),
                f"seed {seed}: converged within {CONVERGE:.0f} s of the last fault",
            )
        expect_exactly_owned_replicas(world, replicas, seconds=2.0)
        delete(world)
        failed, excused = traffic.failed(lambda at: _within(at, faults.node_windows()))

        record(run, faults, traffic, floor, excused=excused, seconds=time.monotonic() - began)
        assert floor.breaches == [], f"seed {seed}: under the floor: {floor.breaches[:5]}"
        assert failed == [], f"seed {seed}: failed requests: {[str(s) for s in failed[:5]]}"


def take(world: OperatorWorld, step: Step, replicas: int, floor: Floor, traffic: Traffic) -> int:
    """Make the step's change, wait for its end state; the replicas it leaves."""
    if step.kind == "scale":
        floor.floor = min(replicas, step.value)
        patch(world, {"replicas": step.value})
        wait(world, lambda: converged(world, step.value), f"scaled to {step.value}")
        floor.floor = step.value
        return step.value
    if step.kind == "rollout":
        roll_to(world, f"r{step.value}")
        wait(world, lambda: converged(world, replicas), f"rolled to r{step.value}")
        return replicas
    if step.kind == "bad":
        good = spec(world)["model"]["checkpoint"]["revision"]
        roll_to(world, "bad")
        wait(world, lambda: bool(checkpoint(world).get("failed")), "the bad rollout halted")
        roll_to(world, good)
        wait(world, lambda: converged(world, replicas), "back on the good checkpoint")
        return replicas
    if step.kind == "autoscale":
        floor.floor = 1
        autoscaling = {"enabled": True, "minReplicas": 1, "maxReplicas": 4, "targetQueueDepth": 1}
        patch(world, {"autoscaling": autoscaling})
        traffic.burst()
        wait(world, lambda: autoscaled(world), "the autoscaler decided")
        patch(world, {"autoscaling": {"enabled": False}, "replicas": replicas})
        wait(world, lambda: converged(world, replicas), "autoscaling off, back to the replicas")
        floor.floor = replicas
        return replicas
    raise AssertionError(f"unknown step {step}")


def delete(world: OperatorWorld) -> None:
    world.kubectl("delete", "llama", NAME, "--wait=false")
    world.wait_until(
        lambda: world.llama(NAME) is None and world.replica_pods(NAME) == [],
        CONVERGE,
        "the LlamaDeployment and every replica gone",
    )


def converged(world: OperatorWorld, replicas: int) -> bool:
    """The replicas asked for, all ready, on one template, and the status agrees."""
    obj = world.llama(NAME) or {}
    status = obj.get("status") or {}
    live = live_replicas(world)
    return (
        all_ready(world, replicas)
        and len({p["metadata"]["labels"][TEMPLATE] for p in live}) == 1
        and status.get("observedGeneration") == obj.get("metadata", {}).get("generation")
        and status.get("updatedReplicas") == replicas
        and status.get("replicas") == replicas
        and not (status.get("checkpoint") or {}).get("failed")
    )


def autoscaled(world: OperatorWorld) -> bool:
    return bool(((world.llama(NAME) or {}).get("status") or {}).get("autoscaler", {}).get("reason"))


def wait(world: OperatorWorld, check: Any, what: str) -> None:
    world.wait_until(check, STEP_LIMIT, what)


def patch(world: OperatorWorld, change: dict[str, Any]) -> None:
    world.kubectl("patch", "llama", NAME, "--type=merge", "-p", json.dumps({"spec": change}))


def spec(world: OperatorWorld) -> dict[str, Any]:
    return dict((world.llama(NAME) or {})["spec"])


def checkpoint(world: OperatorWorld) -> dict[str, Any]:
    return dict(((world.llama(NAME) or {}).get("status") or {}).get("checkpoint") or {})


def _within(at: float, windows: list[tuple[float, float]]) -> bool:
    return any(start <= at <= end + 2.0 for start, end in windows)


def record(
    run: Run, faults: Faults, traffic: Traffic, floor: Floor, *, excused: int, seconds: float
) -> None:
    TALLY.runs.append(
        f"seed {run.seed}: {seconds:.0f} s, {faults.refused} writes refused, fewest ready "
        f"{floor.fewest} outside node faults; "
        + "; ".join(f"{p.fault.kind}@{p.fault.at:.0f}s {p.what}" for p in faults.played)
    )
    TALLY.faults["refused write"] += faults.refused
    for played in faults.played:
        TALLY.faults[played.fault.kind] += 1
    TALLY.requests += len(traffic.sent)
    TALLY.excused += excused
    TALLY.seconds += seconds
