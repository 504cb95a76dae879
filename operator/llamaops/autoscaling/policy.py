"""The autoscaler's policy, read from a LlamaDeployment's spec.

Everything comes from `spec.autoscaling`, except what one replica can run at once: vLLM's
`--max-num-seqs`, read from `spec.engine.extraArgs` (vLLM's default when not given).
"""

from dataclasses import dataclass

from llamaops.api.spec import LlamaDeploymentSpec

# vLLM's default --max-num-seqs for the OpenAI server (the simulated engine's default too).
DEFAULT_MAX_NUM_SEQS = 256


@dataclass(frozen=True)
class Policy:
    min_replicas: int
    max_replicas: int
    target_queue_depth: float
    tolerance: float = 0.1
    scale_up_window: float = 0.0
    scale_down_window: float = 300.0
    scale_up_limit: int | None = None  # most replicas one decision adds; None: no limit
    scale_down_limit: int = 1  # most replicas one decision removes
    max_num_seqs: int = DEFAULT_MAX_NUM_SEQS

    @property
    def keep_seconds(self) -> float:
        """How far back the window must reach for both rules."""
        return max(self.scale_up_window, self.scale_down_window)


def policy_of(spec: LlamaDeploymentSpec) -> Policy:
    auto = spec.autoscaling
    return Policy(
        min_replicas=auto.min_replicas,
        max_replicas=auto.max_replicas if auto.max_replicas is not None else auto.min_replicas,
        target_queue_depth=auto.target_queue_depth,
        tolerance=auto.tolerance,
        scale_up_window=auto.scale_up_stabilization_seconds,
        scale_down_window=auto.scale_down_stabilization_seconds,
        scale_up_limit=auto.scale_up_limit,
        scale_down_limit=auto.scale_down_limit,
        max_num_seqs=max_num_seqs(spec.engine.extra_args),
    )


def max_num_seqs(extra_args: list[str]) -> int:
    """`--max-num-seqs N` or `--max-num-seqs=N` in the engine's extra arguments."""
    for index, arg in enumerate(extra_args):
        value = None
        if arg == "--max-num-seqs" and index + 1 < len(extra_args):
            value = extra_args[index + 1]
        elif arg.startswith("--max-num-seqs="):
            value = arg.split("=", 1)[1]
        if value is not None and value.isdigit() and int(value) > 0:
            return int(value)
    return DEFAULT_MAX_NUM_SEQS
