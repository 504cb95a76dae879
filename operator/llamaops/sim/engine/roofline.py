"""How long one engine step takes: a roofline of the model over one GPU's datasheet.

A step runs the model once: it makes one token for each of the B running requests, which
hold C tokens of context in the KV cache, and prefills P prompt tokens. Per GPU, with
tensor parallelism TP and pipeline parallelism PP (each stage holds 1/PP of the layers,
each GPU of a stage 1/TP of every layer), from llamaops.sizing's accounting:

    W = weight_bytes(architecture, dtype) / (TP · PP)    weight bytes; fp8 halves them
    K = 2 · ⌈layers / PP⌉ · ⌈KV heads / TP⌉ · head size · 2
                                                         KV bytes per token (K and V stay 16-bit)
    F = 2 · parameters / (TP · PP)                       FLOPs per token

vLLM splits the batch into PP micro-batches so that every stage has work; one of them
holds b = ⌈B / PP⌉ requests and c = C · b / B context tokens. One stage, on one GPU:

    memory  = (W + c · K) / (bandwidth · BANDWIDTH_EFFICIENCY)
    compute = F · (b + P) / (FLOPS · MFU)
    moved   = 2 (TP − 1) / TP · (b + P) · hidden · 2      bytes one all-reduce sends per GPU
    comm    = ⌈layers / PP⌉ · 2 · (ALLREDUCE_SECONDS + moved / link)
    stage   = max(memory, compute) + comm

and the step crosses every stage in turn:

    step = PP · stage + STEP_OVERHEAD_SECONDS

- Decode alone (P = 0, small B) is memory-bound: the step is the weights plus the KV
  cache read over the bandwidth, as vLLM's decode is. At TP 1 `comm` is zero.
- Prefill alone is compute-bound: PP · F · P / (FLOPS · MFU) = 2 · parameters · P /
  (TP · FLOPS · MFU), plus its all-reduces and the overhead. Pipeline stages split the
  weights, not the work: one prompt crosses them one after another, so PP divides memory
  per GPU but not a request's latency.
- A step that prefills and decodes costs the max of the two, not their sum: one forward
  pass streams the weights once while the tensor cores work on every token, so the slower
  resource bounds it (the roofline). vLLM schedules prefill and decode tokens into one
  batch for this reason (chunked prefill, after Sarathi-Serve, OSDI 2024, which measures
  decodes piggybacked on a prefill chunk as almost free); a sum would charge the weights
  twice.
- FLOPS is the GPU's dense fp8 rate for fp8 weights where it has FP8 tensor cores, its
  dense BF16 rate otherwise (Ampere runs fp8 checkpoints as weight-only FP8, on BF16 math).
- `link` is one direction of the GPU-to-GPU bandwidth: half the datasheet's figure, which
  counts both. A ring all-reduce sends 2 (TP − 1) / TP of the (16-bit) activations over
  it; Llama does two per layer, after attention and after the MLP.

The constants are fitted to the calibration points below (the smallest worst error over
a grid of values), and each lies in a range that is plausible on its own:

- BANDWIDTH_EFFICIENCY = 0.85: the share of the datasheet's memory bandwidth that the
  weight and KV reads reach; streaming reads reach roughly 85–92 % of the datasheet.
- MFU = 0.5: the share of dense tensor FLOPS a prefill reaches; 40–60 % is the usual
  range for large GEMMs with attention and the rest of a forward pass around them.
- ALLREDUCE_SECONDS = 25 µs: one small all-reduce in a decode step, launch and
  synchronisation of the ranks included; small-message all-reduces over NVLink measure
  in the tens of microseconds.
- STEP_OVERHEAD_SECONDS = 2 ms: what a step costs outside the GPU's streams — scheduling,
  preparing inputs, sampling, handing tokens to the API server. vLLM's v0.6.0 release
  post (blog.vllm.ai, 2024-09-05) describes this CPU-side time as a large share of a small
  model's step before that release; what remains is of the order of milliseconds.

Calibration (the test `tests/unit/sim/engine/test_roofline.py` holds each within ±25 %):

1. Llama-3.1-8B-Instruct, bfloat16, one A100-40GB, concurrency 1, 1024 prompt and 128
   output tokens, vLLM: about 75 tokens/s, 77 % of the memory-bandwidth ceiling
   (johnmusgrave.com, "vLLM throughput-latency sweep on NVIDIA A100"). Model: 70 tokens/s.
2. Llama-3.3-70B-Instruct, fp8, 2 × H100-80GB (TP 2), concurrency 1, 500 prompt and 2000
   output tokens: inter-token latency 18.91 ms (NVIDIA NIM for LLMs benchmarking guide,
   "Performance", NIM 1.8.0; docs.nvidia.com/nim/benchmarking/llm/; NIM's engine, not
   vLLM, but the same GPUs and model). Model: 18.5 ms.
3. The same deployment, 5000 prompt tokens: time to first token 406.77 ms (same page),
   a prefill of about 12,300 tokens/s. Model: 392 ms.
4. Llama-3-70B, bfloat16, 4 × H200 (TP 4), a batch of 8 with 32 prompt and 128 output
   tokens: 2077.5 ms end to end (vLLM's performance benchmark, latency_llama70B_tp4,
   buildkite.com/vllm/performance-benchmark/builds/9515). Model: 1898 ms.
5. Llama-3.1-8B, bfloat16, one H200, the same batch: 833.4 ms (same page,
   latency_llama8B_tp1). Model: 768 ms.

Left out: attention's FLOPs (quadratic in the prompt; about 5 % of a 5000-token 70B
prefill), chunked prefill's cap on tokens per step (here a step prefills every prompt
it admits), the activations sent between pipeline stages (kilobytes per request), and
speculative decoding.
"""

