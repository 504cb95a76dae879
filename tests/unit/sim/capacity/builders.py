"""Builders for the capacity simulator's tests: a toy engine, a view, readings."""

from dataclasses import dataclass

from llamaops.autoscaling.decision import Reading
from llamaops.sim.capacity.fleet import EngineModel
from llamaops.sim.capacity.policies import View
from llamaops.sim.engine.batching import BatchLimits

DECODE_SECONDS = 0.01
PREFILL_SECONDS_PER_TOKEN = 1e-5


@dataclass(frozen=True)
class ToyStep:
    """10 ms a step, plus 10 µs per token prefilled: easy to reckon with."""

    def __call__(self, batch: int, prefill_tokens: int, context_tokens: int = 0) -> float:
        return DECODE_SECONDS + prefill_tokens * PREFILL_SECONDS_PER_TOKEN


def a_toy_engine(
    max_num_seqs: int = 4, load_seconds: float = 30.0, kv_tokens: int = 100_000
) -> EngineModel:
    return EngineModel(
        limits=BatchLimits(max_num_seqs, kv_tokens, 16),
        step_time=ToyStep(),
        max_model_len=4096,
        load_seconds=load_seconds,
        gpus=2,
    )


def a_view(
    waiting: list[float] | None = None,
    running: list[float] | None = None,
    *,
    desired: int | None = None,
    now: float = 0.0,
    loading: int = 0,
    pending: int = 0,
    room: int = 10,
    in_flight: int = 0,
    draining: int = 0,
) -> View:
    """A view of ready replicas with these gauges (running defaults to 0 each)."""
    waiting = waiting or []
    running = running or [0.0] * len(waiting)
    ready = tuple(Reading(w, r) for w, r in zip(waiting, running, strict=True))
    return View(
        now=now,
        desired=len(ready) + loading + pending if desired is None else desired,
        ready=ready,
        loading=loading,
        pending=pending,
        room=room,
        in_flight=in_flight,
        draining=draining,
    )
