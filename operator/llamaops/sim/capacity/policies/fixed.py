"""Replica counts known in advance: `static-peak` (one count, all the time) and the
oracle's schedule (a count per moment, from hindsight; see capacity/oracle.py)."""

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

from llamaops.sim.capacity.policies import View


@dataclass
class StaticPeak:
    replicas: int
    name: str = "static-peak"
    interval: float = 60.0  # it never changes its mind; a tick only re-asserts the count
    drains_least_loaded: bool = True

    @property
    def initial(self) -> int:
        return self.replicas

    def decide(self, view: View) -> int:
        return self.replicas


@dataclass
class Schedule:
    """`counts[i]` replicas from `times[i]` until the next time (times ascending, from 0)."""

    times: Sequence[float]
    counts: Sequence[int]
    interval: float
    name: str = "oracle"
    drains_least_loaded: bool = True

    @property
    def initial(self) -> int:
        return self.at(0.0)

    def at(self, now: float) -> int:
        index = bisect.bisect_right(self.times, now) - 1
        return self.counts[max(0, index)]

    def decide(self, view: View) -> int:
        return self.at(view.now)
