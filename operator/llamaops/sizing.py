"""How many GPUs one replica needs, and why: a pure function of the model and the GPU.

The rule, after vLLM's own memory accounting: each GPU may use `utilization x memory`.
That must hold its share of the weights, an overhead (activations, CUDA graphs, NCCL
buffers; estimated as 5% of the GPU's memory, at least 2 GiB, which tracks vLLM's
larger batch defaults on larger GPUs), and a KV cache big enough for `min_kv_sequences`
sequences of `max_model_len` tokens. Tensor parallelism must divide the attention heads,
and the KV heads must split evenly (or be replicated) over it.

We pick the smallest tensor-parallel size that fits one node. If none does, the replica
spans nodes: one pipeline stage per node at the largest tensor-parallel size a node
holds, with the fewest stages that fit. A user-given size is checked, never changed.
"""

import dataclasses
import math
from dataclasses import dataclass

from llamaops.api.model_spec import Architecture
from llamaops.api.placement import GpuMemory, Placement

GIB = 1024**3
MIB = 1024**2
MIN_OVERHEAD_GIB = 2.0
OVERHEAD_SHARE = 0.05
MAX_PIPELINE_STAGES = 16
WEIGHT_BYTES = {"bfloat16": 2, "float16": 2, "fp8": 1}
KV_BYTES = {"bfloat16": 2, "float16": 2, "fp8": 2}  # vLLM keeps the KV cache in 16 bits by default


@dataclass(frozen=True)
class SizingRequest:
    """Everything sizing depends on. `dtype` is resolved (never "auto")."""

    architecture: Architecture
    model_label: str
    dtype: str
    max_model_len: int
    gpu_product: str
    gpu_memory_mib: int
    gpus_per_node: int
    memory_utilization: float = 0.90
    min_kv_sequences: int = 2
    tensor_parallel_size: int | None = None
    pipeline_parallel_size: int | None = None


@dataclass(frozen=True)
class Candidate:
    """One layout tried: its memory per GPU, KV capacity, and what rules it out (if anything)."""

    tp: int
    pp: int
    memory: GpuMemory
    kv_tokens: int
    problem: str | None
    weights_do_not_fit: bool = False

    @property
    def name(self) -> str:
        return f"TP {self.tp}" if self.pp == 1 else f"TP {self.tp} × PP {self.pp}"


def size_replica(req: SizingRequest) -> Placement:
    """The layout of one replica, with the reasoning a person needs to trust it."""
    user_fixed = req.tensor_parallel_size is not None or req.pipeline_parallel_size is not None
    tried = [evaluate(req, tp, pp) for tp, pp in _layouts(req)]
    chosen = next((c for c in tried if c.problem is None), None)
    if chosen is not None:
        return _placement(req, chosen, _explain_choice(req, tried, chosen))
    if user_fixed:
        return _refuse_fixed(req, tried)
    return _placement(req, tried[-1], _explain_no_fit(req, tried))


def _refuse_fixed(req: SizingRequest, tried: list[Candidate]) -> Placement:
    """Why the user's layout cannot work, and what automatic sizing would pick instead."""
    worst = tried[-1]  # with only PP given, the largest TP tried: the closest to fitting
    if req.tensor_parallel_size is not None:
        reason = f"{worst.name} is impossible: it {worst.problem}"
    else:
        reason = f"PP {worst.pp} is impossible: even {worst.name} {worst.problem}"
    auto = size_replica(
        dataclasses.replace(req, tensor_parallel_size=None, pipeline_parallel_size=None)
    )
    if auto.fits:
        nodes = "1 node" if auto.nodes_per_replica == 1 else f"{auto.nodes_per_replica} nodes"
        stages = f" × PP {auto.pipeline_parallel_size}" if auto.pipeline_parallel_size > 1 else ""
        reason += (
            f"; automatic sizing would choose TP {auto.tensor_parallel_size}{stages} on {nodes}"
        )
    return _placement(req, worst, reason)


