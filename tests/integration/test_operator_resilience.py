"""The operator end to end when things go wrong: killed pods, crashed engines, failed nodes
and a SIGKILLed operator are healed to exactly the wanted replicas, and scaling down or
deleting a LlamaDeployment under traffic fails no request that was already sent."""

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.cluster_helpers import container_status, is_ready, is_terminating, node_of
from tests.integration.operator_harness import OperatorWorld
from tests.integration.operator_helpers import (
    NAME,
    Obj,
    ServiceWatch,
    Traffic,
    a_world,
    all_ready,
    crash_engine,
    deploy,
    events_with_reason,
    expect_exactly_owned_replicas,
    failures,
    live_replicas,
    names_of,
    wait_all_ready,
    wait_healed,
    wait_pods_ready,
    wait_serving,
)

SLACK = 0.3  # wall seconds for the endpoints, the proxy and a 50 ms poll to catch up
STATUS_LAG = 3.0  # wall seconds (90 cluster seconds) for a pod's change to reach status


def test_a_force_deleted_pod_and_a_crashed_engine_are_healed_and_the_status_follows(
    tmp_path: Path,
) -> None:
    with a_world(tmp_path) as world:
        deploy(world, replicas=2)
        lags = [wait_healed(world, 2)]

        killed = live_replicas(world)[0]["metadata"]["name"]
        world.kubectl("delete", "pod", killed, "--grace-period=0", "--force")
        world.wait_until(
            lambda: killed not in names_of(world.replica_pods(NAME)), 10, f"{killed} is gone"
        )
        lags.append(wait_healed(world, 2))
        expect_exactly_owned_replicas(world, 2)

        crashed = live_replicas(world)[0]
        crash_engine(world, crashed)
        name = crashed["metadata"]["name"]
        world.wait_until(lambda: not is_ready(_pod(world, name)), 10, f"Pod {name} is not Ready")
        lags.append(wait_healed(world, 2))
        after = _pod(world, name)
        assert after is None or container_status(after).get("restartCount", 0) >= 1, after
        expect_exactly_owned_replicas(world, 2)

        # A change of an owned pod wakes a reconcile: status.readyReplicas follows the pods.
        assert max(lags) < STATUS_LAG, f"readyReplicas lagged the pods by {lags} wall seconds"


def test_a_failed_nodes_replicas_are_replaced_on_the_other_node_and_serve(
    tmp_path: Path,
) -> None:
    with a_world(tmp_path, speed=40) as world:
        deploy(world, replicas=2)
        wait_pods_ready(world, 2)
        failed_node = node_of(live_replicas(world)[0])
        lost = names_of(p for p in live_replicas(world) if node_of(p) == failed_node)

        world.cluster.run(lambda: world.cluster.cluster.fail_node(failed_node))
        world.wait_until(
            lambda: all_ready(world, 2) and not lost & names_of(live_replicas(world)),
            30,
            f"the replicas of node {failed_node} ({sorted(lost)}) are replaced and Ready",
        )
        assert all(node_of(p) != failed_node for p in live_replicas(world))
        status = world.llama(NAME)["status"]  # type: ignore[index]
        assert (status["replicas"], status["readyReplicas"]) == (2, 2), status
        still_there = [p for p in world.replica_pods(NAME) if p["metadata"]["name"] in lost]
        assert all(is_terminating(p) for p in still_there), "lost pods are deleted, not counted"
        deleted = " ".join(e["message"] for e in events_with_reason(world, "ReplicaFailed"))
        assert all(pod in deleted for pod in lost), deleted

        wait_serving(world, 2)
        with Traffic(world, rate=6, seconds=1.5, tokens=200) as traffic:
            records = traffic.records()
        assert failures(records) == [] and records
        assert {r.pod for r in records} <= names_of(live_replicas(world))

        world.cluster.run(lambda: world.cluster.cluster.restore_node(failed_node))
        world.wait_until(
            lambda: not lost & names_of(world.replica_pods(NAME)),
            20,
            f"the lost pods {sorted(lost)} finish terminating once {failed_node} is back",
        )
        expect_exactly_owned_replicas(world, 2)


