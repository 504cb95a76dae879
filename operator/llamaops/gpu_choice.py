"""Which GPU product a replica runs on, and how many replicas the free GPUs hold.

Policy when `spec.gpu.product` is omitted: size the model for every product the usable
nodes have; prefer a layout that fits one node, then the fewest GPUs per replica, then
the product with room for the most replicas now, then the product name (for a stable
answer). With a product named, only its nodes are considered.
"""

from dataclasses import dataclass

from llamaops.api.placement import Placement
from llamaops.api.spec import GpuSpec
from llamaops.catalog.gpus import find_product, known_names, product_label
from llamaops.errors import SpecError
from llamaops.inventory import MEMORY_LABEL, Inventory, ProductPool
from llamaops.model_resolution import ResolvedModel
from llamaops.sizing import SizingRequest, size_replica

ASSUMED_GPUS_PER_NODE = 8


@dataclass(frozen=True)
class GpuChoice:
    """The chosen layout, and what the cluster can hold of it (None: planned without nodes)."""

    placement: Placement | None
    reason: str
    replicas_available: int | None = None
    free_gpus: int | None = None
    considered: tuple[Placement, ...] = ()


def size_for_product(
    model: ResolvedModel,
    gpu: GpuSpec,
    product: str,
    gpus_per_node: int,
    memory_mib: int | None = None,
) -> Placement:
    """The layout on nodes of `gpus_per_node` GPUs of `product` (memory: the catalog's if unset)."""
    label = product_label(product)
    memory = memory_mib or _catalog_memory(product)
    return size_replica(
        SizingRequest(
            architecture=model.architecture,
            model_label=model.label,
            dtype=model.dtype,
            max_model_len=model.max_model_len,
            gpu_product=label,
            gpu_memory_mib=memory,
            gpus_per_node=gpus_per_node,
            memory_utilization=gpu.memory_utilization,
            min_kv_sequences=gpu.min_kv_sequences,
            tensor_parallel_size=gpu.tensor_parallel_size,
            pipeline_parallel_size=gpu.pipeline_parallel_size,
        )
    )


def choose_gpu(model: ResolvedModel, gpu: GpuSpec, inventory: Inventory) -> GpuChoice:
    """The best layout among the usable nodes' products, by the policy above."""
    pools = inventory.pools()
    if gpu.product is not None:
        wanted = product_label(gpu.product)
        pools = {p: pool for p, pool in pools.items() if p.lower() == wanted.lower()}
        if not pools:
            return _no_nodes_of(model, gpu, wanted, inventory)
    # Without a product named, products of unknown memory are skipped, not fatal.
    unsized = [] if gpu.product else [p for p, pool in pools.items() if _memory_of(pool) is None]
    skipped = f"; skipped {', '.join(unsized)}: memory unknown (no {MEMORY_LABEL} label)"
    pools = {p: pool for p, pool in pools.items() if p not in unsized}
    if not pools:
        reason = "no usable GPU node: " + _excluded_summary(inventory)
        return GpuChoice(None, reason + (skipped if unsized else ""))
    options = [(_size_on_pool(model, gpu, pool), pool) for pool in pools.values()]
    placement, pool = min(options, key=lambda option: _rank(*option))
    available = _replicas_that_fit(pool, placement)
    return GpuChoice(
        placement=placement,
        reason=placement.reason + (skipped if unsized else ""),
        replicas_available=available if placement.fits else 0,
        free_gpus=pool.free,
        considered=tuple(p for p, _ in options),
    )


def _size_on_pool(model: ResolvedModel, gpu: GpuSpec, pool: ProductPool) -> Placement:
    return size_for_product(model, gpu, pool.product, pool.gpus_per_node, pool.memory_mib)


def _rank(placement: Placement, pool: ProductPool) -> tuple[bool, bool, int, int, str]:
    available = _replicas_that_fit(pool, placement)
    return (
        not placement.fits,
        placement.nodes_per_replica > 1,
        placement.gpus_per_replica,
        -available,
        pool.product,
    )


def _replicas_that_fit(pool: ProductPool, placement: Placement) -> int:
    return pool.replicas_that_fit(
        placement.tensor_parallel_size,
        placement.pipeline_parallel_size,
        placement.nodes_per_replica,
    )


def _no_nodes_of(
    model: ResolvedModel, gpu: GpuSpec, wanted: str, inventory: Inventory
) -> GpuChoice:
    present = ", ".join(f"{p} ({pool.free} free)" for p, pool in inventory.pools().items())
    reason = f"no usable node has {wanted}; usable nodes have " + (present or "no GPUs")
    excluded = [n for n in inventory.excluded() if (n.product or "").lower() == wanted.lower()]
    if excluded:
        reason += "; excluded: " + "; ".join(f"{n.name} {n.excluded}" for n in excluded)
    placement = None
    if find_product(wanted) is not None:
        placement = size_for_product(model, gpu, wanted, ASSUMED_GPUS_PER_NODE)
        reason += f" (layout shown for nodes of {ASSUMED_GPUS_PER_NODE} GPUs)"
    return GpuChoice(placement, reason, replicas_available=0, free_gpus=0)


def _excluded_summary(inventory: Inventory) -> str:
    excluded = [f"{n.name} {n.excluded}" for n in inventory.excluded()]
    return "; ".join(excluded) if excluded else "the cluster has no nodes"


def _memory_of(pool: ProductPool) -> int | None:
    if pool.memory_mib:
        return pool.memory_mib
    known = find_product(pool.product)
    return known.memory_mib if known else None


def _catalog_memory(product: str) -> int:
    known = find_product(product)
    if known is None:
        raise SpecError(
            "spec.gpu.product",
            f"unknown GPU product {product!r} and no node reports its memory; "
            f"known: {known_names()}",
        )
    return known.memory_mib
