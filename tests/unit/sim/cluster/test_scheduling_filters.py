"""The filters that read labels, taints and conditions: nodeSelector, required node
affinity, taints and tolerations, cordoned and not-ready nodes.
"""

import pytest

from llamaops.sim.cluster.scheduling import schedule
from tests.unit.sim.cluster.scheduling_builders import (
    NodeBuilder,
    PodBuilder,
    gpu_node,
    gpu_pod,
    node,
    only_reason,
    pod,
)

MISMATCH = "node(s) didn't match Pod's node affinity/selector"
H100 = {"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3", "nvidia.com/gpu.memory": "81559"}


def lands(the_pod: PodBuilder, the_node: NodeBuilder) -> bool:
    return schedule(the_pod.obj(), [the_node.obj()], []).node is not None


# --- nodeSelector ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("selector", "fits"),
    [
        ({"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3"}, True),
        (
            {"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3", "nvidia.com/gpu.memory": "81559"},
            True,
        ),
        ({"nvidia.com/gpu.product": "NVIDIA-A100-SXM4-40GB"}, False),
        ({"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3", "nvidia.com/gpu.memory": "1"}, False),
        ({"pool": ""}, False),  # an empty value still needs the label
        ({}, True),
    ],
)
def test_node_selector_needs_every_label(selector: dict[str, str], fits: bool) -> None:
    assert lands(gpu_pod().selecting(**selector), gpu_node("n").labelled(**H100)) is fits


def test_a_selector_mismatch_has_the_upstream_reason() -> None:
    decision = schedule(gpu_pod().selecting(pool="h100").obj(), [gpu_node("n").obj()], [])

    assert decision.message == f"0/1 nodes are available: 1 {MISMATCH}."


# --- required node affinity --------------------------------------------------------------
MEMORY = "nvidia.com/gpu.memory"
PRODUCT = "nvidia.com/gpu.product"


@pytest.mark.parametrize(
    ("the_pod", "fits"),
    [
        (pod().requiring(PRODUCT, "In", "NVIDIA-A100", "NVIDIA-H100-80GB-HBM3"), True),
        (pod().requiring(PRODUCT, "In", "NVIDIA-A100"), False),
        (pod().requiring(PRODUCT, "NotIn", "NVIDIA-A100"), True),
        (pod().requiring(PRODUCT, "NotIn", "NVIDIA-H100-80GB-HBM3"), False),
        (pod().requiring("absent", "NotIn", "x"), True),  # NotIn holds where the label is missing
        (pod().requiring(PRODUCT, "Exists"), True),
        (pod().requiring("absent", "Exists"), False),
        (pod().requiring("absent", "DoesNotExist"), True),
        (pod().requiring(PRODUCT, "DoesNotExist"), False),
        (pod().requiring(MEMORY, "Gt", "40000"), True),
        (pod().requiring(MEMORY, "Gt", "81559"), False),
        (pod().requiring(MEMORY, "Lt", "81560"), True),
        (pod().requiring(MEMORY, "Lt", "40000"), False),
        (pod().requiring(PRODUCT, "Gt", "1"), False),  # the label is not an integer
        (pod().requiring("absent", "Lt", "1"), False),
        (pod().requiring(MEMORY, "Gt", "4e4"), False),  # not a valid requirement: no match
        (pod().requiring(MEMORY, "Gt", "1", "2"), False),
        (pod().requiring(PRODUCT, "In"), False),
        (pod().requiring(PRODUCT, "Exists", "x"), False),
        (pod().requiring(PRODUCT, "Like", "NVIDIA"), False),
        # requirements in a term are ANDed, terms are ORed
        (pod().requiring(PRODUCT, "Exists").requiring(MEMORY, "Gt", "90000"), False),
        (pod().requiring(PRODUCT, "Exists").requiring(MEMORY, "Gt", "40000"), True),
        (pod().requiring(MEMORY, "Gt", "90000").or_else().requiring(PRODUCT, "Exists"), True),
        (pod().requiring(MEMORY, "Gt", "4e4").or_else().requiring(PRODUCT, "Exists"), True),
        (pod().requiring(MEMORY, "Gt", "90000").or_else(), False),  # an empty term: nothing
        (pod().requiring_no_terms(), False),
        # nodeSelector and affinity must both hold
        (pod().selecting(pool="h100").requiring(PRODUCT, "Exists"), False),
        # matchFields on metadata.name
        (pod().requiring_field("In", "gpu-a"), True),
        (pod().requiring_field("NotIn", "gpu-a"), False),
        (pod().requiring_field("NotIn", "gpu-b"), True),
        (pod().requiring_field("In", "gpu-a").requiring(MEMORY, "Lt", "40000"), False),
    ],
)
def test_required_node_affinity(the_pod: PodBuilder, fits: bool) -> None:
    assert lands(the_pod, node("gpu-a").labelled(**H100)) is fits


