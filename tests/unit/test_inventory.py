"""Free GPUs per node and product: which nodes count, what their pods hold, what fits."""

from collections.abc import Sequence
from typing import Any

import pytest

from llamaops.api.spec import Toleration
from llamaops.inventory import (
    GPU_TOLERATION,
    Inventory,
    ProductPool,
    pod_gpu_request,
    replica_tolerations,
    take_inventory,
    tolerates,
)
from tests.builders import gpu_node, gpu_pod

H100 = "NVIDIA-H100-80GB-HBM3"
L4 = "NVIDIA-L4"
Node = dict[str, Any]
Pod = dict[str, Any]


def free_on(node: str, nodes: Sequence[Node], pods: Sequence[Pod]) -> int:
    inventory = take_inventory(nodes, pods)
    return next(n.free for n in inventory.nodes if n.name == node)


def exclusion_of(node: Node, **options: Any) -> str | None:
    (only,) = take_inventory([node], [], **options).nodes
    return only.excluded


def taint(key: str, effect: str, value: str | None = None) -> dict[str, str]:
    shown = {"key": key, "effect": effect}
    if value is not None:
        shown["value"] = value
    return shown


def with_second_container(pod: Pod, gpus: int) -> Pod:
    resources = {"limits": {"nvidia.com/gpu": str(gpus)}}
    pod["spec"]["containers"].append({"name": "sidecar", "resources": resources})
    return pod


def without_resources(pod: Pod) -> Pod:
    for container in pod["spec"]["containers"]:
        container.pop("resources")
    return pod


# --- free GPUs: allocatable minus what the node's live pods request ---------------------


@pytest.mark.parametrize(
    ("pods", "free"),
    [
        pytest.param([], 8, id="an idle node has all its GPUs free"),
        pytest.param([gpu_pod("h100-0", gpus=4)], 4, id="a running pod holds its GPUs"),
        pytest.param(
            [gpu_pod("h100-0", gpus=2, name="a"), gpu_pod("h100-0", gpus=3, name="b")],
            3,
            id="the requests of all pods on the node add up",
        ),
        pytest.param(
            [gpu_pod("h100-0", gpus=2, phase="Pending")],
            6,
            id="a pending pod already bound to the node holds its GPUs",
        ),
        pytest.param(
            [gpu_pod("h100-0", gpus=4, phase="Succeeded")], 8, id="a succeeded pod holds nothing"
        ),
        pytest.param(
            [gpu_pod("h100-0", gpus=4, phase="Failed")], 8, id="a failed pod holds nothing"
        ),
        pytest.param(
            [gpu_pod(None, gpus=4, phase="Pending")], 8, id="an unscheduled pod holds nothing"
        ),
        pytest.param([gpu_pod("h100-1", gpus=4)], 8, id="a pod on another node holds nothing here"),
        pytest.param(
            [gpu_pod("h100-0", gpus=3, limits_only=True)],
            5,
            id="limits count when requests are absent",
        ),
        pytest.param(
            [gpu_pod("h100-0", gpus=1, init_gpus=4)],
            4,
            id="an init container larger than the containers sets the request",
        ),
        pytest.param(
            [gpu_pod("h100-0", gpus=4, init_gpus=2)],
            4,
            id="an init container smaller than the containers changes nothing",
        ),
        pytest.param(
            [gpu_pod("h100-0", gpus=8, name="a"), gpu_pod("h100-0", gpus=4, name="b")],
            0,
            id="an overcommitted node has none free, never fewer",
        ),
    ],
)
def test_free_gpus_are_allocatable_minus_what_bound_live_pods_request(
    pods: list[Pod], free: int
) -> None:
    nodes = [gpu_node("h100-0", gpus=8), gpu_node("h100-1", gpus=8)]

    assert free_on("h100-0", nodes, pods) == free


