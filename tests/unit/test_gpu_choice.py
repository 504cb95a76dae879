"""Which GPU product a replica runs on, and how many replicas the cluster's free GPUs hold.

Each test goes the way the operator does: a spec as the user writes it, `resolve_model`,
`take_inventory` of Node and Pod objects, then `choose_gpu`.
"""

from collections.abc import Sequence
from typing import Any

import pytest

from llamaops.api.spec import GpuSpec, LlamaDeploymentSpec
from llamaops.errors import SpecError
from llamaops.gpu_choice import GpuChoice, choose_gpu, size_for_product
from llamaops.inventory import replica_tolerations, take_inventory
from llamaops.model_resolution import resolve_model
from tests.builders import DeploymentBuilder, a_deployment, gpu_node, gpu_pod

H100 = "NVIDIA-H100-80GB-HBM3"
H100_PCIE = "NVIDIA-H100-PCIe"
A100_40GB = "NVIDIA-A100-SXM4-40GB"
L4 = "NVIDIA-L4"
A10G = "NVIDIA-A10G"
Node = dict[str, Any]
Pod = dict[str, Any]


def nodes_of(product: str, count: int, gpus: int = 8, **options: Any) -> list[Node]:
    """`count` nodes of one product, named after it: nvidia-l4-0, nvidia-l4-1, ..."""
    return [
        gpu_node(f"{product.lower()}-{i}", product=product, gpus=gpus, **options)
        for i in range(count)
    ]


def spec_of(deployment: DeploymentBuilder) -> LlamaDeploymentSpec:
    return LlamaDeploymentSpec.model_validate(deployment.obj()["spec"])


def choose(
    deployment: DeploymentBuilder, nodes: Sequence[Node], pods: Sequence[Pod] = ()
) -> GpuChoice:
    """What the operator decides for this deployment on these nodes."""
    spec = spec_of(deployment)
    inventory = take_inventory(
        nodes,
        pods,
        replica_tolerations(spec.scheduling.tolerations),
        spec.scheduling.node_selector,
    )
    return choose_gpu(resolve_model(spec.model), spec.gpu, inventory)


def llama_8b(context: int = 8192) -> DeploymentBuilder:
    return a_deployment().model("llama3.1-8b-instruct").max_model_len(context)


def llama_70b() -> DeploymentBuilder:
    return a_deployment().model("llama3.1-70b-instruct").dtype("bfloat16").max_model_len(8192)


def llama_405b() -> DeploymentBuilder:
    return a_deployment().model("llama3.1-405b-instruct").dtype("bfloat16").max_model_len(8192)


# --- the policy: fits, one node, fewest GPUs, most replicas now, name -------------------


