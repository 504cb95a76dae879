"""Canary analysis: does the first replica on the new checkpoint serve worse than the old
ones? Pure; the numbers are the engines' own (engine_stats.py).

The window opens when the canary joins the Service (its warm-up passed); the counts of
both sides at that moment are kept on the canary pod (annotation
serving.llamaops.io/canary-baseline), so that both are measured over the same stretch of
time:

    canary  c = its counts now, minus its own at the start: its warm-up completion, the
            first request of a freshly loaded engine and its slowest, is not judged
    old     o = the old replicas' counts now, summed, minus theirs at the start

    error rate  e = errored / finished   (finished_reason error or abort: no answer)
    TTFT p90    from the histogram buckets (histogram_quantile)

    waiting  while less than analysisSeconds has passed, or c has fewer than minRequests
             finished requests (at most 3 × analysisSeconds: then it is judged on what
             it saw, and says so)
    failed   e_c > e_o + maxErrorRateIncrease, or (only when the canary finished at
             least 10 requests in the window and the old replicas served some) both
                 p90_c > maxTtftP90Ratio × p90_o   and
                 p90_c − p90_o > minTtftP90IncreaseSeconds:
             CanaryRegressed, with both numbers
    passed   otherwise; when TTFT was not judged, the verdict says so

A percentile from buckets is only as fine as the buckets (vLLM's TTFT buckets go 0.1,
0.25, 0.5, 0.75, 1, 2.5 s...): two TTFTs within one bucket compare equal, and a
canary one bucket slower can look twice as slow, so the ratio's default is loose (2).
Where TTFTs are a few milliseconds a ratio says little: 10 ms against 25 ms is 2.5 × and
nobody waits for it, while a few slow first requests of a new engine (its prefix cache
empty, shapes not yet compiled) set the p90 of a small window. An increase below the
absolute floor (default 50 ms) is therefore never a regression, whatever the ratio.

Why 10 requests: the p90 of n observations sits at rank 0.9 n, so below n = 10
(= 1 / (1 − 0.9)) it falls in the bucket of the slowest request. One slow request, which
an engine sharing its CPU or a fresh engine's next few requests give often (seen on the
real CPU engine: "190 ms against 10 ms" over 4 requests, a healthy canary), would then
decide alone. From 10 requests on, one outlier is outside the p90. The old replicas' p90
needs no such floor: when few, it is their slowest request, which only makes the check
more lenient, never halts a healthy canary.
"""

import json
from dataclasses import dataclass

from llamaops.reconcile.engine_stats import EngineStats

WAITING, PASSED, FAILED = "waiting", "passed", "failed"
PATIENCE = 3  # windows to wait for minRequests before judging on what was seen
QUANTILE = 0.9
QUANTILE_SAMPLES = round(1 / (1 - QUANTILE))  # 10: with fewer, the p90 is the slowest one


@dataclass(frozen=True)
class Tolerances:
    analysis_seconds: float
    min_requests: int
    max_error_rate_increase: float
    max_ttft_p90_ratio: float
    min_ttft_p90_increase: float  # seconds


@dataclass(frozen=True)
class Baseline:
    """Both sides' counts when the window opened, kept on the canary pod as JSON."""

    old: EngineStats  # the old replicas', summed
    canary: EngineStats  # the canary's own: its warm-up

    def to_text(self) -> str:
        return json.dumps({"old": self.old.as_dict(), "canary": self.canary.as_dict()})

    @classmethod
    def from_text(cls, text: str) -> "Baseline":
        data = json.loads(text)
        return cls(EngineStats.from_dict(data["old"]), EngineStats.from_dict(data["canary"]))


@dataclass(frozen=True)
class Verdict:
    state: str
    message: str


def judge(canary: EngineStats, old: EngineStats, elapsed: float, limits: Tolerances) -> Verdict:
    """`old` is the old replicas' counts over the window (now minus the baseline)."""
    served = canary.finished
    window = limits.analysis_seconds
    if elapsed < window or (served < limits.min_requests and elapsed < PATIENCE * window):
        return Verdict(
            WAITING,
            f"canary analysis: {round(elapsed)} of {round(window)} s, "
            f"{round(served)} of {limits.min_requests} requests",
        )
    figures = _figures(canary, old)
    few = f" (only {round(served)} requests)" if served < limits.min_requests else ""
    e_c, e_o = canary.error_rate or 0.0, old.error_rate or 0.0
    if e_c > e_o + limits.max_error_rate_increase:
        allowed = limits.max_error_rate_increase * 100
        return Verdict(
            FAILED,
            f"canary error rate {e_c:.1%} against {e_o:.1%} on the old replicas "
            f"(at most {allowed:g} points more){few}; {figures}",
        )
    if canary.ttft_count < QUANTILE_SAMPLES:
        unjudged = f", TTFT not judged (a p90 needs {QUANTILE_SAMPLES} requests)"
        return Verdict(PASSED, f"canary passed{few}{unjudged}: {figures}")
    p_c, p_o = canary.ttft_quantile(QUANTILE), old.ttft_quantile(QUANTILE)
    if p_c is not None and p_o is not None and _slower(p_c, p_o, limits):
        return Verdict(
            FAILED,
            f"canary TTFT p90 {_ms(p_c)} against {_ms(p_o)} on the old replicas "
            f"(at most {limits.max_ttft_p90_ratio:g} × or "
            f"{_ms(limits.min_ttft_p90_increase)} more){few}; {figures}",
        )
    return Verdict(PASSED, f"canary passed{few}: {figures}")


def _slower(p_c: float, p_o: float, limits: Tolerances) -> bool:
    ratio = p_c > limits.max_ttft_p90_ratio * p_o
    return ratio and p_c - p_o > limits.min_ttft_p90_increase


def _figures(canary: EngineStats, old: EngineStats) -> str:
    def side(stats: EngineStats) -> str:
        p90 = stats.ttft_quantile(QUANTILE)
        shown = _ms(p90) if p90 is not None else "no"
        errors = stats.error_rate or 0.0
        return f"{round(stats.finished)} requests, {errors:.1%} errors, TTFT p90 {shown}"

    return f"canary {side(canary)}; old {side(old)}"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"