def valid_tensor_parallel_sizes(arch: Architecture, gpus_per_node: int) -> list[int]:
    """Sizes vLLM accepts for this model that one node can hold, smallest first."""
    return [tp for tp in range(1, gpus_per_node + 1) if _split_problem(arch, tp) is None]


def evaluate(req: SizingRequest, tp: int, pp: int) -> Candidate:
    """Memory and KV capacity of one layout, and the first thing that rules it out."""
    arch = req.architecture
    usable = req.memory_utilization * req.gpu_memory_mib * MIB
    overhead = max(MIN_OVERHEAD_GIB * GIB, OVERHEAD_SHARE * req.gpu_memory_mib * MIB)
    weights = weight_bytes(arch, req.dtype) / (tp * pp)
    kv_bytes = usable - weights - overhead
    kv_tokens = max(0, math.floor(kv_bytes / _kv_bytes_per_token_per_gpu(req, tp, pp)))
    memory = GpuMemory(
        usable_gib=round(usable / GIB, 2),
        weights_gib=round(weights / GIB, 2),
        overhead_gib=round(overhead / GIB, 2),
        kv_cache_gib=round(kv_bytes / GIB, 2),
    )
    problem = _split_problem(arch, tp) or _node_problem(req, tp, pp)
    weights_do_not_fit = problem is None and kv_bytes <= 0
    if weights_do_not_fit:
        problem = (
            f"needs {memory.weights_gib:.1f} GiB of weights + {memory.overhead_gib:.1f} GiB "
            f"overhead per GPU, more than the {memory.usable_gib:.1f} GiB usable"
        )
    needed = req.min_kv_sequences * req.max_model_len
    if problem is None and kv_tokens < needed:
        problem = (
            f"leaves too little KV cache ({human_tokens(kv_tokens)} tokens; "
            f"{req.min_kv_sequences} × {req.max_model_len} need {human_tokens(needed)})"
        )
    return Candidate(tp, pp, memory, kv_tokens, problem, weights_do_not_fit)


def weight_bytes(arch: Architecture, dtype: str) -> int:
    return arch.parameters * WEIGHT_BYTES[dtype]


def human_tokens(tokens: int) -> str:
    """451234 -> "451k", 1333000 -> "1.33M"."""
    if tokens >= 999_500:
        return f"{tokens / 1_000_000:.3g}M"
    if tokens >= 9_950:
        return f"{tokens / 1000:.0f}k"
    if tokens >= 1000:
        return f"{tokens / 1000:.1f}k"
    return str(tokens)


def _layouts(req: SizingRequest) -> list[tuple[int, int]]:
    arch, gpn = req.architecture, req.gpus_per_node
    tp, pp = req.tensor_parallel_size, req.pipeline_parallel_size
    if tp is not None:
        return [(tp, pp or 1)]
    sizes = valid_tensor_parallel_sizes(arch, gpn) or [1]
    if pp is not None:
        return [(size, pp) for size in sizes]
    stages = range(2, min(MAX_PIPELINE_STAGES, arch.num_hidden_layers) + 1)
    return [(size, 1) for size in sizes] + [(sizes[-1], stage) for stage in stages]


def _split_problem(arch: Architecture, tp: int) -> str | None:
    heads, kv_heads = arch.num_attention_heads, arch.num_key_value_heads
    if heads % tp:
        return f"does not divide the {heads} attention heads"
    if kv_heads % tp and tp % kv_heads:
        return f"can neither split nor replicate the {kv_heads} KV heads"
    return None


def _node_problem(req: SizingRequest, tp: int, pp: int) -> str | None:
    if tp > req.gpus_per_node:
        return f"needs {tp} GPUs in one node, which has {req.gpus_per_node}"
    if pp > req.architecture.num_hidden_layers:
        return f"has more stages than the {req.architecture.num_hidden_layers} layers"
    return None


