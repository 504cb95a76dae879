"""Where replicas go: the GPU choice, and whether a replica can run at all.

A layout can be impossible on this cluster (`NoFittingGPU`: nothing fits, the product is
absent, or a replica needs more nodes than the cluster has) or possible only across nodes
(`MultiNodeUnsupported`: one Pod per replica needs one node). Either way no replica is
created; the layout still goes to status, so the user sees what it would take.

Without `spec.gpu.product`, `choose_gpu` ranks products by the room they have now, and this
deployment's own pods use that room up: left alone, the choice could move to another
product as replicas are created, and every running replica would look outdated. So the
product of the layout in status is kept while replicas run on it with the current pod
template, its layout still fits one node, and it has room for the replicas to be placed.
(The generation cannot tell: a scale through the scale subresource bumps it too.)
"""

from dataclasses import dataclass

from llamaops.api.placement import Placement
from llamaops.gpu_choice import GpuChoice, choose_gpu
from llamaops.inventory import Inventory
from llamaops.model_resolution import ResolvedModel
from llamaops.reconcile import reasons
from llamaops.reconcile.observed import Observed
from llamaops.reconcile.rendering import deployment_template_hash

CHANGE_HINT = "Use GPUs with more memory, spec.model.dtype fp8 or a shorter spec.model.maxModelLen"


@dataclass(frozen=True)
class Scheduling:
    """The chosen layout and, when no replica can be created with it, why (`blocker`)."""

    choice: GpuChoice
    blocker: str | None
    message: str

    @property
    def placement(self) -> Placement | None:
        return self.choice.placement

    @property
    def replicas_available(self) -> int:
        return self.choice.replicas_available or 0


def schedule(observed: Observed, model: ResolvedModel, to_place: int) -> Scheduling:
    """The layout for this deployment; `to_place` is how many replicas need a place now."""
    fresh = choose_gpu(model, observed.deployment.spec.gpu, observed.inventory)
    choice = _sticky(observed, model, fresh, to_place)
    placement = choice.placement
    if placement is None or not placement.fits:
        return Scheduling(choice, reasons.NO_FITTING_GPU, _no_fit(choice))
    nodes = _usable_nodes(observed.inventory, placement.gpu_product)
    if nodes == 0:
        return Scheduling(choice, reasons.NO_FITTING_GPU, choice.reason)
    if placement.nodes_per_replica > nodes:
        return Scheduling(choice, reasons.NO_FITTING_GPU, _too_few_nodes(model, choice, nodes))
    if placement.nodes_per_replica > 1:
        return Scheduling(choice, reasons.MULTI_NODE_UNSUPPORTED, _multi_node(model, choice))
    return Scheduling(choice, None, f"{layout(placement)}: {choice.reason}")


def layout(placement: Placement) -> str:
    """Such as "TP 4 on NVIDIA-H100-80GB-HBM3", or "TP 8 × PP 2 on ..." across nodes."""
    stages = placement.pipeline_parallel_size
    parallel = f"TP {placement.tensor_parallel_size}" + (f" × PP {stages}" if stages > 1 else "")
    return f"{parallel} on {placement.gpu_product}"


def insufficient_gpu_message(
    scheduling: Scheduling, to_place: int, created: int, waiting: int
) -> str:
    """What InsufficientGPU says: the GPUs wanted and free, with what to change. Free GPUs
    split over nodes can hold fewer replicas than their count suggests: said too."""
    placement = scheduling.placement
    assert placement is not None
    per_replica, product = placement.gpus_per_replica, placement.gpu_product
    free, available = scheduling.choice.free_gpus or 0, scheduling.replicas_available
    noun = "replica needs" if to_place == 1 else "replicas need"
    message = f"{to_place} {noun} {to_place * per_replica} GPUs of {product}; {free} are free"
    if available * per_replica < free:
        message += f" but hold {available} ({per_replica} on one node per replica)"
    message += f": {created} created, {waiting} waiting for GPUs. "
    return message + f"Add nodes with {product} or lower spec.replicas"


def _sticky(observed: Observed, model: ResolvedModel, fresh: GpuChoice, to_place: int) -> GpuChoice:
    """The product of the layout in status, when it may and should be kept (module doc)."""
    spec, status = observed.deployment.spec, observed.deployment.status
    previous = status.placement if status else None
    if spec.gpu.product is not None or previous is None or fresh.placement is None:
        return fresh
    if previous.gpu_product == fresh.placement.gpu_product:
        return fresh
    gpu = spec.gpu.model_copy(update={"product": previous.gpu_product})
    kept = choose_gpu(model, gpu, observed.inventory)
    placement = kept.placement
    if placement is None or not placement.fits or placement.nodes_per_replica > 1:
        return fresh
    template = deployment_template_hash(observed.deployment, placement)
    running = any(pod.template_hash == template and not pod.terminating for pod in observed.pods)
    if running and (kept.replicas_available or 0) >= to_place:
        return kept
    return fresh


def _usable_nodes(inventory: Inventory, product: str) -> int:
    pools = inventory.pools()
    matching = [pool for name, pool in pools.items() if name.lower() == product.lower()]
    return len(matching[0].free_by_node) if matching else 0


def _no_fit(choice: GpuChoice) -> str:
    if choice.placement is None:
        return choice.reason
    return f"{choice.reason}. {CHANGE_HINT}"


def _too_few_nodes(model: ResolvedModel, choice: GpuChoice, nodes: int) -> str:
    placement = choice.placement
    assert placement is not None
    per_node = "GPU" if placement.gpus_per_node == 1 else "GPUs"
    return (
        f"{model.label} in {model.dtype} needs {layout(placement)} over "
        f"{placement.nodes_per_replica} nodes of {placement.gpus_per_node} {per_node}; "
        f"{nodes} such nodes are usable, and multi-node replicas are not supported yet. "
        f"{CHANGE_HINT}. Sizing: {choice.reason}"
    )


def _multi_node(model: ResolvedModel, choice: GpuChoice) -> str:
    placement = choice.placement
    assert placement is not None
    parallel = f"TP {placement.tensor_parallel_size} × PP {placement.pipeline_parallel_size}"
    return (
        f"{model.label} in {model.dtype} needs {placement.nodes_per_replica} nodes "
        f"({parallel}); multi-node replicas are not supported yet. "
        f"{CHANGE_HINT}. Sizing: {choice.reason}"
    )
