"""Builders for the batching tests: a batcher, a burst of requests, a run to the end."""

from dataclasses import dataclass

from llamaops.sim.engine.batching import Batcher, BatchLimits, Sequence, StepTime

DECODE_STEP_SECONDS = 0.02
SECONDS_PER_REQUEST = 0.001
PREFILL_TOKENS_PER_SECOND = 10_000


def step_time(batch: int, prefill_tokens: int, context_tokens: int) -> float:
    """Round numbers for the scheduling tests (the engine's real costs are roofline.py's)."""
    decode = DECODE_STEP_SECONDS + SECONDS_PER_REQUEST * batch
    return decode + prefill_tokens / PREFILL_TOKENS_PER_SECOND


def a_batcher(
    max_num_seqs: int = 4, kv_tokens: int = 100_000, block: int = 16, steps: StepTime = step_time
) -> Batcher:
    return Batcher(BatchLimits(max_num_seqs, kv_tokens, block), steps)


def a_burst(count: int, prompt: int = 10, output: int = 20, at: float = 0.0) -> list[Sequence]:
    return [Sequence(prompt, output, at) for _ in range(count)]


def submitted(batcher: Batcher, requests: list[Sequence]) -> list[Sequence]:
    for request in requests:
        batcher.add(request)
    return requests


@dataclass(frozen=True)
class Moment:
    """The batch as a scraper would see it when a plan starts."""

    time: float
    running: int
    waiting: int
    kv_usage: float


def run_until_idle(batcher: Batcher, now: float = 0.0, max_seconds: float = 1.0) -> list[Moment]:
    """Plan and complete steps as the engine loop does, recording each moment."""
    moments = []
    while (plan := batcher.plan(now, max_seconds)) is not None:
        moments.append(Moment(now, len(batcher.running), len(batcher.waiting), batcher.kv_usage))
        batcher.complete(plan, plan.steps)
        now = plan.ends
    return moments
