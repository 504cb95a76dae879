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
    return inventory_of(nodes, requested_gpus(pods), tolerations, node_selector)


def inventory_of(
    nodes: Sequence[KubeObject],
    requested: Mapping[str, int],
    tolerations: Sequence[Toleration] = (GPU_TOLERATION,),
    node_selector: Mapping[str, str] | None = None,
) -> Inventory:
    """The inventory from the nodes and the GPUs their pods hold, per node name."""
    return Inventory(
        tuple(
            _node_gpus(node, requested, tolerations, node_selector or {})
            for node in sorted(nodes, key=_node_name)
        )
    )


def requested_gpus(pods: Sequence[KubeObject]) -> dict[str, int]:
    """GPUs held per node by the pods bound to it that have not finished."""
    requested: dict[str, int] = {}
    for pod in pods:
        node_name = _map(pod.get("spec")).get("nodeName")
        if node_name and _map(pod.get("status")).get("phase") not in TERMINAL_PHASES:
            requested[node_name] = requested.get(node_name, 0) + pod_gpu_request(pod)
    return requested


def replica_tolerations(user: Sequence[Toleration]) -> tuple[Toleration, ...]:
    """What a replica pod tolerates: the GPU taint, plus the user's."""
    return (GPU_TOLERATION, *user)


def pod_gpu_request(pod: KubeObject) -> int:
    """GPUs a pod holds: the larger of its containers' sum and its largest init container."""
    spec = _map(pod.get("spec"))
    containers = sum(_container_gpus(c) for c in _list(spec.get("containers")))
    init = max((_container_gpus(c) for c in _list(spec.get("initContainers"))), default=0)
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
    resources = _map(_map(container).get("resources"))
    quantity = _map(resources.get("requests")).get(GPU_RESOURCE)
    if quantity is None:  # requests default to limits for extended resources
        quantity = _map(resources.get("limits")).get(GPU_RESOURCE, 0)
    return gpu_count(quantity, f"container {_map(container).get('name', '?')}")


def _node_gpus(
    node: KubeObject,
    requested: Mapping[str, int],
    tolerations: Sequence[Toleration],
    node_selector: Mapping[str, str],
) -> NodeGpus:
    name = _node_name(node)
    labels = _map(_map(node.get("metadata")).get("labels"))
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
    if _map(node.get("spec")).get("unschedulable"):
        return "cordoned"
    for taint in _list(_map(node.get("spec")).get("taints")):
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
    allocatable = _map(_map(node.get("status")).get("allocatable")).get(GPU_RESOURCE, 0)
    return gpu_count(allocatable, f"node {_node_name(node)} allocatable")


def _is_ready(node: KubeObject) -> bool:
    conditions = _list(_map(node.get("status")).get("conditions"))
    return any(
        _map(c).get("type") == "Ready" and _map(c).get("status") == "True" for c in conditions
    )


class InventoryError(ValueError):
    """A Node or Pod that is not shaped like one: says which object and field."""


def gpu_count(quantity: Any, where: str) -> int:
    """A whole number of GPUs from a Kubernetes quantity ("8", 8)."""
    text = str(quantity).strip()
    if not text.isdigit():
        raise InventoryError(f"{where}: {GPU_RESOURCE} {quantity!r} is not a whole number of GPUs")
    return int(text)


def _node_name(node: KubeObject) -> str:
    name = _map(node.get("metadata")).get("name")
    if not name:
        raise InventoryError("a Node without metadata.name")
    return str(name)


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _pool(product: str, nodes: list[NodeGpus]) -> ProductPool:
    memories = [n.memory_mib for n in nodes if n.memory_mib]
    return ProductPool(
        product=product,
        memory_mib=min(memories) if memories else None,
        gpus_per_node=max(n.allocatable for n in nodes),
        free_by_node=tuple(n.free for n in nodes),
    )