@pytest.mark.parametrize(
    ("deployment", "nodes", "pods", "chosen"),
    [
        pytest.param(
            llama_8b(),
            nodes_of(L4, 4, gpus=1) + nodes_of(H100, 1),
            [],
            (H100, 1, 1, 8),
            id="8B at 8K needs one GPU of either: the H100 node holds 8 replicas, the L4s 4",
        ),
        pytest.param(
            llama_8b(),
            nodes_of(L4, 4, gpus=1) + nodes_of(H100, 1),
            [gpu_pod("nvidia-h100-80gb-hbm3-0", gpus=6)],
            (L4, 1, 1, 4),
            id="8B at 8K on a busy H100 node: the idle L4s hold more replicas",
        ),
        pytest.param(
            llama_8b(context=131072),
            nodes_of(L4, 4, gpus=8) + nodes_of(H100, 1),
            [gpu_pod("nvidia-h100-80gb-hbm3-0", gpus=6)],
            (H100, 1, 1, 2),
            id="8B at 128K needs 1 H100 or 4 L4s: fewer GPUs beats more replicas",
        ),
        pytest.param(
            llama_8b(context=131072),
            nodes_of(L4, 4, gpus=1) + nodes_of(A10G, 1),
            [],
            (A10G, 4, 1, 2),
            id="8B at 128K: 4 A10Gs in one node beat 3 one-GPU L4 nodes in a pipeline",
        ),
        pytest.param(
            llama_405b(),
            nodes_of(H100, 2) + nodes_of(L4, 32, gpus=1),
            [],
            (H100, 8, 2, 1),
            id="405B fits two H100 nodes and no number of L4 nodes: fitting comes first",
        ),
        pytest.param(
            llama_70b(),
            nodes_of(H100, 1) + nodes_of(A100_40GB, 1),
            [],
            (H100, 4, 1, 2),
            id="70B bf16 at 8K: TP 4 on H100 beats TP 8 on A100 40GB",
        ),
        pytest.param(
            llama_70b().gpu(product="A100-40GB"),
            nodes_of(H100, 1) + nodes_of(A100_40GB, 1),
            [],
            (A100_40GB, 8, 1, 1),
            id="70B bf16 at 8K with A100-40GB named: only A100 nodes count",
        ),
        pytest.param(
            llama_70b().gpu(product="h100"),
            nodes_of(H100, 1) + nodes_of(A100_40GB, 1),
            [],
            (H100, 4, 1, 2),
            id="a product alias in any case names the label",
        ),
        pytest.param(
            llama_8b().gpu(product=L4),
            nodes_of(L4, 4, gpus=1) + nodes_of(H100, 1),
            [],
            (L4, 1, 1, 4),
            id="a product named by its label keeps replicas off the better product",
        ),
        pytest.param(
            llama_8b().set("spec.scheduling.nodeSelector", {"nvidia.com/gpu.product": L4}),
            nodes_of(L4, 4, gpus=1) + nodes_of(H100, 1),
            [],
            (L4, 1, 1, 4),
            id="a node selector leaves only the nodes it selects",
        ),
        pytest.param(
            llama_8b(),
            [gpu_node("a", product=H100_PCIE), gpu_node("b", product=H100)],
            [],
            (H100, 1, 1, 8),
            id="a tie on everything goes to the first product name",
        ),
    ],
)
def test_the_chosen_product_follows_the_documented_policy(
    deployment: DeploymentBuilder,
    nodes: list[Node],
    pods: list[Pod],
    chosen: tuple[str, int, int, int],
) -> None:
    """`chosen` is the product, TP, PP and the replicas available on it."""
    choice = choose(deployment, nodes, pods)

    assert choice.placement is not None
    assert choice.placement.fits
    assert (
        choice.placement.gpu_product,
        choice.placement.tensor_parallel_size,
        choice.placement.pipeline_parallel_size,
        choice.replicas_available,
    ) == chosen
    assert choice.reason == choice.placement.reason


def test_every_product_present_is_considered() -> None:
    choice = choose(llama_70b(), nodes_of(H100, 1) + nodes_of(A100_40GB, 1))

    considered = {p.gpu_product: p.tensor_parallel_size for p in choice.considered}
    assert considered == {A100_40GB: 8, H100: 4}


# --- what the free GPUs hold ---------------------------------------------------------


@pytest.mark.parametrize(
    ("pods", "replicas", "free_gpus"),
    [
        pytest.param([], 4, 16, id="two idle nodes hold four TP 4 replicas"),
        pytest.param(
            [gpu_pod("h100-0", gpus=4)], 3, 12, id="a running 4-GPU pod takes one replica's room"
        ),
        pytest.param([gpu_pod("h100-0", gpus=1)], 3, 15, id="one busy GPU spoils a replica's room"),
        pytest.param(
            [gpu_pod("h100-0", gpus=8, phase="Succeeded")],
            4,
            16,
            id="a finished pod frees its GPUs",
        ),
        pytest.param(
            [gpu_pod("h100-0", gpus=8, name="a"), gpu_pod("h100-1", gpus=8, name="b")],
            0,
            0,
            id="full nodes hold no replica",
        ),
    ],
)
def test_replicas_available_and_free_gpus_are_counted_from_free_gpus(
    pods: list[Pod], replicas: int, free_gpus: int
) -> None:
    nodes = [gpu_node("h100-0"), gpu_node("h100-1")]

    choice = choose(llama_70b(), nodes, pods)

    assert (choice.replicas_available, choice.free_gpus) == (replicas, free_gpus)


def test_a_layout_that_does_not_fit_has_no_replicas_available() -> None:
    choice = choose(llama_405b(), nodes_of(L4, 4, gpus=1))

    assert choice.placement is not None
    assert not choice.placement.fits
    assert (choice.replicas_available, choice.free_gpus) == (0, 4)
    assert "it does not fit NVIDIA-L4" in choice.reason


