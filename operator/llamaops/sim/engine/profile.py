"""How the machine under a simulated engine behaves: GPUs, storage, speed, the checkpoint.

The kubelet builds one `EngineProfile` per container from the node (its GPU product and
memory) and the cluster file (load bandwidth, startup time, checkpoint behaviour);
everything the engine learns from its own command line lives in `EngineArgs` instead.
How fast it steps follows from the GPU's datasheet figures and the model (roofline.py).
"""

from dataclasses import dataclass, field
from typing import Literal

from llamaops.catalog.gpus import GpuProduct, product_or_default

# ok; bad: fails while loading; slow: loads slow_factor times slower; slower: serves
# (every step) slow_factor times slower; erroring: loads and is Ready, yet every
# completion fails (500), as weights that produce NaNs do.
CheckpointBehaviour = Literal["ok", "bad", "slow", "slower", "erroring"]


@dataclass(frozen=True)
class EngineProfile:
    """Times are cluster seconds.

    `gpu` gives the speeds (memory bandwidth, FLOPS, interconnect); `gpu_memory_mib` is the
    memory the node reports, which may differ from the catalog's. `kv_capacity_tokens`
    overrides the capacity sizing derives from the model, the parallel sizes and the GPU.
    """

    gpu: GpuProduct = field(default_factory=lambda: product_or_default(None))
    gpu_memory_mib: int = 81559  # an H100-80GB as the driver reports it
    load_bandwidth_gbps: float = 4.0
    startup_seconds: float = 20.0
    kv_capacity_tokens: int | None = None
    kv_block_tokens: int = 16
    checkpoint: CheckpointBehaviour = "ok"
    slow_factor: float = 5.0
    bad_after_share: float = 0.5  # a bad checkpoint fails this far into its load time
    shutdown_seconds: float = 2.0  # from "nothing left to do" to the process exiting
    crash_exit_seconds: float = 6.0  # from the engine dying to the server exiting
    max_batched_steps_seconds: float = 1.0  # see EngineCore: identical steps slept at once
