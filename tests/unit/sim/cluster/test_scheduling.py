"""The scheduler's decision: GPUs and other resources, the message, the score.

Filters that read labels, taints and conditions are in test_scheduling_filters.py.
"""

import pytest

from llamaops.sim.cluster.scheduling import pod_requests, schedule
from tests.unit.sim.cluster.scheduling_builders import (
    GPU,
    NodeBuilder,
    Obj,
    PodBuilder,
    gpu_node,
    gpu_pod,
    node,
    only_reason,
    place,
    pod,
)

GiB = 2**30
MiB = 2**20


# --- GPUs --------------------------------------------------------------------------------
def test_two_whole_node_pods_land_and_a_third_waits_with_the_real_message() -> None:
    nodes = [gpu_node("gpu-a").obj(), gpu_node("gpu-b").obj()]

    first, second, third = place([gpu_pod(f"vllm-{i}").obj() for i in range(3)], nodes)

    assert (first.node, second.node, third.node) == ("gpu-a", "gpu-b", None)
    assert third.message == "0/2 nodes are available: 2 Insufficient nvidia.com/gpu."
    assert third.reasons == {"Insufficient nvidia.com/gpu": 2}


@pytest.mark.parametrize(
    ("gpus_each", "pods", "placed"),
    [
        (1, 20, 16),  # 8 per node, then full
        (3, 10, 4),  # 2 per node; the 2 GPUs left on each fit no one
        (5, 4, 2),
        (8, 3, 2),
        (9, 1, 0),  # more than a node has
    ],
)
def test_gpus_are_never_overcommitted(gpus_each: int, pods: int, placed: int) -> None:
    nodes = [gpu_node("gpu-a").obj(), gpu_node("gpu-b").obj()]
    waiting = [gpu_pod(f"p{i}", gpus=gpus_each).obj() for i in range(pods)]

    decisions = place(waiting, nodes)

    landed = [d.node for d in decisions if d.node is not None]
    assert len(landed) == placed
    for name in ("gpu-a", "gpu-b"):
        assert landed.count(name) * gpus_each <= 8
    assert all(d.reasons == {"Insufficient nvidia.com/gpu": 2} for d in decisions if not d.node)


@pytest.mark.parametrize(
    ("phase", "frees_its_gpus"),
    [("Succeeded", True), ("Failed", True), ("Running", False), ("Pending", False), (None, False)],
)
def test_only_finished_pods_free_their_gpus(phase: str | None, frees_its_gpus: bool) -> None:
    finished = gpu_pod("old").on("gpu-a").in_phase(phase).obj()

    decision = schedule(gpu_pod().obj(), [gpu_node("gpu-a").obj()], [finished])

    assert (decision.node == "gpu-a") is frees_its_gpus


def test_a_terminating_pod_still_holds_its_gpus() -> None:
    leaving = gpu_pod("old").on("gpu-a").terminating().obj()

    decision = schedule(gpu_pod().obj(), [gpu_node("gpu-a").obj()], [leaving])

    assert only_reason(decision) == "Insufficient nvidia.com/gpu"


def test_pods_on_other_nodes_or_unbound_take_nothing_from_this_node() -> None:
    others = [gpu_pod("there").on("gpu-b").obj(), gpu_pod("waiting").obj()]

    assert schedule(gpu_pod().obj(), [gpu_node("gpu-a").obj()], others).node == "gpu-a"


def test_a_node_without_gpus_is_short_of_them() -> None:
    decision = schedule(gpu_pod(gpus=1).obj(), [node("cpu-only").obj()], [])

    assert decision.message == "0/1 nodes are available: 1 Insufficient nvidia.com/gpu."


# --- what a pod requests -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("the_pod", "requests"),
    [
        (pod().requesting(cpu="500m", memory="64Gi"), {"cpu": 500, "memory": 64 * GiB}),
        (pod().requesting(cpu="1.5", memory="1G"), {"cpu": 1500, "memory": 10**9}),
        (pod().requesting(cpu="0.0001", memory="1.5Ki"), {"cpu": 1, "memory": 1536}),
        (pod().limited_to(gpus=4, cpu="8"), {GPU: 4, "cpu": 8000}),
        (pod().requesting(cpu="1").limited_to(cpu="2", gpus=1), {"cpu": 1000, GPU: 1}),
        (pod().requesting(gpus=2).with_container(gpus=1, cpu="1"), {GPU: 3, "cpu": 1000}),
        (pod().requesting(gpus=1).with_init_container(gpus=4), {GPU: 4}),
        (pod().requesting(gpus=4).with_init_container(gpus=2), {GPU: 4}),
        (
            pod().requesting(cpu="1").with_init_container(cpu="3").with_init_container(cpu="2"),
            {"cpu": 3000},
        ),
        (
            # a sidecar runs beside the containers and beside the init containers after it
            pod()
            .requesting(cpu="1")
            .with_init_container(cpu="1", sidecar=True)
            .with_init_container(cpu="3"),
            {"cpu": 4000},
        ),
        (pod().requesting(cpu="1").with_overhead(cpu="250m"), {"cpu": 1250}),
        (pod(), {}),
    ],
)
def test_pod_requests_are_computed_as_the_scheduler_does(
    the_pod: PodBuilder, requests: Obj
) -> None:
    assert pod_requests(the_pod.obj()) == requests