def test_nodes_whose_gpus_are_not_yet_allocatable_do_not_stop_the_choice() -> None:
    # GPU Feature Discovery labels a node before the device plugin reports its GPUs.
    nodes = nodes_of(H100, 1) + nodes_of(L4, 2, gpus=0)

    choice = choose(llama_8b(), nodes)

    assert choice.placement is not None
    assert (choice.placement.gpu_product, choice.replicas_available) == (H100, 8)


# --- a named product the usable nodes lack, and no usable nodes at all --------------------


def test_a_named_product_no_node_has_is_sized_from_the_catalog() -> None:
    cluster = nodes_of(H100, 1) + nodes_of(A100_40GB, 1)

    choice = choose(
        llama_70b().gpu(product="H200"), cluster, [gpu_pod("nvidia-h100-80gb-hbm3-0", gpus=2)]
    )

    assert choice.placement is not None
    placed = (
        choice.placement.gpu_product,
        choice.placement.gpu_memory_mib,
        choice.placement.gpus_per_node,
        choice.placement.tensor_parallel_size,
    )
    assert placed == ("NVIDIA-H200", 143771, 8, 2)
    assert (choice.replicas_available, choice.free_gpus) == (0, 0)
    assert "no usable node has NVIDIA-H200" in choice.reason
    assert f"usable nodes have {A100_40GB} (8 free), {H100} (6 free)" in choice.reason


def test_a_named_product_outside_the_catalog_and_the_cluster_has_no_placement() -> None:
    choice = choose(llama_70b().gpu(product="B200"), nodes_of(H100, 1))

    assert choice.placement is None
    assert choice.replicas_available == 0
    assert "no usable node has B200" in choice.reason
    assert f"usable nodes have {H100} (8 free)" in choice.reason


def test_a_named_product_on_a_cluster_without_usable_nodes_says_so() -> None:
    choice = choose(llama_70b().gpu(product="H100"), nodes_of(H100, 1, cordoned=True))

    assert choice.replicas_available == 0
    assert f"no usable node has {H100}" in choice.reason
    assert "usable nodes have no GPUs" in choice.reason


@pytest.mark.parametrize(
    ("nodes", "reason"),
    [
        pytest.param([], "no usable GPU node: the cluster has no nodes", id="an empty cluster"),
        pytest.param(
            [
                gpu_node("h100-0", ready=False),
                gpu_node("h100-1", cordoned=True),
                gpu_node(
                    "h100-2",
                    taints=[{"key": "dedicated", "value": "infra", "effect": "NoSchedule"}],
                ),
                gpu_node("cpu-0", product=None),
            ],
            "no usable GPU node: cpu-0 no nvidia.com/gpu.product label; h100-0 NotReady; "
            "h100-1 cordoned; h100-2 taint dedicated=infra:NoSchedule not tolerated",
            id="every node excluded, each with its reason",
        ),
    ],
)
def test_without_usable_nodes_there_is_no_placement_and_the_reason_lists_the_nodes(
    nodes: list[Node], reason: str
) -> None:
    choice = choose(llama_70b(), nodes)

    assert choice.placement is None
    assert choice.reason == reason


# --- GPU memory: the node's label over the catalog -------------------------------------


@pytest.mark.parametrize(
    ("memory_mib", "tp"),
    [
        pytest.param(None, 4, id="the catalog's 80 GB: TP 4"),
        pytest.param(40960, 8, id="a node reporting 40 GB: TP 8"),
        pytest.param(163840, 2, id="a node reporting 160 GB: TP 2"),
    ],
)
def test_a_nodes_memory_label_overrides_the_catalog(memory_mib: int | None, tp: int) -> None:
    choice = choose(llama_70b(), [gpu_node("h100-0", memory_mib=memory_mib)])

    assert choice.placement is not None
    assert choice.placement.tensor_parallel_size == tp
    assert choice.placement.gpu_memory_mib == (memory_mib or 81559)


def test_an_unknown_product_is_sized_from_its_nodes_memory_label() -> None:
    choice = choose(llama_70b(), [gpu_node("b200-0", product="NVIDIA-B200", memory_mib=183359)])

    assert choice.placement is not None
    assert (choice.placement.gpu_product, choice.placement.tensor_parallel_size) == (
        "NVIDIA-B200",
        1,
    )


