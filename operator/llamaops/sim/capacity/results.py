"""What one policy's run comes to: GPU-hours, SLO attainment, latency percentiles.

- GPU-hours: the GPUs each replica held, from its start to its end (loading and
  draining included), over the trace's duration.
- SLO attainment: requests that met both the TTFT and the TPOT target, over every
  request of the trace; a failed request missed it.
- TTFT: from the request's arrival (at the Service) to its first token. TPOT: from the
  first token to the last, over the tokens after the first. Percentiles are nearest-rank
  over the finished requests.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

from llamaops.sim.capacity.simulation import Outcome, Timeline
from llamaops.sim.capacity.slo import Slo


@dataclass(frozen=True)
class PolicyResult:
    policy: str
    requests: int
    failed: int
    met: int
    gpu_hours: float
    ttft_p50: float | None
    ttft_p99: float | None
    tpot_p99: float | None
    scale_events: int
    timeline: Timeline
    simulated_in: float = 0.0  # seconds of this machine's time the run took

    @property
    def slo_attainment(self) -> float:
        return self.met / self.requests if self.requests else 1.0

    @property
    def mean_replicas(self) -> float:
        line = self.timeline
        return sum(line.replicas) / len(line.replicas) if line.replicas else 0.0


def summarize(outcome: Outcome, slo: Slo) -> PolicyResult:
    ttft, tpot = outcome.ttft, outcome.tpot
    met = sum(1 for first, per in zip(ttft, tpot, strict=True) if slo.met(first, per))
    ttft_sorted, tpot_sorted = sorted(ttft), sorted(tpot)
    return PolicyResult(
        policy=outcome.policy,
        requests=outcome.requests,
        failed=outcome.failed,
        met=met,
        gpu_hours=outcome.gpu_seconds / 3600,
        ttft_p50=percentile(ttft_sorted, 50),
        ttft_p99=percentile(ttft_sorted, 99),
        tpot_p99=percentile(tpot_sorted, 99),
        scale_events=outcome.scale_events,
        timeline=outcome.timeline,
    )


def percentile(ordered: Sequence[float], p: float) -> float | None:
    """Nearest rank: the smallest value with at least p % of the values at or below it."""
    if not ordered:
        return None
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]