@pytest.mark.parametrize(
    ("pod", "gpus"),
    [
        pytest.param(gpu_pod("n", gpus=2), 2, id="one container's request"),
        pytest.param(gpu_pod("n", gpus=0), 0, id="a pod without GPUs"),
        pytest.param(without_resources(gpu_pod("n", gpus=2)), 0, id="no resources at all"),
        pytest.param(gpu_pod("n", gpus=3, limits_only=True), 3, id="limits stand in for requests"),
        pytest.param(
            with_second_container(gpu_pod("n", gpus=2), gpus=1), 3, id="containers add up"
        ),
        pytest.param(
            gpu_pod("n", gpus=1, init_gpus=4), 4, id="the largest init container when larger"
        ),
        pytest.param(
            with_second_container(gpu_pod("n", gpus=2, init_gpus=3), gpus=2),
            4,
            id="the containers' sum when larger than any init container",
        ),
    ],
)
def test_a_pod_holds_the_larger_of_its_containers_sum_and_its_largest_init_container(
    pod: Pod, gpus: int
) -> None:
    assert pod_gpu_request(pod) == gpus


# --- which nodes replicas can use -----------------------------------------------------


@pytest.mark.parametrize(
    ("node", "excluded"),
    [
        pytest.param(gpu_node("n"), None, id="a ready, untainted GPU node is usable"),
        pytest.param(gpu_node("n", ready=False), "NotReady", id="a NotReady node is excluded"),
        pytest.param(gpu_node("n", cordoned=True), "cordoned", id="a cordoned node is excluded"),
        pytest.param(
            gpu_node("n", taints=[taint("dedicated", "NoSchedule", "infra")]),
            "taint dedicated=infra:NoSchedule not tolerated",
            id="an untolerated NoSchedule taint excludes the node",
        ),
        pytest.param(
            gpu_node("n", taints=[taint("maintenance", "NoExecute", "true")]),
            "taint maintenance=true:NoExecute not tolerated",
            id="an untolerated NoExecute taint excludes the node",
        ),
        pytest.param(
            gpu_node("n", taints=[taint("dedicated", "PreferNoSchedule", "infra")]),
            None,
            id="a PreferNoSchedule taint is only a preference",
        ),
        pytest.param(
            gpu_node("n", taints=[taint("nvidia.com/gpu", "NoSchedule", "present")]),
            None,
            id="the GPU operator's NoSchedule taint is tolerated by default",
        ),
        pytest.param(
            gpu_node("n", taints=[taint("nvidia.com/gpu", "NoSchedule")]),
            None,
            id="the GPU taint without a value is tolerated by default",
        ),
        pytest.param(
            gpu_node("n", taints=[taint("nvidia.com/gpu", "NoExecute", "present")]),
            "taint nvidia.com/gpu=present:NoExecute not tolerated",
            id="the GPU toleration covers NoSchedule only",
        ),
        pytest.param(
            gpu_node("n", product=None),
            "no nvidia.com/gpu.product label",
            id="a node without a GPU product label is excluded",
        ),
    ],
)
def test_a_node_is_usable_unless_something_keeps_replicas_off_it(
    node: Node, excluded: str | None
) -> None:
    assert exclusion_of(node) == excluded


def test_the_default_tolerations_are_the_gpu_taint() -> None:
    gpu_taint = Toleration(key="nvidia.com/gpu", operator="Exists", effect="NoSchedule")

    assert gpu_taint == GPU_TOLERATION


@pytest.mark.parametrize(
    ("toleration", "node_taint", "tolerated"),
    [
        pytest.param(
            Toleration(operator="Exists"),
            taint("anything", "NoExecute", "at-all"),
            True,
            id="Exists with an empty key tolerates every taint",
        ),
        pytest.param(
            Toleration(operator="Exists", effect="NoSchedule"),
            taint("anything", "NoSchedule"),
            True,
            id="Exists with an empty key and an effect tolerates every taint of that effect",
        ),
        pytest.param(
            Toleration(operator="Exists", effect="NoSchedule"),
            taint("anything", "NoExecute"),
            False,
            id="Exists with an empty key and an effect tolerates no other effect",
        ),
        pytest.param(
            Toleration(key="dedicated", operator="Exists"),
            taint("dedicated", "NoSchedule", "whatever"),
            True,
            id="Exists with a key tolerates any value",
        ),
        pytest.param(
            Toleration(key="dedicated", operator="Exists"),
            taint("other", "NoSchedule", "whatever"),
            False,
            id="Exists with a key tolerates no other key",
        ),
        pytest.param(
            Toleration(key="dedicated", value="llm"),
            taint("dedicated", "NoSchedule", "llm"),
            True,
            id="Equal tolerates the same key and value",
        ),
        pytest.param(
            Toleration(key="dedicated", value="llm"),
            taint("dedicated", "NoSchedule", "infra"),
            False,
            id="Equal needs the value to match",
        ),
        pytest.param(
            Toleration(key="dedicated"),
            taint("dedicated", "NoSchedule", "llm"),
            False,
            id="Equal without a value does not tolerate a taint with one",
        ),
        pytest.param(
            Toleration(key="dedicated"),
            taint("dedicated", "NoSchedule"),
            True,
            id="Equal without a value tolerates a taint without one",
        ),
        pytest.param(
            Toleration(key="dedicated", value="llm", effect="NoSchedule"),
            taint("dedicated", "NoSchedule", "llm"),
            True,
            id="an effect that matches",
        ),
        pytest.param(
            Toleration(key="dedicated", value="llm", effect="NoSchedule"),
            taint("dedicated", "NoExecute", "llm"),
            False,
            id="an effect that does not match",
        ),
        pytest.param(
            Toleration(key="dedicated", value="llm"),
            taint("dedicated", "NoExecute", "llm"),
            True,
            id="no effect tolerates every effect",
        ),
    ],
)
def test_a_toleration_matches_a_taint_as_the_scheduler_decides(
    toleration: Toleration, node_taint: dict[str, str], tolerated: bool
) -> None:
    assert tolerates([toleration], node_taint) is tolerated


