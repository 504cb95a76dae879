"""The oracle: a hindsight lower bound on the replicas a trace needs, and what one carries.

1. Capacity μ of one replica: the highest Poisson arrival rate at which one replica
   (the same engine, warm) keeps `attainment` of its requests within both SLOs. Found by
   simulating it for `seconds` at a rate, doubling the rate until it fails, then
   bisecting; requests of the first fifth of each run are left out (an empty engine
   starts ahead). Lengths are drawn from the trace's own (prompt, output) pairs.
2. Need: n(b) = ceil(rate(b) / μ) for each bin b of BIN_SECONDS (the trace's own count
   of arrivals in it, known in hindsight), clamped into [min, max] replicas.
3. Schedule: a replica needed from bin b on is asked for `load_seconds` earlier, so that
   it is ready when its bin starts; it is let go (drained) as soon as no bin within the
   next `load_seconds` needs it. So the count during bin b is max n(b .. b + ⌈load/bin⌉).
4. The schedule runs through the same simulation as every policy: its GPU-hours are the
   lower bound the others are compared to, and its SLO figures show what μ promised.

`static-peak` asks for max n(b) replicas all the time.
"""

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

from llamaops.sim.capacity.fleet import EngineModel
from llamaops.sim.capacity.policies.fixed import Schedule, StaticPeak
from llamaops.sim.capacity.simulation import simulate
from llamaops.sim.capacity.slo import Slo
from llamaops.sim.capacity.traces import Trace

BIN_SECONDS = 60.0
CAPACITY_SECONDS = 300.0
ATTAINMENT = 0.99
BISECTIONS = 7


class UnattainableError(ValueError):
    """No load is light enough for one replica to meet the SLO."""


@dataclass(frozen=True)
class Bounds:
    min_replicas: int
    max_replicas: int

    def clamp(self, replicas: int) -> int:
        return max(self.min_replicas, min(self.max_replicas, replicas))


def replica_capacity(
    engine: EngineModel,
    lengths: Sequence[tuple[int, int]],
    slo: Slo,
    *,
    seconds: float = CAPACITY_SECONDS,
    attainment: float = ATTAINMENT,
    seed: int = 0,
) -> float:
    """μ: requests per second one replica carries within the SLO (step 1)."""

    def holds(rate: float) -> bool:
        trace = _poisson(lengths, rate, seconds, seed)
        return _attainment(engine, trace, slo, seconds) >= attainment

    low, high = 0.0, 1.0
    while holds(high):
        low, high = high, high * 2
        if high > 1e4:
            return high
    for _ in range(BISECTIONS):
        middle = (low + high) / 2
        low, high = (middle, high) if holds(middle) else (low, middle)
    if low <= 0:
        raise UnattainableError(
            f"one replica misses the SLO ({slo}) for more than {1 - attainment:.0%} of "
            f"requests even at {high:.3g} requests/s"
        )
    return low


def _poisson(lengths: Sequence[tuple[int, int]], rate: float, seconds: float, seed: int) -> Trace:
    rng = random.Random(f"{seed}/capacity")
    trace = Trace()
    offset = rng.expovariate(rate)
    while offset < seconds:
        trace.append(offset, *rng.choice(lengths))
        offset += rng.expovariate(rate)
    return trace


def _attainment(engine: EngineModel, trace: Trace, slo: Slo, seconds: float) -> float:
    """Share of the requests after the first fifth that met the SLO, on one warm replica."""
    outcome = simulate(trace, engine, StaticPeak(1), slots=1, duration=seconds)
    warm = seconds / 5
    counted = [i for i, arrived in enumerate(outcome.arrivals) if arrived >= warm]
    arrived = sum(1 for offset in trace.offsets if offset >= warm)
    if not arrived:
        return 1.0
    met = sum(1 for i in counted if slo.met(outcome.ttft[i], outcome.tpot[i]))
    return met / arrived


def need(trace: Trace, duration: float, capacity: float, bounds: Bounds) -> list[int]:
    """n(b) for each bin (step 2)."""
    return [bounds.clamp(math.ceil(rate / capacity)) for rate in trace.rates(BIN_SECONDS, duration)]


def oracle_schedule(needs: Sequence[int], load_seconds: float) -> Schedule:
    """The schedule of step 3, one count per bin."""
    ahead = math.ceil(load_seconds / BIN_SECONDS)
    counts = [max(needs[b : b + ahead + 1]) for b in range(len(needs))]
    return Schedule([b * BIN_SECONDS for b in range(len(counts))], counts, BIN_SECONDS)


def static_peak(needs: Sequence[int]) -> StaticPeak:
    return StaticPeak(max(needs))
