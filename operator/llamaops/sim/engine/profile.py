"""How the machine under a simulated engine behaves: GPUs, storage, speed, the checkpoint.

The kubelet builds one `EngineProfile` per container from the node (GPU memory) and
the cluster file (load bandwidth, startup time, checkpoint behaviour); everything the
engine learns from its own command line lives in `EngineArgs` instead.
"""

from dataclasses import dataclass
from typing import Literal

CheckpointBehaviour = Literal["ok", "bad", "slow"]


@dataclass(frozen=True)
class EngineProfile:
    """Speeds are per GPU; times are cluster seconds.

    Decode is memory-bound, so one step (a token for every running request) takes a base
    time plus a little per request in the batch; prefill is compute-bound and costs
    prompt tokens over `prefill_tokens_per_second`. `kv_capacity_tokens` overrides the
    capacity sizing derives from the model, the parallel sizes and the GPU.
    """

    gpu_memory_mib: int = 81559  # an H100-80GB as the driver reports it
    load_bandwidth_gbps: float = 4.0
    startup_seconds: float = 20.0
    decode_step_seconds: float = 0.02
    decode_seconds_per_request: float = 0.0002
    prefill_tokens_per_second: float = 20_000.0
    kv_capacity_tokens: int | None = None
    kv_block_tokens: int = 16
    checkpoint: CheckpointBehaviour = "ok"
    slow_factor: float = 5.0
    bad_after_share: float = 0.5  # a bad checkpoint fails this far into its load time
    shutdown_seconds: float = 2.0  # from "nothing left to do" to the process exiting
    crash_exit_seconds: float = 6.0  # from the engine dying to the server exiting
    max_batched_steps_seconds: float = 1.0  # see EngineCore: identical steps slept at once

    def step_seconds(self, batch: int, prefill_tokens: int = 0) -> float:
        """One engine step for `batch` running requests, prefilling `prefill_tokens`."""
        decode = self.decode_step_seconds + self.decode_seconds_per_request * batch
        return decode + prefill_tokens / self.prefill_tokens_per_second