def test_an_affinity_mismatch_has_the_same_reason_as_a_selector_mismatch() -> None:
    the_pod = pod().requiring(PRODUCT, "In", "NVIDIA-A100").obj()

    assert only_reason(schedule(the_pod, [node("n").obj()], [])) == MISMATCH


def test_pinning_node_names_leaves_the_other_nodes_out_before_filtering() -> None:
    nodes = [node(name).obj() for name in ("gpu-a", "gpu-b", "gpu-c")]
    pinned = pod().requiring_field("In", "gpu-b").or_else().requiring_field("In", "gpu-c")

    decision = schedule(pinned.obj(), nodes, [])
    assert decision.node == "gpu-b"

    decision = schedule(pinned.selecting(pool="h100").obj(), nodes, [])
    assert decision.message == (
        f"0/3 nodes are available: 1 node(s) didn't satisfy plugin(s) [NodeAffinity], 2 {MISMATCH}."
    )


def test_terms_pinning_no_common_name_conflict() -> None:
    conflicting = pod().requiring_field("In", "gpu-a").requiring_field("In", "gpu-b")

    decision = schedule(conflicting.obj(), [node("gpu-a").obj(), node("gpu-b").obj()], [])

    assert decision.message == "0/2 nodes are available: pod affinity terms conflict."
    assert decision.reasons == {"pod affinity terms conflict": 2}


# --- taints and tolerations --------------------------------------------------------------
GPU_TAINT = ("nvidia.com/gpu", "present", "NoSchedule")


@pytest.mark.parametrize(
    ("taint", "the_pod", "fits"),
    [
        (GPU_TAINT, gpu_pod(), False),
        (GPU_TAINT, gpu_pod().tolerating("nvidia.com/gpu"), True),
        (GPU_TAINT, gpu_pod().tolerating("nvidia.com/gpu", effect="NoSchedule"), True),
        (GPU_TAINT, gpu_pod().tolerating("nvidia.com/gpu", effect="NoExecute"), False),
        (GPU_TAINT, gpu_pod().tolerating("nvidia.com/gpu", "Equal", "present"), True),
        (GPU_TAINT, gpu_pod().tolerating("nvidia.com/gpu", "Equal", "absent"), False),
        (GPU_TAINT, gpu_pod().tolerating("nvidia.com/gpu", "", "present"), True),  # "" = Equal
        (GPU_TAINT, gpu_pod().tolerating("other"), False),
        (GPU_TAINT, gpu_pod().tolerating(), True),  # empty key with Exists tolerates all
        (GPU_TAINT, gpu_pod().tolerating(effect="NoSchedule"), True),
        (GPU_TAINT, gpu_pod().tolerating(effect="PreferNoSchedule"), False),
        (GPU_TAINT, gpu_pod().tolerating("nvidia.com/gpu", "Among"), False),
        (("dedicated", "", "NoSchedule"), gpu_pod().tolerating("dedicated", "Equal"), True),
        (("dedicated", "infra", "NoExecute"), gpu_pod(), False),
        (("dedicated", "infra", "NoExecute"), gpu_pod().tolerating("dedicated"), True),
        (("dedicated", "infra", "PreferNoSchedule"), gpu_pod(), True),  # only scoring reads it
    ],
)
def test_taints_and_tolerations(
    taint: tuple[str, str, str], the_pod: PodBuilder, fits: bool
) -> None:
    assert lands(the_pod, gpu_node("n").tainted(*taint)) is fits