def _kv_bytes_per_token_per_gpu(req: SizingRequest, tp: int, pp: int) -> int:
    """K and V, for this GPU's layers and KV heads (replicated when TP exceeds the KV heads)."""
    arch = req.architecture
    layers = math.ceil(arch.num_hidden_layers / pp)
    kv_heads = math.ceil(arch.num_key_value_heads / tp)
    return 2 * layers * kv_heads * arch.head_size * KV_BYTES[req.dtype]


def _nodes(req: SizingRequest, candidate: Candidate) -> int:
    """Nodes a replica spans: a tensor-parallel group never crosses a node boundary."""
    if candidate.tp * candidate.pp <= req.gpus_per_node:
        return 1
    stages_per_node = req.gpus_per_node // candidate.tp
    if stages_per_node == 0:  # refused anyway; say how many GPUs it would take
        return math.ceil(candidate.tp * candidate.pp / req.gpus_per_node)
    return math.ceil(candidate.pp / stages_per_node)


def _weights_summary(req: SizingRequest) -> str:
    gb = weight_bytes(req.architecture, req.dtype) / 1e9
    return f"{req.model_label} in {req.dtype} is {gb:.0f} GB of weights"


def _explain_choice(req: SizingRequest, tried: list[Candidate], chosen: Candidate) -> str:
    seqs = chosen.kv_tokens // req.max_model_len
    fit = (
        f"{chosen.name} fits with {human_tokens(chosen.kv_tokens)} KV tokens "
        f"({seqs} sequences of {req.max_model_len})"
    )
    rejected = [c for c in tried[: tried.index(chosen)] if c.pp == 1]
    parts = [_weights_summary(req), *_rejections(rejected)]
    if chosen.pp > 1 and req.pipeline_parallel_size is None:
        nodes = _nodes(req, chosen)
        if nodes == 1:
            fit = f"no tensor-parallel size alone holds it; with pipeline stages {fit}"
        else:
            where = f"{req.gpus_per_node} × {req.gpu_product}"
            fit = f"no node of {where} holds it; over {nodes} nodes {fit}"
    return "; ".join([*parts, fit])


def _explain_no_fit(req: SizingRequest, tried: list[Candidate]) -> str:
    single = [c for c in tried if c.pp == 1]
    last = tried[-1]
    parts = [_weights_summary(req), *_rejections(single)]
    if last.pp > 1:
        parts.append(f"even {last.name} over {_nodes(req, last)} nodes {last.problem}")
    return "; ".join(parts) + f"; it does not fit {req.gpu_product}"


def _rejections(rejected: list[Candidate]) -> list[str]:
    """Why each candidate failed; those too small for the weights said once, by the largest."""
    too_small = [c for c in rejected if c.weights_do_not_fit]
    lines = [f"{c.name} {c.problem}" for c in rejected if c not in too_small]
    if len(too_small) > 1:
        names = ", ".join(str(c.tp) for c in too_small)
        largest = too_small[-1]
        lines.insert(0, f"TP {names} cannot hold the weights ({largest.name} {largest.problem})")
    elif too_small:
        lines.insert(0, f"{too_small[0].name} {too_small[0].problem}")
    return lines


def _placement(req: SizingRequest, candidate: Candidate, reason: str) -> Placement:
    return Placement(
        fits=candidate.problem is None,
        tensor_parallel_size=candidate.tp,
        pipeline_parallel_size=candidate.pp,
        gpus_per_replica=candidate.tp * candidate.pp,
        nodes_per_replica=_nodes(req, candidate),
        gpu_product=req.gpu_product,
        gpu_memory_mib=req.gpu_memory_mib,
        gpus_per_node=req.gpus_per_node,
        max_model_len=req.max_model_len,
        memory_per_gpu=candidate.memory,
        kv_cache_tokens=candidate.kv_tokens,
        full_length_sequences=candidate.kv_tokens // req.max_model_len,
        reason=reason,
    )
