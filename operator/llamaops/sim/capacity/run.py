"""A study: one deployment, one trace, every policy asked for, run side by side.

`prepare` measures what one replica carries (oracle.replica_capacity), makes the trace
(a built-in shape scaled to that capacity, or the user's), and works out the oracle's
and static-peak's counts. `run_study` simulates each policy on the same trace, in
separate processes when `jobs` > 1 (the runs share nothing), and keeps their order.
"""

import dataclasses
import multiprocessing
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from llamaops.sim.capacity.deployment import Deployment
from llamaops.sim.capacity.oracle import (
    CAPACITY_SECONDS,
    Bounds,
    need,
    oracle_schedule,
    replica_capacity,
    static_peak,
)
from llamaops.sim.capacity.policies import Autoscaler
from llamaops.sim.capacity.policies.hpa import HpaQueue
from llamaops.sim.capacity.policies.keda import Keda
from llamaops.sim.capacity.policies.kubeai import KubeAi
from llamaops.sim.capacity.policies.llamaops import Llamaops
from llamaops.sim.capacity.results import PolicyResult, summarize
from llamaops.sim.capacity.simulation import CLIENT_TIMEOUT_SECONDS, simulate
from llamaops.sim.capacity.slo import Slo
from llamaops.sim.capacity.traces import (
    DEFAULT_SECONDS,
    PEAK_SHARE,
    Trace,
    sample_lengths,
    shaped_trace,
)

POLICIES = ("llamaops", "hpa-queue", "keda", "kubeai", "static-peak", "oracle")
LENGTH_SAMPLES = 2000


class StudyError(ValueError):
    """A study that cannot be made; the message is one line."""


@dataclass(frozen=True)
class Study:
    deployment: Deployment
    trace: Trace
    duration: float
    slo: Slo
    capacity: float  # requests/s one replica carries within the SLO
    needs: tuple[int, ...]  # the oracle's replicas per bin
    source: str  # "shape diurnal" or the trace file
    client_timeout: float = CLIENT_TIMEOUT_SECONDS

    @property
    def bounds(self) -> Bounds:
        return Bounds(self.deployment.min_replicas, self.deployment.max_replicas)


def prepare(
    deployment: Deployment,
    slo: Slo,
    *,
    shape: str | None = None,
    trace: Trace | None = None,
    duration: float | None = None,
    seed: int = 0,
    capacity_seconds: float = CAPACITY_SECONDS,
    client_timeout: float = CLIENT_TIMEOUT_SECONDS,
) -> Study:
    """Exactly one of `shape` and `trace`. `duration` sets a shape's length, or cuts a
    trace (which otherwise lasts until its last request)."""
    engine = deployment.engine
    if trace is None:
        assert shape is not None
        duration = duration or DEFAULT_SECONDS[shape]
        lengths = sample_lengths(LENGTH_SAMPLES, engine.max_model_len, seed)
    else:
        if duration is not None:
            trace = _within(trace, duration)
        if not len(trace):
            raise StudyError(f"no request in the first {duration:g} s of the trace")
        duration = duration or max(1.0, trace.end)
        lengths = trace.lengths()
    capacity = replica_capacity(engine, lengths, slo, seconds=capacity_seconds, seed=seed)
    if trace is None:
        assert shape is not None
        peak = PEAK_SHARE * deployment.max_replicas_held * capacity
        trace = shaped_trace(shape, duration, peak, engine.max_model_len, seed=seed)
    bounds = Bounds(deployment.min_replicas, deployment.max_replicas)
    return Study(
        deployment=deployment,
        trace=trace,
        duration=duration,
        slo=slo,
        capacity=capacity,
        needs=tuple(need(trace, duration, capacity, bounds)),
        source=f"shape {shape}" if shape else "trace",
        client_timeout=client_timeout,
    )


def autoscaler(name: str, study: Study) -> Autoscaler:
    deployment = study.deployment
    low, high = deployment.min_replicas, deployment.max_replicas
    if name == "llamaops":
        return Llamaops(deployment.policy, deployment.metrics_interval)
    if name == "hpa-queue":
        return HpaQueue(deployment.policy.target_queue_depth, low, high)
    if name == "keda":
        return Keda(low, high)
    if name == "kubeai":
        return KubeAi(low, high)
    if name == "static-peak":
        return static_peak(study.needs)
    if name == "oracle":
        return oracle_schedule(study.needs, deployment.engine.load_seconds)
    raise ValueError(f"unknown policy {name!r}; known: {', '.join(POLICIES)}")


def run_policy(name: str, study: Study) -> PolicyResult:
    deployment = study.deployment
    started = time.perf_counter()
    outcome = simulate(
        study.trace,
        deployment.engine,
        autoscaler(name, study),
        slots=deployment.slots,
        duration=study.duration,
        client_timeout=study.client_timeout,
    )
    result = summarize(outcome, study.slo)
    return dataclasses.replace(result, simulated_in=time.perf_counter() - started)


def run_study(study: Study, policies: Sequence[str], jobs: int = 1) -> list[PolicyResult]:
    if jobs <= 1 or len(policies) <= 1:
        return [run_policy(name, study) for name in policies]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(min(jobs, len(policies)), mp_context=context) as pool:
        return list(pool.map(run_policy, policies, [study] * len(policies)))


def _within(trace: Trace, duration: float) -> Trace:
    kept = Trace()
    for offset, prompt, output in zip(trace.offsets, trace.prompts, trace.outputs, strict=True):
        if offset < duration:
            kept.append(offset, prompt, output)
    return kept