def test_every_taint_must_be_tolerated_and_the_first_one_that_is_not_is_named() -> None:
    the_node = gpu_node("n").tainted(*GPU_TAINT).tainted("dedicated").tainted("zone", "b")
    tolerant = gpu_pod().tolerating("nvidia.com/gpu")

    decision = schedule(tolerant.obj(), [the_node.obj()], [])

    assert (
        decision.message
        == "0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: }."
    )


# --- cordoned nodes ----------------------------------------------------------------------
def test_a_cordoned_node_takes_no_new_pods() -> None:
    decision = schedule(gpu_pod().obj(), [gpu_node("n").cordoned().obj()], [])

    assert decision.message == "0/1 nodes are available: 1 node(s) were unschedulable."


@pytest.mark.parametrize(
    ("the_pod", "fits"),
    [
        (gpu_pod().tolerating("node.kubernetes.io/unschedulable", effect="NoSchedule"), True),
        (gpu_pod().tolerating("node.kubernetes.io/unschedulable"), True),
        (gpu_pod().tolerating(), True),
        (gpu_pod().tolerating("node.kubernetes.io/unschedulable", effect="NoExecute"), False),
    ],
)
def test_a_cordoned_node_takes_pods_tolerating_the_unschedulable_taint(
    the_pod: PodBuilder, fits: bool
) -> None:
    assert lands(the_pod, gpu_node("n").cordoned()) is fits


# --- not-ready nodes ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("ready", "taint"),
    [
        ("False", "node.kubernetes.io/not-ready"),
        (None, "node.kubernetes.io/not-ready"),  # never reported
        ("Unknown", "node.kubernetes.io/unreachable"),
    ],
)
def test_a_node_that_is_not_ready_is_rejected_through_its_taint(
    ready: str | None, taint: str
) -> None:
    decision = schedule(gpu_pod().obj(), [gpu_node("n").ready(ready).obj()], [])

    assert (
        decision.message
        == f"0/1 nodes are available: 1 node(s) had untolerated taint {{{taint}: }}."
    )


def test_the_lifecycle_controllers_own_taint_is_not_counted_twice() -> None:
    the_node = gpu_node("n").ready("False").tainted("node.kubernetes.io/not-ready")

    assert schedule(gpu_pod().obj(), [the_node.obj()], []).reasons == {
        "node(s) had untolerated taint {node.kubernetes.io/not-ready: }": 1
    }


@pytest.mark.parametrize(
    ("ready", "toleration", "fits"),
    [
        ("False", "node.kubernetes.io/not-ready", True),
        ("Unknown", "node.kubernetes.io/unreachable", True),
        ("Unknown", "node.kubernetes.io/not-ready", False),
        ("True", "", True),
    ],
)
def test_pods_tolerating_the_not_ready_taints_still_land(
    ready: str, toleration: str, fits: bool
) -> None:
    tolerant = gpu_pod().tolerating(toleration, effect="NoSchedule") if toleration else gpu_pod()

    assert lands(tolerant, gpu_node("n").ready(ready)) is fits


def test_the_default_not_ready_tolerations_are_for_eviction_only() -> None:
    # DefaultTolerationSeconds adds NoExecute tolerations; they do not let a pod onto the node
    defaulted = (
        gpu_pod()
        .tolerating("node.kubernetes.io/not-ready", effect="NoExecute")
        .tolerating("node.kubernetes.io/unreachable", effect="NoExecute")
    )

    assert not lands(defaulted, gpu_node("n").ready("False"))


def test_pods_go_to_the_ready_node() -> None:
    nodes = [gpu_node("a-down").ready("Unknown").obj(), gpu_node("b-up").obj()]

    assert schedule(gpu_pod().obj(), nodes, []).node == "b-up"
