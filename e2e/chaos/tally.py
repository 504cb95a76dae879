"""What the chaos runs did, summed over the session, for its closing summary."""

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Tally:
    runs: list[str] = field(default_factory=list)
    faults: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    excused: int = 0  # failed requests a node loss took (nothing could have saved them)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        faults = ", ".join(f"{count} {kind}" for kind, count in sorted(self.faults.items()))
        return [
            *self.runs,
            f"{len(self.runs)} runs in {self.seconds:.0f} s: {faults}; {self.requests} requests, "
            f"{self.excused} of them failed with a lost node",
        ]


TALLY = Tally()
