"""Builders for the decision's tests: policies, ready replicas, windows, and a `Loop` that
ticks as the operator's loop does (each decision's window and replicas fed into the next)."""

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime

from llamaops.autoscaling.decision import (
    Decision,
    Reading,
    Replicas,
    decide,
)
from llamaops.autoscaling.policy import Policy
from llamaops.autoscaling.window import Window, from_status, to_status

T0 = datetime(2026, 12, 4, 14, 0, tzinfo=UTC).timestamp()

# Target 5 waiting per ready replica, ±10 %, scale down after 300 s, one replica at a time;
# each replica runs at most 8 requests (--max-num-seqs 8), so C = 8 while replicas queue.
POLICY = Policy(min_replicas=1, max_replicas=10, target_queue_depth=5, max_num_seqs=8)


def a_policy(**changes: object) -> Policy:
    return dataclasses.replace(POLICY, **changes)  # type: ignore[arg-type]


def ready(
    n: int, *, waiting: float = 0, running: float = 0, kv: float | None = None
) -> tuple[Reading, ...]:
    """n ready replicas sharing `waiting` and `running` evenly, each `kv` of its KV cache used."""
    return tuple(Reading(waiting / n, running / n, kv) for _ in range(n))


def unread(n: int) -> tuple[None, ...]:
    """n ready replicas whose /metrics could not be read."""
    return (None,) * n


def recommended(replicas: int, *, for_seconds: float = 400) -> Window:
    """A window in which `replicas` was recommended for the last `for_seconds` before T0."""
    return Window(((T0 - for_seconds, replicas),))


def once(
    replicas: Replicas, *, policy: Policy = POLICY, window: Window | None = None, room: int = 10
) -> Decision:
    return decide(policy, window or Window(), replicas, room, T0)


@dataclass
class Loop:
    """The operator's loop in miniature: every `every` seconds it reads the ready replicas
    and feeds the decision's window and desired replicas into the next tick. New replicas
    load for `load_seconds`; the free GPUs hold `gpus_for` replicas in all (the rest wait
    for a node); removed replicas are gone at once, the newest first."""

    policy: Policy
    replicas: int
    loading: int = 0
    load_seconds: float = 0.0
    gpus_for: int = 100
    every: float = 5.0
    window: Window = field(default_factory=Window)
    start: float = T0
    now: float = T0
    decisions: list[tuple[float, Decision]] = field(default_factory=list)
    _ready_at: list[float] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        on = self.replicas - self.loading
        self._ready_at = [self.now] * on + [self.now + self.load_seconds] * self.loading

    def tick(
        self, waiting: float = 0, running: float = 0, kv: float | None = None, unread: bool = False
    ) -> Decision:
        """One tick; `unread`: no replica's /metrics could be read."""
        placed, waiting_for_node = self._ready_at[: self.gpus_for], self._ready_at[self.gpus_for :]
        self._ready_at[self.gpus_for :] = [self.now + self.load_seconds] * len(waiting_for_node)
        n = sum(at <= self.now for at in placed)
        world = Replicas(
            self.replicas,
            (None,) * n if unread else ready(n, waiting=waiting, running=running, kv=kv),
            loading=len(placed) - n,
            pending=len(waiting_for_node),
        )
        decision = decide(self.policy, self.window, world, self.gpus_for - len(placed), self.now)
        self.decisions.append((self.now - self.start, decision))
        self._ready_at = self._ready_at[: decision.desired]
        self._ready_at += [self.now + self.load_seconds] * (decision.desired - len(self._ready_at))
        self.replicas, self.window = decision.desired, decision.window
        self.now += self.every
        return decision

    def run(
        self,
        seconds: float,
        waiting: float = 0,
        running: float = 0,
        kv: float | None = None,
        unread: bool = False,
    ) -> list[Decision]:
        """Ticks for `seconds` under the same load."""
        ticks = round(seconds / self.every)
        return [self.tick(waiting, running, kv, unread) for _ in range(ticks)]

    def scalings(self) -> list[tuple[float, int, int]]:
        """(seconds after the start, from, to) of each change of replicas."""
        return [(at, d.previous, d.desired) for at, d in self.decisions if d.direction]

    def restarted(self, after: float = 0.0) -> "Loop":
        """The loop of an operator restarted `after` seconds later, its window read back from
        status.autoscaler.recommendations, the same replicas still there."""
        loop = Loop(
            self.policy,
            self.replicas,
            load_seconds=self.load_seconds,
            gpus_for=self.gpus_for,
            every=self.every,
            window=from_status(to_status(self.window)),
            start=self.start,
            now=self.now + after,
        )
        loop._ready_at = list(self._ready_at)
        return loop


# Up