def test_containers_without_requests_count_the_non_zero_defaults_when_scoring() -> None:
    two = pod().with_container(gpus=1)

    assert pod_requests(two.obj(), non_zero=True) == {"cpu": 200, "memory": 400 * MiB, GPU: 1}


def test_limits_alone_reserve_gpus() -> None:
    decision = schedule(pod().limited_to(gpus=8).obj(), [gpu_node("gpu-a", gpus=4).obj()], [])

    assert only_reason(decision) == "Insufficient nvidia.com/gpu"


def test_an_init_container_needing_more_gpus_than_are_free_keeps_the_pod_out() -> None:
    one_in_use = gpu_pod("old", gpus=1).on("gpu-a").obj()
    loader = gpu_pod(gpus=1).with_init_container(gpus=8).obj()

    assert only_reason(schedule(loader, [gpu_node("gpu-a").obj()], [one_in_use])) == (
        "Insufficient nvidia.com/gpu"
    )


@pytest.mark.parametrize(
    ("cpu", "memory", "fits"),
    [
        ("500m", "64Gi", True),
        ("501m", "64Gi", False),
        ("500m", str(64 * GiB + 1), False),
        ("0.5", "65536Mi", True),
    ],
)
def test_cpu_and_memory_quantities_fit_to_the_millicore_and_byte(
    cpu: str, memory: str, fits: bool
) -> None:
    small = node("small").with_allocatable(cpu="1", memory="128Gi").obj()
    half_used = pod("old").requesting(cpu="500m", memory="64Gi").on("small").obj()

    decision = schedule(pod().requesting(cpu=cpu, memory=memory).obj(), [small], [half_used])

    assert (decision.node == "small") is fits


def test_a_node_short_of_cpu_and_memory_gives_both_reasons() -> None:
    small = node("small").with_allocatable(cpu="1", memory="1Gi").obj()

    decision = schedule(pod().requesting(cpu="2", memory="2Gi").obj(), [small], [])

    assert decision.message == "0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory."


@pytest.mark.parametrize(
    ("allowed", "running", "fits"),
    [("2", 1, True), ("2", 2, False), (None, 109, True), (None, 110, False)],
)
def test_a_node_takes_as_many_pods_as_it_allows(
    allowed: str | None, running: int, fits: bool
) -> None:
    the_node = node("n").with_allocatable(pods=allowed) if allowed else node("n").without_pods()
    there = [pod(f"p{i}").on("n").obj() for i in range(running)]

    decision = schedule(pod().obj(), [the_node.obj()], there)

    assert decision.node == ("n" if fits else None)
    assert decision.reasons == ({} if fits else {"Too many pods": 1})


# --- the message -------------------------------------------------------------------------
def test_reasons_are_counted_once_per_node_and_sorted_as_strings() -> None:
    nodes = [
        gpu_node("cordoned").labelled(pool="h100").cordoned().tainted("dedicated", "infra").obj(),
        gpu_node("full").labelled(pool="h100").obj(),
        gpu_node("full-too").labelled(pool="h100").obj(),
        gpu_node("elsewhere").labelled(pool="a100").obj(),
        gpu_node("tainted").labelled(pool="h100").tainted("dedicated", "infra").obj(),
    ]
    running = [gpu_pod("a").on("full").obj(), gpu_pod("b").on("full-too").obj()]

    decision = schedule(gpu_pod().selecting(pool="h100").obj(), nodes, running)

    assert decision.message == (
        "0/5 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, "
        "1 node(s) had untolerated taint {dedicated: infra}, 1 node(s) were unschedulable, "
        "2 Insufficient nvidia.com/gpu."
    )
    assert decision.reasons == {
        "node(s) were unschedulable": 1,
        "node(s) had untolerated taint {dedicated: infra}": 1,
        "node(s) didn't match Pod's node affinity/selector": 1,
        "Insufficient nvidia.com/gpu": 2,
    }


def test_a_node_rejected_by_an_earlier_filter_is_not_counted_by_later_ones() -> None:
    # cordoned, tainted, elsewhere and full: only the first filter in the profile's order counts
    everything_wrong = (
        gpu_node("n").labelled(pool="a100").cordoned().tainted("dedicated", "infra").obj()
    )
    running = [gpu_pod("old").on("n").obj()]

    decision = schedule(gpu_pod().selecting(pool="h100").obj(), [everything_wrong], running)

    assert decision.reasons == {"node(s) were unschedulable": 1}