def test_any_one_of_several_tolerations_is_enough() -> None:
    tolerations = [Toleration(key="a", value="1"), Toleration(key="b", operator="Exists")]

    assert tolerates(tolerations, taint("b", "NoSchedule", "2"))
    assert not tolerates(tolerations, taint("c", "NoSchedule", "2"))


def test_replicas_tolerate_the_gpu_taint_and_the_users_tolerations() -> None:
    user = Toleration(key="dedicated", value="llm", effect="NoSchedule")

    assert replica_tolerations([user]) == (GPU_TOLERATION, user)
    assert replica_tolerations([]) == (GPU_TOLERATION,)


@pytest.mark.parametrize(
    ("user", "excluded"),
    [
        pytest.param(
            [],
            "taint dedicated=llm:NoSchedule not tolerated",
            id="without a toleration the dedicated node is excluded",
        ),
        pytest.param(
            [Toleration(key="dedicated", value="llm", effect="NoSchedule")],
            None,
            id="the user's toleration admits the node, the GPU taint still tolerated",
        ),
        pytest.param(
            [Toleration(key="dedicated", value="other")],
            "taint dedicated=llm:NoSchedule not tolerated",
            id="a toleration for another value does not",
        ),
    ],
)
def test_user_tolerations_admit_tainted_nodes(user: list[Toleration], excluded: str | None) -> None:
    node = gpu_node(
        "n",
        taints=[
            taint("nvidia.com/gpu", "NoSchedule", "present"),
            taint("dedicated", "NoSchedule", "llm"),
        ],
    )

    assert exclusion_of(node, tolerations=replica_tolerations(user)) == excluded


@pytest.mark.parametrize(
    ("selector", "excluded"),
    [
        pytest.param({}, None, id="no selector admits the node"),
        pytest.param({"pool": "llm"}, None, id="a matching label admits the node"),
        pytest.param(
            {"pool": "batch"},
            "does not match nodeSelector pool",
            id="a different value excludes the node",
        ),
        pytest.param(
            {"zone": "a"},
            "does not match nodeSelector zone",
            id="a missing label excludes the node",
        ),
        pytest.param(
            {"nvidia.com/gpu.product": L4},
            "does not match nodeSelector nvidia.com/gpu.product",
            id="a selector on another GPU product excludes the node",
        ),
    ],
)
def test_a_node_selector_excludes_nodes_without_its_labels(
    selector: dict[str, str], excluded: str | None
) -> None:
    node = gpu_node("n", product=H100, labels={"pool": "llm"})

    assert exclusion_of(node, node_selector=selector) == excluded


# --- pools: usable nodes grouped by product --------------------------------------------


def pools_of(nodes: Sequence[Node], pods: Sequence[Pod] = ()) -> dict[str, ProductPool]:
    return take_inventory(nodes, pods).pools()


