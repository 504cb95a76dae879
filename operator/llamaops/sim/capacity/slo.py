"""The service-level objective a request is held to: time to first token and time per
output token, both at most their targets.

Defaults are MLPerf Inference's Server-scenario latency constraints
(mlcommons/inference, loadgen/mlperf.conf): llama3_1-8b TTFT 2000 ms and TPOT 100 ms,
llama2-70b 2000 ms and 200 ms, llama3_1-405b 6000 ms and 175 ms. A model takes the
targets of the benchmark model closest to it in size (below 30B: 8B's; below 200B:
70B's; else 405B's).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Slo:
    ttft: float  # seconds
    tpot: float  # seconds

    def met(self, ttft: float, tpot: float) -> bool:
        return ttft <= self.ttft and tpot <= self.tpot

    def __str__(self) -> str:
        return f"TTFT {self.ttft:g} s, TPOT {self.tpot * 1000:g} ms"


MLPERF_8B = Slo(2.0, 0.100)
MLPERF_70B = Slo(2.0, 0.200)
MLPERF_405B = Slo(6.0, 0.175)


def default_slo(parameters: int) -> Slo:
    """The MLPerf Server targets for a model of this many parameters."""
    if parameters < 30e9:
        return MLPERF_8B
    if parameters < 200e9:
        return MLPERF_70B
    return MLPERF_405B


def slo_for(parameters: int, ttft: float | None = None, tpot: float | None = None) -> Slo:
    """The defaults, with either target overridden."""
    base = default_slo(parameters)
    return Slo(base.ttft if ttft is None else ttft, base.tpot if tpot is None else tpot)
