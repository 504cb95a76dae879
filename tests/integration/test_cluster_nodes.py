"""Nodes that fail, come back, are drained or added, and what happens to their pods.

A failed node stops renewing its Lease; 40 cluster seconds after the last renewal the
node lifecycle controller marks it Ready=Unknown and taints it unreachable, and pods
are evicted when their toleration of that taint runs out (300 s unless they say
otherwise). The clock runs 50 times faster than the wall here.
"""

from datetime import datetime
from pathlib import Path

import pytest
from kubernetes.client import ApiException

from tests.integration.cluster_helpers import (
    GPU,
    UNREACHABLE,
    Cluster,
    a_cluster,
    a_disruption_budget,
    a_service,
    condition,
    idle_pod,
    is_ready,
    is_running,
    is_terminating,
    node_of,
    parse_time,
    replica,
    taints,
)
from tests.integration.cluster_traffic_helpers import (
    PodTimeline,
    Traffic,
    failed,
    steady,
    summary,
)

SPEED = 50.0
LEASE_GRACE = 40


def unreachable(cluster: Cluster, name: str) -> dict[str, object]:
    """Wait for the node to be marked Ready=Unknown; the node then."""

    def marked() -> dict[str, object] | None:
        node = cluster.node(name)
        return node if condition(node, "Ready").get("status") == "Unknown" else None

    return cluster.wait_until(marked, 5, f"{name} is Ready=Unknown")


def taint_added(node: dict[str, object], effect: str) -> datetime:
    found = [t for t in node["spec"]["taints"] if t["key"] == UNREACHABLE and t["effect"] == effect]
    return parse_time(found[0]["timeAdded"])


def back(node: dict[str, object] | None) -> bool:
    """Ready again, and no longer tainted unreachable."""
    ready = condition(node, "Ready").get("status") == "True"
    return ready and all(key != UNREACHABLE for key, _ in taints(node))


def eviction_time(cluster: Cluster, pod: str) -> datetime:
    events = [e for e in cluster.events_about(pod) if e["reason"] == "TaintManagerEviction"]
    assert events, [e["reason"] for e in cluster.events_about(pod)]
    return parse_time(events[0]["firstTimestamp"])


def test_a_failed_nodes_pods_are_evicted_after_their_toleration_time(tmp_path: Path) -> None:
    with a_cluster(tmp_path, speed=SPEED) as cluster:
        cluster.apply(
            a_service("llama", app="llama"),
            replica("survivor").on_node("h100-0").obj(),
            replica("short").on_node("h100-1").tolerating_unreachable_for(30).obj(),
            replica("patient").labelled(app="patient").on_node("h100-1").obj(),
        )
        for name in ("survivor", "short", "patient"):
            cluster.wait_for_pod(name, is_ready, 5, "is Ready")

        cluster.fail_node("h100-1")
        renewed = cluster.lease_renewed("h100-1")  # for the last time
        node = unreachable(cluster, "h100-1")
        assert {(UNREACHABLE, "NoSchedule"), (UNREACHABLE, "NoExecute")} <= set(taints(node))
        tainted = taint_added(node, "NoExecute")
        silent_for = (tainted - renewed).total_seconds()
        assert LEASE_GRACE - 1 <= silent_for <= LEASE_GRACE + 4, f"tainted after {silent_for} s"

        cluster.wait_for_pod("short", is_terminating, 5, "is evicted")
        evicted_after = (eviction_time(cluster, "short") - tainted).total_seconds()
        assert 29 <= evicted_after <= 34, f"short was evicted {evicted_after} s after the taint"
        patient = cluster.pod("patient")
        assert not is_terminating(patient), "patient tolerates the taint for 300 s"
        assert {
            "key": UNREACHABLE,
            "operator": "Exists",
            "effect": "NoExecute",
            "tolerationSeconds": 300,
        } in patient["spec"]["tolerations"]

        cluster.wait_until(lambda: cluster.seconds_since(tainted) > 60, 5, "30 s more pass")
        assert is_terminating(cluster.pod("short")), "evicted pods wait for their node"
        assert cluster.serving_addresses("llama") == ["survivor"]
        with Traffic(cluster.service_url("llama"), steady(20, 0.5, 20)) as traffic:
            records = traffic.records()
        assert not failed(records), summary(records)
        assert {r.pod for r in records} == {"survivor"}, summary(records)

        cluster.restore_node("h100-1")
        cluster.wait_until(lambda: back(cluster.node("h100-1")), 5, "h100-1 is back")
        assert taints(cluster.node("h100-1")) == [(GPU, "NoSchedule")]
        cluster.wait_until(lambda: cluster.pod("short") is None, 5, "short is removed")
        cluster.wait_for_pod("patient", is_ready, 5, "is Ready again on h100-1")