@pytest.mark.parametrize(
    ("the_node", "reason"),
    [
        (
            gpu_node("n").labelled(pool="a100").tainted("dedicated", "infra"),
            "node(s) had untolerated taint {dedicated: infra}",
        ),
        (gpu_node("n").labelled(pool="a100"), "node(s) didn't match Pod's node affinity/selector"),
    ],
)
def test_taints_come_before_affinity_and_affinity_before_resources(
    the_node: NodeBuilder, reason: str
) -> None:
    running = [gpu_pod("old").on("n").obj()]

    decision = schedule(gpu_pod().selecting(pool="h100").obj(), [the_node.obj()], running)

    assert only_reason(decision) == reason


def test_a_count_of_ten_sorts_before_a_count_of_two_as_upstream_does() -> None:
    nodes = [node(f"c{i:02}").cordoned().obj() for i in range(10)]
    nodes += [gpu_node("g1", gpus=1).obj(), gpu_node("g2", gpus=1).obj()]

    decision = schedule(gpu_pod().obj(), nodes, [])

    assert decision.message == (
        "0/12 nodes are available: 10 node(s) were unschedulable, 2 Insufficient nvidia.com/gpu."
    )


def test_with_no_nodes_the_scheduler_says_so() -> None:
    assert schedule(gpu_pod().obj(), [], []).message == "no nodes available to schedule pods"


def test_a_bound_pod_stays_where_it_is() -> None:
    decision = schedule(gpu_pod().on("gpu-z").obj(), [gpu_node("gpu-a").obj()], [])

    assert (decision.node, decision.message, decision.reasons) == ("gpu-z", "", {})


# --- the score ---------------------------------------------------------------------------
def test_the_least_allocated_node_wins() -> None:
    nodes = [node("busy").obj(), node("idle").obj()]
    running = [pod("old").requesting(cpu="32", memory="1Gi").on("busy").obj()]

    assert schedule(pod().requesting(cpu="1", memory="1Gi").obj(), nodes, running).node == "idle"


def test_cpu_and_memory_weigh_the_same() -> None:
    nodes = [node("cpu-heavy").obj(), node("memory-heavy").obj()]
    running = [
        pod("a").requesting(cpu="48", memory="0").on("cpu-heavy").obj(),  # 75% of cpu
        pod("b").requesting(cpu="0", memory="128Gi").on("memory-heavy").obj(),  # 25% of memory
    ]

    assert schedule(pod().requesting(cpu="1", memory="1Gi").obj(), nodes, running).node == (
        "memory-heavy"
    )


def test_a_node_full_of_pods_without_requests_counts_as_allocated() -> None:
    nodes = [
        node("crowded").with_allocatable(cpu="1").obj(),
        node("empty").with_allocatable(cpu="1").obj(),
    ]
    running = [pod(f"p{i}").on("crowded").obj() for i in range(5)]  # 5 x 100m by default

    assert schedule(pod().obj(), nodes, running).node == "empty"


@pytest.mark.parametrize("names", [["b", "a", "c"], ["c", "b", "a"], ["a", "c", "b"]])
def test_ties_go_to_the_first_node_by_name(names: list[str]) -> None:
    nodes = [gpu_node(name).obj() for name in names]

    assert schedule(gpu_pod(gpus=1).obj(), nodes, []).node == "a"


def test_gpus_are_not_scored_unless_the_weights_say_so() -> None:
    nodes = [gpu_node("gpu-a").obj(), gpu_node("gpu-b").obj()]
    four_on_a = [gpu_pod("old", gpus=4).on("gpu-a").obj()]
    new = gpu_pod(gpus=2).obj()

    assert schedule(new, nodes, four_on_a).node == "gpu-a"  # cpu and memory tie
    spread = {"cpu": 1, "memory": 1, GPU: 1}
    assert schedule(new, nodes, four_on_a, weights=spread).node == "gpu-b"


def test_scoring_gpus_ignores_them_for_pods_that_ask_for_none() -> None:
    nodes = [gpu_node("gpu-a").obj(), gpu_node("gpu-b").obj()]
    eight_on_a = [gpu_pod("old").on("gpu-a").obj()]
    spread = {"cpu": 1, "memory": 1, GPU: 1}

    # gpu-a's GPUs are all taken, but a pod that asks for none does not see that
    assert schedule(pod().obj(), nodes, eight_on_a, weights=spread).node == "gpu-a"


def test_pods_of_two_clusters_with_the_same_uid_are_each_counted_for_what_they_ask() -> None:
    """Local clusters in one process draw uids from the same seed: nothing may be
    remembered by uid (it once was, and a node took four 3-GPU pods on 8 GPUs)."""
    one_gpu, three_gpus = gpu_pod("a", gpus=1).obj(), gpu_pod("b", gpus=3).obj()
    for running in (one_gpu, three_gpus):
        running["metadata"]["uid"] = "same"
        running["spec"]["nodeName"] = "n1"
        running.setdefault("status", {})["phase"] = "Running"
    nodes = [gpu_node("n1").obj()]

    (fits,) = place([gpu_pod("c", gpus=6).obj()], nodes, [one_gpu])
    (full,) = place([gpu_pod("c", gpus=6).obj()], nodes, [three_gpus])

    assert (fits.node, full.node) == ("n1", None)