# --- the operator SIGKILLed in the middle of things --------------------------------------
def _during_creation(world: OperatorWorld) -> int:
    deploy(world, replicas=2)
    return 2


def _during_scale_up(world: OperatorWorld) -> int:
    _ready_pair(world)
    world.kubectl("scale", f"llama/{NAME}", "--replicas=3")
    world.wait_until(lambda: len(live_replicas(world)) == 3, 20, "a third replica pod exists")
    return 3


def _during_pod_kill(world: OperatorWorld) -> int:
    killed = _ready_pair(world)[0]
    world.kubectl("delete", "pod", killed, "--grace-period=0", "--force")
    return 2


def _during_node_failure(world: OperatorWorld) -> int:
    node = node_of(_pod(world, _ready_pair(world)[0]))
    world.cluster.run(lambda: world.cluster.cluster.fail_node(node))
    return 2


def _ready_pair(world: OperatorWorld) -> list[str]:
    deploy(world, replicas=2)
    wait_pods_ready(world, 2)
    return sorted(names_of(live_replicas(world)))


@pytest.mark.parametrize(
    "disrupt",
    [_during_creation, _during_scale_up, _during_pod_kill, _during_node_failure],
    ids=["creation", "scale-up", "pod-kill", "node-failure"],
)
def test_a_sigkilled_operator_converges_without_duplicate_or_orphaned_pods(
    tmp_path: Path, disrupt: Callable[[OperatorWorld], int]
) -> None:
    with a_world(tmp_path) as world:
        wanted = disrupt(world)
        world.kill_operator()
        time.sleep(2)  # the world moves on while no operator runs: 60 cluster seconds
        world.start_operator()

        wait_all_ready(world, wanted)
        expect_exactly_owned_replicas(world, wanted, seconds=3.0)


# --- traffic while replicas leave ---------------------------------------------------------
def test_scaling_down_under_streaming_traffic_drains_the_replica_and_fails_nothing(
    tmp_path: Path,
) -> None:
    with a_world(tmp_path) as world:
        deploy(world, replicas=3)
        wait_pods_ready(world, 3)
        wait_serving(world, 3)
        before = names_of(live_replicas(world))

        with ServiceWatch(world) as watch, Traffic(world, 8, 8, tokens=1200) as traffic:
            time.sleep(2)
            world.kubectl("scale", f"llama/{NAME}", "--replicas=2")
            world.wait_until(lambda: len(world.replica_pods(NAME)) == 2, 20, "2 pods are left")
            records = traffic.records()
        (drained,) = before - names_of(world.replica_pods(NAME))

        assert failures(records) == [], failures(records)
        served = [r for r in records if r.pod == drained]
        left, deleted = watch.last_in_endpoints[drained], watch.deleted_at[drained]
        assert served, f"{drained} served nothing before it was drained"
        assert all(traffic.began(r) <= left + SLACK for r in served), "sent after it left"
        assert all(traffic.ended(r) <= deleted + SLACK for r in served), "deleted in flight"
        assert any(traffic.began(r) > left + SLACK for r in records), "traffic outlived it"
        assert left < deleted
        expect_exactly_owned_replicas(world, 2)


def test_deleting_under_traffic_finishes_requests_in_flight_and_removes_everything(
    tmp_path: Path,
) -> None:
    with a_world(tmp_path) as world:
        deploy(world, replicas=2)
        wait_pods_ready(world, 2)
        wait_serving(world, 2)

        with Traffic(world, 8, 4, tokens=1200) as traffic:
            time.sleep(1.5)
            deleted_at = time.monotonic()
            world.kubectl("delete", "llama", NAME, "--wait=false")
            world.wait_until(
                lambda: world.llama(NAME) is None and not world.replica_pods(NAME),
                30,
                f"LlamaDeployment {NAME} and its pods are gone",
            )
            records = traffic.records()

        sent_before = [r for r in records if traffic.began(r) < deleted_at]
        assert sent_before and failures(sent_before) == [], failures(sent_before)
        assert world.cluster.get("services", "default", NAME) is None
        assert world.cluster.get("poddisruptionbudgets", "default", NAME) is None
        assert world.cluster.pods() == []


def _pod(world: OperatorWorld, name: str) -> Obj | None:
    return world.cluster.get("pods", "default", name)