def test_pods_on_an_unreachable_node_stop_being_ready_before_they_are_evicted(
    tmp_path: Path,
) -> None:
    """The node lifecycle controller marks the pods of a node it marks Unknown NotReady
    (MarkPodsNotReady), so Services stop sending to them long before the 300 s eviction."""
    with a_cluster(tmp_path, speed=SPEED) as cluster:
        cluster.apply(
            a_service("llama", app="llama"),
            replica("survivor").on_node("h100-0").obj(),
            replica("stranded").on_node("h100-1").obj(),
        )
        for name in ("survivor", "stranded"):
            cluster.wait_for_pod(name, is_ready, 5, "is Ready")

        cluster.fail_node("h100-1")
        tainted = taint_added(unreachable(cluster, "h100-1"), "NoExecute")
        cluster.wait_until(lambda: cluster.seconds_since(tainted) > 10, 5, "10 s pass")

        stranded = cluster.pod("stranded")
        assert not is_terminating(stranded)
        ready = condition(stranded, "Ready")
        assert ready.get("status") == "False", f"10 s after h100-1 went Unknown: {ready}"
        assert cluster.serving_addresses("llama") == ["survivor"]
        with Traffic(cluster.service_url("llama"), steady(20, 0.5, 20)) as traffic:
            records = traffic.records()
        assert not failed(records), summary(records)


def test_draining_a_node_waits_until_the_disruption_budget_allows_each_eviction(
    tmp_path: Path,
) -> None:
    with a_cluster(tmp_path, speed=SPEED) as cluster:
        cluster.apply(
            a_disruption_budget("llama", min_available=1, app="llama"),
            replica("a").on_node("h100-0").obj(),
        )
        cluster.wait_for_pod("a", is_ready, 5, "is Ready")
        with pytest.raises(ApiException) as refused:
            cluster.evict("a")  # the only ready pod
        assert refused.value.status == 429, refused.value.body

        with PodTimeline(cluster.core) as timeline:
            drain = cluster.start_draining("h100-0")
            cluster.wait_until(
                lambda: cluster.node("h100-0")["spec"].get("unschedulable"), 5, "h100-0 cordoned"
            )
            assert "SchedulingDisabled" in cluster.kubectl("get", "node", "h100-0")
            cluster.apply(replica("b").obj())
            started = cluster.now()
            cluster.wait_until(lambda: cluster.seconds_since(started) > 15, 5, "15 s pass")
            assert not is_terminating(cluster.pod("a")), "a is the only ready pod while b loads"
            assert not drain.done()

            cluster.wait_until(drain.done, 5, "the drain finishes")
        assert drain.pods_left() == []
        assert node_of(cluster.pod("b")) == "h100-1"
        b_ready, a_stopped = timeline.first_serving("b"), timeline.stopped_serving("a")
        assert b_ready is not None and a_stopped is not None
        assert a_stopped > b_ready, "a was evicted before b was Ready"


def test_a_new_node_lets_a_pending_pod_schedule(tmp_path: Path) -> None:
    with a_cluster(tmp_path, speed=SPEED) as cluster:
        pods = [idle_pod(name).gpus(8).tolerating_gpus().obj() for name in ("a", "b", "c")]
        cluster.apply(*pods)
        cluster.wait_for_pod(
            "c",
            lambda p: condition(p, "PodScheduled").get("reason") == "Unschedulable",
            5,
            "is unschedulable",
        )

        added = cluster.add_node("h100")
        assert added == "h100-2"
        cluster.wait_for_pod("c", is_running, 5, "runs on the new node")
        assert node_of(cluster.pod("c")) == "h100-2"
        node = cluster.node("h100-2")
        assert node["status"]["allocatable"][GPU] == "8"
        assert node["metadata"]["labels"]["nvidia.com/gpu.product"] == "NVIDIA-H100-80GB-HBM3"