def test_pools_group_usable_nodes_by_product_sorted_by_name() -> None:
    inventory = take_inventory(
        [
            gpu_node("l4-1", product=L4, gpus=1),
            gpu_node("h100-0", product=H100, gpus=8),
            gpu_node("l4-0", product=L4, gpus=1),
            gpu_node("h100-down", product=H100, ready=False),
        ],
        [gpu_pod("h100-0", gpus=3)],
    )

    assert inventory.pools() == {
        H100: ProductPool(H100, memory_mib=None, gpus_per_node=8, free_by_node=(5,)),
        L4: ProductPool(L4, memory_mib=None, gpus_per_node=1, free_by_node=(1, 1)),
    }
    assert [node.name for node in inventory.excluded()] == ["h100-down"]


@pytest.mark.parametrize(
    ("nodes", "memory_mib", "gpus_per_node", "free"),
    [
        pytest.param(
            [gpu_node("a", memory_mib=81559), gpu_node("b", memory_mib=80000)],
            80000,
            8,
            16,
            id="the smallest memory label, so a layout fits every node",
        ),
        pytest.param(
            [gpu_node("a", memory_mib=81559), gpu_node("b")],
            81559,
            8,
            16,
            id="nodes without a memory label leave the others' label",
        ),
        pytest.param(
            [gpu_node("a"), gpu_node("b")],
            None,
            8,
            16,
            id="no memory label at all: the catalog decides later",
        ),
        pytest.param(
            [gpu_node("a", gpus=4), gpu_node("b", gpus=8)],
            None,
            8,
            12,
            id="the largest allocatable count sets the GPUs per node",
        ),
        pytest.param(
            [gpu_node("a"), gpu_node("b", cordoned=True, memory_mib=40000)],
            None,
            8,
            8,
            id="excluded nodes add nothing to the pool",
        ),
    ],
)
def test_a_pool_takes_the_smallest_memory_and_the_largest_node(
    nodes: list[Node], memory_mib: int | None, gpus_per_node: int, free: int
) -> None:
    (pool,) = pools_of(nodes).values()

    assert (pool.memory_mib, pool.gpus_per_node, pool.free) == (memory_mib, gpus_per_node, free)


def test_an_unreadable_memory_label_is_ignored() -> None:
    (pool,) = pools_of([gpu_node("a", labels={"nvidia.com/gpu.memory": "80GB"})]).values()

    assert pool.memory_mib is None


def test_an_empty_cluster_has_no_pools_and_nothing_excluded() -> None:
    inventory = take_inventory([], [])

    assert inventory == Inventory(nodes=())
    assert inventory.pools() == {}
    assert inventory.excluded() == []


# --- replicas the free GPUs hold -------------------------------------------------------


@pytest.mark.parametrize(
    ("free_by_node", "tp", "pp", "nodes", "replicas"),
    [
        pytest.param((8, 8), 1, 1, 1, 16, id="one-GPU replicas: every free GPU"),
        pytest.param((8, 8), 4, 1, 1, 4, id="four-GPU replicas: two per node"),
        pytest.param((8, 3), 4, 1, 1, 2, id="a remainder on a node is wasted"),
        pytest.param((3, 3), 4, 1, 1, 0, id="a one-node replica never spans two nodes' leftovers"),
        pytest.param((8, 8), 2, 2, 1, 4, id="a one-node pipeline keeps its stages together"),
        pytest.param((0, 0), 1, 1, 1, 0, id="full nodes hold nothing"),
        pytest.param((8, 8, 8), 8, 2, 2, 1, id="two-node replicas: two whole nodes each"),
        pytest.param((8, 8, 8, 8), 8, 2, 2, 2, id="four free nodes hold two two-node replicas"),
        pytest.param((8, 4, 8, 8), 8, 2, 2, 1, id="a node without a stage's GPUs does not count"),
        pytest.param((1, 1, 1, 0), 1, 3, 3, 1, id="three one-GPU nodes hold a three-stage replica"),
        pytest.param((1, 1), 1, 3, 3, 0, id="too few nodes for a multi-node replica"),
        pytest.param((6, 6, 6), 4, 3, 3, 1, id="a tensor-parallel group never crosses nodes"),
        pytest.param((6, 6), 4, 3, 3, 0, id="two 6-GPU nodes cannot hold three TP-4 stages"),
    ],
)
def test_replicas_that_fit_count_whole_replicas_in_the_free_gpus(
    free_by_node: tuple[int, ...], tp: int, pp: int, nodes: int, replicas: int
) -> None:
    pool = ProductPool(H100, memory_mib=None, gpus_per_node=8, free_by_node=free_by_node)

    assert pool.replicas_that_fit(tp, pp, nodes) == replicas