import math
from dataclasses import dataclass

from llamaops.api.model_spec import Architecture
from llamaops.catalog.gpus import GpuProduct
from llamaops.sizing import KV_BYTES, weight_bytes

BANDWIDTH_EFFICIENCY = 0.85
MFU = 0.5
ALLREDUCE_SECONDS = 25e-6
STEP_OVERHEAD_SECONDS = 0.002
ACTIVATION_BYTES = 2  # activations are exchanged in 16 bits, fp8 weights or not
ALLREDUCES_PER_LAYER = 2


@dataclass(frozen=True)
class EngineSpeed:
    """One replica's step cost; every figure is per GPU, rates already derated."""

    tensor_parallel: int
    pipeline_parallel: int
    weight_bytes: float
    kv_bytes_per_token: int
    flops_per_token: float
    layers_per_stage: int
    allreduce_bytes_per_token: int
    bytes_per_second: float
    flops_per_second: float
    link_bytes_per_second: float

    def step_seconds(self, batch: int, prefill_tokens: int = 0, context_tokens: int = 0) -> float:
        """One step for `batch` running requests holding `context_tokens` of KV cache in all,
        prefilling `prefill_tokens`; cluster seconds."""
        stage = self.stage_seconds(batch, prefill_tokens, context_tokens)
        return self.pipeline_parallel * stage + STEP_OVERHEAD_SECONDS

    def stage_seconds(self, batch: int, prefill_tokens: int, context_tokens: int) -> float:
        """One micro-batch through one pipeline stage: the slower of memory and compute,
        plus the tensor-parallel all-reduces."""
        requests = math.ceil(batch / self.pipeline_parallel)
        context = context_tokens * requests / batch if batch else 0.0
        tokens = requests + prefill_tokens
        memory = (self.weight_bytes + context * self.kv_bytes_per_token) / self.bytes_per_second
        compute = self.flops_per_token * tokens / self.flops_per_second
        return max(memory, compute) + self.communication_seconds(tokens)

    def communication_seconds(self, tokens: int) -> float:
        """The all-reduces of one stage over `tokens` tokens; zero without tensor parallelism."""
        if self.tensor_parallel == 1:
            return 0.0
        share = 2 * (self.tensor_parallel - 1) / self.tensor_parallel
        moved = share * tokens * self.allreduce_bytes_per_token / self.link_bytes_per_second
        return self.layers_per_stage * ALLREDUCES_PER_LAYER * (ALLREDUCE_SECONDS + moved)


def engine_speed(
    architecture: Architecture,
    dtype: str,
    tensor_parallel: int,
    pipeline_parallel: int,
    gpu: GpuProduct,
) -> EngineSpeed:
    """The step cost of a replica: `dtype` resolved ("bfloat16", "float16" or "fp8")."""
    gpus = tensor_parallel * pipeline_parallel
    tflops = gpu.fp8_tflops if dtype == "fp8" and gpu.fp8_tflops else gpu.bf16_tflops
    return EngineSpeed(
        tensor_parallel=tensor_parallel,
        pipeline_parallel=pipeline_parallel,
        weight_bytes=weight_bytes(architecture, dtype) / gpus,
        kv_bytes_per_token=kv_bytes_per_token(
            architecture, dtype, tensor_parallel, pipeline_parallel
        ),
        flops_per_token=2 * architecture.parameters / gpus,
        layers_per_stage=math.ceil(architecture.num_hidden_layers / pipeline_parallel),
        allreduce_bytes_per_token=architecture.hidden_size * ACTIVATION_BYTES,
        bytes_per_second=gpu.memory_bandwidth_gbps * 1e9 * BANDWIDTH_EFFICIENCY,
        flops_per_second=tflops * 1e12 * MFU,
        link_bytes_per_second=gpu.interconnect_gbps * 1e9 / 2,
    )


def kv_bytes_per_token(architecture: Architecture, dtype: str, tp: int, pp: int) -> int:
    """K and V of one GPU's layers and KV heads, replicated when TP exceeds the KV heads:
    llamaops.sizing's accounting of the KV cache (held equal to it by a test)."""
    layers = math.ceil(architecture.num_hidden_layers / pp)
    kv_heads = math.ceil(architecture.num_key_value_heads / tp)
    return 2 * layers * kv_heads * architecture.head_size * KV_BYTES[dtype]