def test_a_named_unknown_product_without_a_memory_label_is_a_spec_error() -> None:
    with pytest.raises(SpecError) as raised:
        choose(llama_70b().gpu(product="NVIDIA-B200"), [gpu_node("b200-0", product="NVIDIA-B200")])

    assert raised.value.field == "spec.gpu.product"
    assert "NVIDIA-B200" in raised.value.message


def test_products_of_unknown_memory_are_skipped_when_none_is_named() -> None:
    nodes = [gpu_node("rtx-0", product="NVIDIA-RTX-4090"), gpu_node("h100-0")]

    choice = choose(llama_70b(), nodes)

    assert choice.placement is not None and choice.placement.gpu_product == H100
    assert "skipped NVIDIA-RTX-4090: memory unknown" in choice.reason


def test_only_products_of_unknown_memory_leave_no_placement_and_say_why() -> None:
    choice = choose(llama_70b(), [gpu_node("rtx-0", product="NVIDIA-RTX-4090")])

    assert choice.placement is None
    assert "memory unknown (no nvidia.com/gpu.memory label)" in choice.reason


# --- size_for_product, as `llamaops plan` uses it without nodes ---------------------------


@pytest.mark.parametrize(
    ("product", "gpus_per_node", "memory_mib", "expected"),
    [
        pytest.param("H100", 8, None, (H100, 81559, 4, 1), id="an alias, sized from the catalog"),
        pytest.param(H100, 8, 40960, (H100, 40960, 8, 1), id="a memory given wins"),
        pytest.param("A100-40GB", 8, None, (A100_40GB, 40960, 8, 1), id="A100 40GB needs TP 8"),
        pytest.param("H100", 2, None, (H100, 81559, 2, 2), id="two-GPU nodes: a pipeline"),
        pytest.param(
            "NVIDIA-B200", 8, 183359, ("NVIDIA-B200", 183359, 1, 1), id="unknown, memory given"
        ),
    ],
)
def test_size_for_product_lays_the_model_out_on_that_product(
    product: str, gpus_per_node: int, memory_mib: int | None, expected: tuple[str, int, int, int]
) -> None:
    spec = spec_of(llama_70b())

    placement = size_for_product(
        resolve_model(spec.model), spec.gpu, product, gpus_per_node, memory_mib
    )

    assert placement.fits
    assert (
        placement.gpu_product,
        placement.gpu_memory_mib,
        placement.tensor_parallel_size,
        placement.pipeline_parallel_size,
    ) == expected


def test_size_for_an_unknown_product_without_memory_names_the_field() -> None:
    spec = spec_of(llama_70b())

    with pytest.raises(SpecError, match=r"^spec\.gpu\.product: unknown GPU product 'B200'"):
        size_for_product(resolve_model(spec.model), GpuSpec(), "B200", 8)


# --- the model side: resolve_model's answers and refusals -------------------------------


@pytest.mark.parametrize(
    ("deployment", "field"),
    [
        pytest.param(
            a_deployment().model("acme/mystery-7b"),
            "spec.model.name",
            id="a model outside the catalog without its architecture",
        ),
        pytest.param(
            a_deployment().model("llama3.1-405b-instruct-fp8").dtype("bfloat16"),
            "spec.model.dtype",
            id="an FP8 checkpoint asked for in bfloat16",
        ),
        pytest.param(
            a_deployment().model("llama3-8b-instruct").max_model_len(16384),
            "spec.model.maxModelLen",
            id="a context longer than the model's",
        ),
    ],
)
def test_a_model_that_cannot_be_resolved_is_a_spec_error_naming_the_field(
    deployment: DeploymentBuilder, field: str
) -> None:
    with pytest.raises(SpecError) as raised:
        choose(deployment, nodes_of(H100, 1))

    assert raised.value.field == field


def test_a_catalog_model_defaults_to_its_own_precision_and_context() -> None:
    model = resolve_model(spec_of(a_deployment().model("meta-llama/Llama-3.1-70B-Instruct")).model)

    assert (model.label, model.dtype, model.max_model_len) == ("70B", "bfloat16", 131072)
