"""Free GPUs per node and product, from Node and Pod objects: a pure function.

A node counts when it is Ready, not cordoned, matches the replica's node selector and
has no NoSchedule/NoExecute taint the replica does not tolerate. Its free GPUs are the
allocatable `nvidia.com/gpu` minus what its non-terminal pods request (init containers
included, as the scheduler counts them). Objects are the API's JSON (camelCase dicts).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from llamaops.api.spec import Toleration

GPU_RESOURCE = "nvidia.com/gpu"
PRODUCT_LABEL = "nvidia.com/gpu.product"
MEMORY_LABEL = "nvidia.com/gpu.memory"
GPU_TOLERATION = Toleration(key=GPU_RESOURCE, operator="Exists", effect="NoSchedule")
BLOCKING_EFFECTS = ("NoSchedule", "NoExecute")
TERMINAL_PHASES = ("Succeeded", "Failed")

KubeObject = Mapping[str, Any]


@dataclass(frozen=True)
class NodeGpus:
    """One node's GPUs, and why replicas cannot use it (None when they can)."""

    name: str
    product: str | None
    memory_mib: int | None
    allocatable: int
    requested: int
    excluded: str | None

    @property
    def free(self) -> int:
        return max(0, self.allocatable - self.requested)


@dataclass(frozen=True)
class ProductPool:
    """The usable nodes of one GPU product."""

    product: str
    memory_mib: int | None
    gpus_per_node: int
    free_by_node: tuple[int, ...]

    @property
    def free(self) -> int:
        return sum(self.free_by_node)

    def replicas_that_fit(self, tensor_parallel: int, pipeline_parallel: int, nodes: int) -> int:
        """Replicas the free GPUs hold now. A one-node replica needs all its GPUs on one node;
        a multi-node one needs a tensor-parallel group's GPUs on one node per stage."""
        if nodes <= 1:
            gpus = tensor_parallel * pipeline_parallel
            return sum(free // gpus for free in self.free_by_node)
        stage_slots = sum(free // tensor_parallel for free in self.free_by_node)
        return stage_slots // pipeline_parallel


@dataclass(frozen=True)
class Inventory:
    """Every node's GPUs, grouped into pools of usable nodes by product."""

    nodes: tuple[NodeGpus, ...]

    def pools(self) -> dict[str, ProductPool]:
        usable: dict[str, list[NodeGpus]] = {}
        for node in self.nodes:
            if node.excluded is None and node.product:
                usable.setdefault(node.product, []).append(node)
        return {product: _pool(product, nodes) for product, nodes in sorted(usable.items())}

    def excluded(self) -> list[NodeGpus]:
        return [node for node in self.nodes if node.excluded is not None]


def take_inventory(
    nodes: Sequence[KubeObject],
    pods: Sequence[KubeObject],
    tolerations: Sequence[Toleration] = (GPU_TOLERATION,),
    node_selector: Mapping[str, str] | None = None,
) -> Inventory:
    requested: dict[str, int] = {}
    for pod in pods:
        node_name = pod.get("spec", {}).get("nodeName")
        if node_name and pod.get("status", {}).get("phase") not in TERMINAL_PHASES:
            requested[node_name] = requested.get(node_name, 0) + pod_gpu_request(pod)
    return Inventory(
        tuple(
            _node_gpus(node, requested, tolerations, node_selector or {})
            for node in sorted(nodes, key=lambda n: str(n["metadata"]["name"]))
        )
    )


def replica_tolerations(user: Sequence[Toleration]) -> tuple[Toleration, ...]:
    """What a replica pod tolerates: the GPU taint, plus the user's."""
    return (GPU_TOLERATION, *user)


def pod_gpu_request(pod: KubeObject) -> int:
    """GPUs a pod holds: the larger of its containers' sum and its largest init container."""
    spec = pod.get("spec", {})
    containers = sum(_container_gpus(c) for c in spec.get("containers", []))
    init = max((_container_gpus(c) for c in spec.get("initContainers", [])), default=0)
    return max(containers, init)


def tolerates(tolerations: Sequence[Toleration], taint: KubeObject) -> bool:
    return any(_matches(toleration, taint) for toleration in tolerations)


def _matches(toleration: Toleration, taint: KubeObject) -> bool:
    if toleration.effect and toleration.effect != taint.get("effect"):
        return False
    if not toleration.key:
        return toleration.operator == "Exists"
    if toleration.key != taint.get("key"):
        return False
    return toleration.operator == "Exists" or (toleration.value or "") == taint.get("value", "")


def _container_gpus(container: KubeObject) -> int:
    resources = container.get("resources", {})
    quantity = resources.get("requests", {}).get(GPU_RESOURCE)
    if quantity is None:  # requests default to limits for extended resources
        quantity = resources.get("limits", {}).get(GPU_RESOURCE, 0)
    return int(quantity)


def _node_gpus(
    node: KubeObject,
    requested: Mapping[str, int],
    tolerations: Sequence[Toleration],
    node_selector: Mapping[str, str],
) -> NodeGpus:
    name = str(node["metadata"]["name"])
    labels = node["metadata"].get("labels", {})
    memory = labels.get(MEMORY_LABEL)
    return NodeGpus(
        name=name,
        product=labels.get(PRODUCT_LABEL),
        memory_mib=int(memory) if memory and str(memory).isdigit() else None,
        allocatable=_allocatable_gpus(node),
        requested=requested.get(name, 0),
        excluded=_exclusion(node, labels, tolerations, node_selector),
    )


def _exclusion(
    node: KubeObject,
    labels: Mapping[str, str],
    tolerations: Sequence[Toleration],
    node_selector: Mapping[str, str],
) -> str | None:
    if not _is_ready(node):
        return "NotReady"
    if node.get("spec", {}).get("unschedulable"):
        return "cordoned"
    for taint in node.get("spec", {}).get("taints", []):
        if taint.get("effect") in BLOCKING_EFFECTS and not tolerates(tolerations, taint):
            shown = f"{taint.get('key')}={taint.get('value', '')}:{taint.get('effect')}"
            return f"taint {shown} not tolerated"
    mismatched = [k for k, v in node_selector.items() if labels.get(k) != v]
    if mismatched:
        return f"does not match nodeSelector {', '.join(mismatched)}"
    if not labels.get(PRODUCT_LABEL):
        return f"no {PRODUCT_LABEL} label"
    if _allocatable_gpus(node) == 0:
        return f"no allocatable {GPU_RESOURCE}"
    return None


def _allocatable_gpus(node: KubeObject) -> int:
    return int(node.get("status", {}).get("allocatable", {}).get(GPU_RESOURCE, 0))


def _is_ready(node: KubeObject) -> bool:
    conditions = node.get("status", {}).get("conditions", [])
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _pool(product: str, nodes: list[NodeGpus]) -> ProductPool:
    memories = [n.memory_mib for n in nodes if n.memory_mib]
    return ProductPool(
        product=product,
        memory_mib=min(memories) if memories else None,
        gpus_per_node=max(n.allocatable for n in nodes),
        free_by_node=tuple(n.free for n in nodes),
    )
