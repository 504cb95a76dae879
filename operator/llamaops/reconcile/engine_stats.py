"""What an engine counted of the requests it served, from vLLM's `/metrics`: finished
requests (`vllm:request_success_total{finished_reason}`) and the time-to-first-token
histogram (`vllm:time_to_first_token_seconds`). Pure.

Counters and buckets are cumulative since the engine started, so a window is a
difference: `now - at_start`. A percentile comes from the cumulative buckets as
Prometheus' histogram_quantile computes it: the first bucket holding the rank, linear
between its lower and upper bound (the +Inf bucket answers its lower bound).
"""

import math
from dataclasses import dataclass
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

SUCCESS = "vllm:request_success"
TTFT = "vllm:time_to_first_token_seconds"
ERRORED = frozenset({"error", "abort"})  # finished reasons that are no answer


@dataclass(frozen=True)
class EngineStats:
    finished: float = 0.0  # requests finished, for any reason
    errored: float = 0.0  # of them, finished by an error or an abort
    ttft: tuple[tuple[float, float], ...] = ()  # cumulative buckets (upper bound, count)

    def __add__(self, other: "EngineStats") -> "EngineStats":
        return self._combined(other, 1.0)

    def __sub__(self, other: "EngineStats") -> "EngineStats":
        return self._combined(other, -1.0)

    def _combined(self, other: "EngineStats", sign: float) -> "EngineStats":
        bounds = sorted({le for le, _ in self.ttft} | {le for le, _ in other.ttft})
        mine, theirs = dict(self.ttft), dict(other.ttft)
        return EngineStats(
            self.finished + sign * other.finished,
            self.errored + sign * other.errored,
            tuple((le, mine.get(le, 0.0) + sign * theirs.get(le, 0.0)) for le in bounds),
        )

    @property
    def error_rate(self) -> float | None:
        return self.errored / self.finished if self.finished > 0 else None

    @property
    def ttft_count(self) -> float:
        """First tokens observed: the +Inf bucket's count."""
        return self.ttft[-1][1] if self.ttft else 0.0

    def ttft_quantile(self, q: float) -> float | None:
        """The q-quantile of time to first token, seconds; None without observations."""
        if self.ttft_count <= 0:
            return None
        rank = q * self.ttft_count
        lower, below = 0.0, 0.0
        for le, count in self.ttft:
            if count >= rank:
                if math.isinf(le):
                    return lower
                share = (rank - below) / (count - below) if count > below else 1.0
                return lower + (le - lower) * share
            lower, below = le, count
        return lower

    def as_dict(self) -> dict[str, object]:
        buckets = [["+Inf" if math.isinf(le) else le, count] for le, count in self.ttft]
        return {"finished": self.finished, "errored": self.errored, "ttft": buckets}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "EngineStats":
        buckets = tuple((float(le), float(count)) for le, count in data["ttft"])
        return cls(float(data["finished"]), float(data["errored"]), buckets)


def stats_of(text: str) -> EngineStats | None:
    """The engine's request counts from its exposition; None when the text is no
    exposition or holds neither family."""
    finished = errored = 0.0
    buckets: dict[float, float] = {}
    seen = False
    try:
        for family in text_string_to_metric_families(text):
            if family.name == SUCCESS:
                seen = True
                for sample in family.samples:
                    if sample.name == SUCCESS + "_total":
                        finished += sample.value
                        if sample.labels.get("finished_reason") in ERRORED:
                            errored += sample.value
            elif family.name == TTFT:
                seen = True
                for sample in family.samples:
                    if sample.name == TTFT + "_bucket":
                        le = float(sample.labels["le"])
                        buckets[le] = buckets.get(le, 0.0) + sample.value
    except ValueError:
        return None
    if not seen:
        return None
    return EngineStats(finished, errored, tuple(sorted(buckets.items())))
