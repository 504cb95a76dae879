"""Replicas on virtual time: each one a simulated vLLM engine's continuous batching.

A replica holds its GPUs from the moment it starts. It loads for the engine's load time,
then serves: requests join its `Batcher` (the local cluster's engine model) and steps run
as the engine loop runs them: a plan of identical steps (at most `max_batched_seconds`),
cut at the next step boundary when a request arrives that could join the batch. A
replica being removed drains: it takes no new request, finishes what it runs and holds,
then frees its GPUs; one removed while loading frees them at once.

Which ready replica a scale-down drains: the least loaded (running + waiting) for the
llamaops operator; the newest for a ReplicaSet, which deletes the pod ready for the
shortest time first (controller.ActivePodsWithRanks). Replicas not yet ready go first.
"""

from dataclasses import dataclass, field
from enum import Enum

from llamaops.autoscaling.decision import Reading
from llamaops.sim.engine.batching import Batcher, BatchLimits, Sequence, StepPlan, StepTime


class State(Enum):
    LOADING = "loading"
    READY = "ready"
    DRAINING = "draining"
    GONE = "gone"


@dataclass(frozen=True)
class EngineModel:
    """What every replica of a deployment runs."""

    limits: BatchLimits
    step_time: StepTime
    max_model_len: int
    load_seconds: float
    gpus: int
    max_batched_seconds: float = 1.0


@dataclass(eq=False)
class Replica:
    number: int
    started: float
    engine: EngineModel
    state: State = State.LOADING
    ended: float | None = None
    batcher: Batcher = field(init=False)
    plan: StepPlan | None = None
    steps: int = 0  # steps of `plan` that end at the scheduled event
    version: int = 0  # bumped whenever the scheduled event is replaced

    def __post_init__(self) -> None:
        self.batcher = Batcher(self.engine.limits, self.engine.step_time)

    @property
    def ready_at(self) -> float:
        return self.started + self.engine.load_seconds

    @property
    def load(self) -> int:
        return len(self.batcher.running) + len(self.batcher.waiting)

    def reading(self) -> Reading:
        batcher = self.batcher
        return Reading(len(batcher.waiting), len(batcher.running), batcher.kv_usage)

    def accepts(self, prompt_tokens: int, output_tokens: int) -> bool:
        """Whether vLLM takes the request: it fits the context and the KV cache."""
        tokens = prompt_tokens + output_tokens
        limits = self.engine.limits
        return tokens <= self.engine.max_model_len and limits.blocks(tokens) <= limits.total_blocks

    def submit(self, prompt_tokens: int, output_tokens: int, arrived_at: float) -> Sequence:
        seq = Sequence(prompt_tokens, output_tokens, arrived_at)
        self.batcher.add(seq)
        return seq

    def wants_wake(self) -> bool:
        """An arrival wakes the engine loop when the batch has room (EngineCore.submit)."""
        return len(self.batcher.running) < self.engine.limits.max_num_seqs

    def gpu_seconds(self, until: float) -> float:
        end = min(until, self.ended if self.ended is not None else until)
        return max(0.0, end - self.started) * self.engine.gpus


def drain_order(replicas: list[Replica], least_loaded: bool) -> list[Replica]:
    """Which replicas a scale-down removes first."""

    def rank(replica: Replica) -> tuple[int, float, int]:
        loading = 0 if replica.state is State.LOADING else 1
        if least_loaded:
            return loading, float(replica.load), -replica.number
        return loading, -replica.ready_at, -replica.number

    return sorted(replicas, key=rank)
