"""What `llamaops plan` prints: a short table for people, one JSON object for programs."""

from typing import Any

from llamaops.api.placement import Placement
from llamaops.api.resource import LlamaDeployment
from llamaops.gpu_choice import GpuChoice
from llamaops.sizing import human_tokens


def plan_json(deployment: LlamaDeployment, choice: GpuChoice) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": deployment.metadata.name,
        "model": deployment.spec.model.name,
        "fits": False,
    }
    if choice.placement is not None:
        out.update(choice.placement.to_wire())
    else:  # no layout at all: the keys are still there, empty
        out.update({f.alias or name: None for name, f in Placement.model_fields.items()})
        out["fits"] = False
    out["reason"] = choice.reason
    if choice.replicas_available is not None:
        out["replicasAvailable"] = choice.replicas_available
        out["freeGpus"] = choice.free_gpus
        out["replicasRequested"] = deployment.spec.replicas
    return out


def plan_table(deployment: LlamaDeployment, choice: GpuChoice) -> str:
    spec = deployment.spec
    header = f"{deployment.metadata.name}: {spec.model.name}"
    p = choice.placement
    if p is None:
        return f"{header}\n  fits      no\n  why       {choice.reason}"
    rows = [
        ("GPU", f"{p.gpu_product} ({p.gpu_memory_mib / 1024:.1f} GiB), {p.gpus_per_node} per node"),
        ("layout", _layout(p)),
        ("memory/GPU", _memory(p)),
        (
            "KV cache",
            f"{human_tokens(p.kv_cache_tokens)} tokens "
            f"({p.full_length_sequences} sequences of {p.max_model_len})",
        ),
        ("fits", "yes" if p.fits else "no"),
    ]
    if choice.replicas_available is not None:
        rows.append(
            (
                "cluster",
                f"{choice.free_gpus} free GPUs hold {choice.replicas_available} "
                f"replicas; {spec.replicas} requested",
            )
        )
    rows.append(("why", choice.reason))
    others = [o for o in choice.considered if o.gpu_product != p.gpu_product]
    rows += [
        ("also", f"{o.gpu_product}: {_layout(o)}, {'fits' if o.fits else 'does not fit'}")
        for o in others
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join([header] + [f"  {name.ljust(width)}  {value}" for name, value in rows])


def _layout(p: Placement) -> str:
    stages = f" × PP {p.pipeline_parallel_size}" if p.pipeline_parallel_size > 1 else ""
    nodes = "1 node" if p.nodes_per_replica == 1 else f"{p.nodes_per_replica} nodes"
    gpus = "1 GPU" if p.gpus_per_replica == 1 else f"{p.gpus_per_replica} GPUs"
    return f"TP {p.tensor_parallel_size}{stages} = {gpus} on {nodes} per replica"


def _memory(p: Placement) -> str:
    m = p.memory_per_gpu
    if m.kv_cache_gib < 0:
        return (
            f"{m.usable_gib:.1f} GiB usable < {m.weights_gib:.1f} weights + "
            f"{m.overhead_gib:.1f} overhead (short by {-m.kv_cache_gib:.1f})"
        )
    return (
        f"{m.usable_gib:.1f} GiB usable = {m.weights_gib:.1f} weights + "
        f"{m.overhead_gib:.1f} overhead + {m.kv_cache_gib:.1f} KV cache"
    )
