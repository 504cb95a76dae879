"""The autoscaler's decision, one tick at a time and over runs of ticks as the operator's loop
makes them: step up, no overshoot while replicas load, noise ignored, step down only after a
whole window, the GPU and maxReplicas caps, unknown metrics, and a restart from status."""

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from llamaops.autoscaling.decision import (
    CAPPED_BY_GPUS,
    CAPPED_BY_MAX,
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

    def tick(self, waiting: float = 0, running: float = 0, kv: float | None = None) -> Decision:
        placed, waiting_for_node = self._ready_at[: self.gpus_for], self._ready_at[self.gpus_for :]
        self._ready_at[self.gpus_for :] = [self.now + self.load_seconds] * len(waiting_for_node)
        n = sum(at <= self.now for at in placed)
        world = Replicas(
            self.replicas,
            ready(n, waiting=waiting, running=running, kv=kv) if n else (),
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
        self, seconds: float, waiting: float = 0, running: float = 0, kv: float | None = None
    ) -> list[Decision]:
        """Ticks for `seconds` under the same load."""
        return [self.tick(waiting, running, kv) for _ in range(round(seconds / self.every))]

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


@pytest.mark.parametrize(
    ("replicas", "policy", "desired", "reason"),
    [
        pytest.param(
            Replicas(2, ready(2, waiting=37, running=16)),
            POLICY,
            5,
            "37 requests waiting on 2 ready replicas, target 5 per replica",
            id="37 waiting and 16 running on 2 ready replicas ask for ⌈(16 + 37) / (8 + 5)⌉ = 5",
        ),
        pytest.param(
            Replicas(2, ready(2, waiting=37, running=8)),
            POLICY,
            5,
            "37 requests waiting on 2 ready replicas",
            id="replicas that queue at 4 running can run 4: ⌈(8 + 37) / (4 + 5)⌉ = 5",
        ),
        pytest.param(
            Replicas(2, ready(2, waiting=12, running=16)),
            POLICY,
            3,
            "12 requests waiting on 2 ready replicas",
            id="6 waiting per replica is beyond the 10 % band: ⌈(16 + 12) / 13⌉ = 3",
        ),
        pytest.param(
            Replicas(2, ready(2, waiting=11, running=16)),
            POLICY,
            2,
            "2 replicas carry it",
            id="5.5 waiting per replica is within the 10 % band and adds nothing",
        ),
        pytest.param(
            Replicas(2, ready(2, waiting=37, running=16)),
            a_policy(scale_up_limit=2),
            4,
            "5 wanted, at most 2 more per decision",
            id="scaleUpLimit 2 adds at most 2 replicas per decision",
        ),
    ],
)
def test_a_queue_beyond_the_target_scales_up_to_bring_it_back(
    replicas: Replicas, policy: Policy, desired: int, reason: str
) -> None:
    decision = once(replicas, policy=policy)

    assert decision.desired == desired
    assert reason in decision.reason
    assert decision.capped_by is None


def test_the_same_queue_seen_again_while_the_new_replicas_load_asks_for_nothing_more() -> None:
    loop = Loop(POLICY, replicas=2, load_seconds=120)

    loop.run(115, waiting=37, running=16)

    assert loop.scalings() == [(0, 2, 5)]
    assert "the 5 replicas asked for (3 loading) cover it" in loop.decisions[-1][1].reason


@pytest.mark.parametrize(
    ("waiting", "scalings"),
    [
        pytest.param(40, [(0, 2, 5)], id="a queue of 40 while they load is still covered by 5"),
        pytest.param(
            60,
            [(0, 2, 5), (5, 5, 6)],
            id="a queue of 60 while they load asks for ⌈76 / 13⌉ = 6, one more",
        ),
    ],
)
def test_a_bigger_queue_while_replicas_load_asks_only_for_the_difference(
    waiting: float, scalings: list[tuple[float, int, int]]
) -> None:
    loop = Loop(POLICY, replicas=2, load_seconds=120)
    loop.tick(waiting=37, running=16)

    loop.run(60, waiting=waiting, running=16)

    assert loop.scalings() == scalings


# Steady and noisy load


def wavering(*, by: float = 0.1) -> list[float]:
    """An hour of load factors, 5 s apart: jitter within ±`by`, then `by` below for 10 minutes,
    then `by` above for 10 minutes (longer than the 300 s scale-down window)."""
    jitter = [1.0, 1 + by, 1 - by, 1 + by / 2, 1 - by / 2, 1 + by, 1 - by, 1 - by / 2]
    return jitter * 60 + [1 - by] * 120 + [1 + by] * 120


@pytest.mark.parametrize(
    ("policy", "waiting", "running", "kv"),
    [
        pytest.param(POLICY, 20, 32, None, id="the queue at the target on 4 full replicas"),
        pytest.param(POLICY, 8, 32, None, id="a short queue on 4 full replicas"),
        pytest.param(
            a_policy(max_num_seqs=32), 0, 110, None, id="4 replicas running 86 % of 32 each"
        ),
        pytest.param(a_policy(max_num_seqs=256), 0, 136, 0.85, id="4 replicas at 85 % KV cache"),
    ],
)
def test_steady_load_changes_nothing_for_an_hour(
    policy: Policy, waiting: float, running: float, kv: float | None
) -> None:
    loop = Loop(policy, replicas=4)

    loop.run(3600, waiting=waiting, running=running, kv=kv)

    assert loop.scalings() == []
    assert all(d.capped_by is None for _, d in loop.decisions)


@pytest.mark.parametrize(
    ("policy", "load"),
    [
        pytest.param(
            POLICY,
            lambda f: {"waiting": 20 * f, "running": 32},
            id="the queue wavers ±10 % around the target on 4 full replicas",
        ),
        pytest.param(
            a_policy(max_num_seqs=32),
            lambda f: {"running": 110 * f},
            id="running wavers ±10 % around 86 % of --max-num-seqs",
        ),
        pytest.param(
            a_policy(max_num_seqs=256),
            lambda f: {"running": 136 * f, "kv": 0.85 * f},
            id="running and KV-cache usage waver ±10 % around 85 %",
        ),
    ],
)
def test_load_wavering_by_10_percent_changes_nothing(
    policy: Policy, load: Callable[[float], dict[str, float]]
) -> None:
    loop = Loop(policy, replicas=4)

    for f in wavering(by=0.1):
        loop.tick(**load(f))

    assert loop.scalings() == []


def test_jitter_shorter_than_the_window_changes_nothing_even_where_a_lasting_dip_would() -> None:
    loop = Loop(a_policy(max_num_seqs=32), replicas=4)

    for f in wavering(by=0.1)[:480]:
        loop.tick(running=89.6 * f)

    assert loop.scalings() == []


def test_a_10_percent_dip_that_outlasts_the_window_lets_one_replica_go_and_no_more() -> None:
    loop = Loop(a_policy(max_num_seqs=32), replicas=4)

    # 4 replicas 70 % full: 3 would be 93 % full, more than 90 %; after a 10 % dip, 84 %.
    loop.run(300, running=89.6)
    loop.run(600, running=89.6 * 0.9)
    loop.run(600, running=89.6)
    loop.run(600, running=89.6 * 1.1)

    assert loop.scalings() == [(600, 4, 3)]


# Down


def test_a_slow_decline_steps_down_a_whole_window_after_each_drop_and_stops_at_min() -> None:
    loop = Loop(a_policy(min_replicas=2, max_num_seqs=32), replicas=6)

    # One replica's worth less every 10 minutes; (1 - 10 %) × 32 = 28.8 per replica.
    for running in (170, 140, 110, 80, 50, 20, 5):
        loop.run(600, running=running)

    assert loop.scalings() == [(900, 6, 5), (1500, 5, 4), (2100, 4, 3), (2700, 3, 2)]
    assert min(d.desired for _, d in loop.decisions) == 2
    assert "80 running on 4 ready replicas fit 3 replicas" in dict(loop.decisions)[2100].reason


@pytest.mark.parametrize(
    ("limit", "scalings"),
    [
        pytest.param(
            1,
            [(900, 6, 5), (905, 5, 4), (910, 4, 3)],
            id="a sudden drop steps down one replica per decision once the window agrees",
        ),
        pytest.param(
            2, [(900, 6, 4), (905, 4, 3)], id="scaleDownLimit 2 removes at most 2 per decision"
        ),
    ],
)
def test_scale_down_removes_at_most_scale_down_limit_per_decision(
    limit: int, scalings: list[tuple[float, int, int]]
) -> None:
    loop = Loop(a_policy(max_num_seqs=32, scale_down_limit=limit), replicas=6)

    loop.run(600, running=170)
    loop.run(600, running=80)

    assert loop.scalings() == scalings


@pytest.mark.parametrize(
    ("replicas", "policy", "desired", "reason"),
    [
        pytest.param(
            Replicas(4, ready(4, running=80)),
            a_policy(max_num_seqs=32),
            3,
            "80 running on 4 ready replicas fit 3 replicas (at most 32 each)",
            id="80 running fit 3 replicas of 32 at 90 %: one fewer",
        ),
        pytest.param(
            Replicas(4, ready(4, running=104)),
            a_policy(max_num_seqs=32),
            4,
            "4 replicas carry it",
            id="no queue, but 3 replicas could not run 104 without queueing: no fewer",
        ),
        pytest.param(
            Replicas(4, ready(4, running=120, kv=0.5)),
            a_policy(max_num_seqs=256),
            3,
            "at most 60 each",
            id="30 running at half the KV cache means 60 each: 3 carry 120",
        ),
        pytest.param(
            Replicas(4, ready(4, running=120, kv=0.9)),
            a_policy(max_num_seqs=256),
            4,
            "4 replicas carry it",
            id="30 running at 90 % of the KV cache means 33 each: 3 cannot carry 120",
        ),
        pytest.param(
            Replicas(4, ready(3, running=6), loading=1),
            POLICY,
            4,
            "fit 2 replicas (at most 8 each) throughout the 300 s window; held until the "
            "replicas coming are ready (1 loading)",
            id="scale-down is held while a replica loads",
        ),
        pytest.param(
            Replicas(4, ready(2, running=6), loading=1, pending=1),
            POLICY,
            4,
            "held until the replicas coming are ready (1 loading, 1 waiting for GPUs)",
            id="scale-down is held while a replica waits for a node",
        ),
    ],
)
def test_scale_down_needs_the_rest_to_carry_the_running_requests_and_no_replica_coming(
    replicas: Replicas, policy: Policy, desired: int, reason: str
) -> None:
    decision = once(replicas, policy=policy, window=recommended(2))

    assert decision.desired == desired
    assert reason in decision.reason


@pytest.mark.parametrize(
    ("window", "reason"),
    [
        pytest.param(
            recommended(4, for_seconds=100),
            "2 replicas would do; scaling down once the 300 s window agrees",
            id="a window that reaches back only 100 s does not agree yet",
        ),
        pytest.param(
            Window(((T0 - 400, 2), (T0 - 100, 4))),
            "2 replicas would do, but 4 replicas were needed within the last 300 s",
            id="4 recommended 100 s ago within the window holds 4",
        ),
    ],
)
def test_a_lower_recommendation_waits_for_the_whole_window(window: Window, reason: str) -> None:
    decision = once(Replicas(4, ready(4, running=8)), window=window)

    assert (decision.desired, decision.recommendation) == (4, 2)
    assert reason in decision.reason


# Caps and bounds


def test_the_free_gpus_cap_a_scale_up_and_it_goes_on_by_itself_when_more_free_up() -> None:
    loop = Loop(POLICY, replicas=2, load_seconds=60, gpus_for=5)

    capped = loop.tick(waiting=75, running=16)
    still = loop.run(20, waiting=75, running=16)
    loop.gpus_for = 7
    freed = loop.tick(waiting=75, running=16)

    assert (capped.desired, capped.capped_by) == (5, CAPPED_BY_GPUS)
    assert "75 requests waiting on 2 ready replicas" in capped.reason
    assert "capped at 5 by free GPUs (7 wanted)" in capped.reason
    assert all(d.desired == 5 and d.capped_by == CAPPED_BY_GPUS for d in still)
    assert (freed.desired, freed.capped_by) == (7, None)
    assert loop.scalings() == [(0, 2, 5), (25, 5, 7)]


@pytest.mark.parametrize(
    ("replicas", "policy", "room", "expected", "reason"),
    [
        pytest.param(
            Replicas(2, ready(2, waiting=140, running=16)),
            POLICY,
            10,
            (10, CAPPED_BY_MAX),
            "capped at maxReplicas 10 (12 wanted)",
            id="12 wanted stop at maxReplicas 10",
        ),
        pytest.param(
            Replicas(2, ready(2, waiting=140, running=16)),
            POLICY,
            3,
            (5, CAPPED_BY_GPUS),
            "capped at 5 by free GPUs (10 wanted)",
            id="12 wanted, maxReplicas 10 and room for 3 more stop at 5 by free GPUs",
        ),
        pytest.param(
            Replicas(6, ready(4, waiting=60, running=32), pending=2),
            POLICY,
            0,
            (6, CAPPED_BY_GPUS),
            "capped at 6 by free GPUs (8 wanted)",
            id="with 2 replicas waiting for a node and no room, 8 wanted hold at 6, not fewer",
        ),
        pytest.param(
            Replicas(12, ready(12, running=90)),
            POLICY,
            0,
            (10, None),
            "spec.replicas 12 is outside minReplicas 1 .. maxReplicas 10",
            id="spec.replicas 12 above maxReplicas 10 comes down to 10 at once",
        ),
        pytest.param(
            Replicas(1, ready(1, running=2)),
            a_policy(min_replicas=3),
            10,
            (3, None),
            "spec.replicas 1 is outside minReplicas 3 .. maxReplicas 10",
            id="spec.replicas 1 below minReplicas 3 goes up to 3",
        ),
        pytest.param(
            Replicas(0),
            a_policy(min_replicas=2),
            10,
            (2, None),
            "brought within minReplicas..maxReplicas from 0",
            id="spec.replicas 0 with no ready replica goes up to minReplicas 2",
        ),
    ],
)
def test_replicas_stay_within_min_and_max_replicas(
    replicas: Replicas,
    policy: Policy,
    room: int,
    expected: tuple[int, str | None],
    reason: str,
) -> None:
    decision = once(replicas, policy=policy, room=room)

    assert (decision.desired, decision.capped_by) == expected
    assert reason in decision.reason


def test_max_replicas_caps_every_decision_while_the_load_asks_for_more() -> None:
    loop = Loop(POLICY, replicas=2, load_seconds=60)

    decisions = loop.run(30, waiting=140, running=16)

    assert loop.scalings() == [(0, 2, 10)]
    assert all(d.capped_by == CAPPED_BY_MAX for d in decisions)
    assert all("capped at maxReplicas 10 (12 wanted)" in d.reason for d in decisions)


def test_an_idle_deployment_never_goes_below_min_replicas() -> None:
    loop = Loop(a_policy(min_replicas=3), replicas=3)

    loop.run(3600)

    assert loop.scalings() == []
    assert all(d.recommendation == 3 for _, d in loop.decisions)


# Unknown metrics


@pytest.mark.parametrize(
    ("readings", "reason"),
    [
        pytest.param(
            ready(1, waiting=50, running=8) + unread(3),
            "metrics of 3 of 4 ready replicas unknown; no decision",
            id="3 of 4 ready replicas unread: no decision",
        ),
        pytest.param(
            unread(2), "metrics of 2 of 2 ready replicas unknown", id="none read: no decision"
        ),
        pytest.param(
            ready(2, waiting=60, running=16) + unread(3),
            "metrics of 3 of 5 ready replicas unknown",
            id="3 of 5 unread is more than half: no decision",
        ),
    ],
)
def test_more_than_half_the_metrics_unknown_is_no_decision(
    readings: tuple[Reading | None, ...], reason: str
) -> None:
    window = recommended(2)

    decision = once(Replicas(4, readings), window=window)

    assert decision.desired == 4
    assert decision.direction is None
    assert reason in decision.reason
    assert decision.window == window
    assert decision.recommendation is None


def test_no_ready_replica_is_no_decision_and_says_what_is_coming() -> None:
    decision = once(Replicas(3, (), loading=2, pending=1))

    assert decision.desired == 3
    assert decision.reason == "no ready replica to read (2 loading, 1 waiting for GPUs)"
    assert decision.window == Window()


@pytest.mark.parametrize(
    ("readings", "desired", "reason"),
    [
        pytest.param(
            ready(2, waiting=40, running=16) + unread(2),
            9,
            "80 requests waiting on 4 ready replicas, target 5 per replica (2 of 4 read)",
            id="2 of 4 unread: the unread are taken to be like the 2 read, ⌈(32 + 80) / 13⌉ = 9",
        ),
        pytest.param(
            ready(2, waiting=10, running=16) + unread(1),
            3,
            "15 waiting and 24 running on 3 ready replicas (2 of 3 read)",
            id="1 of 3 unread: 5 waiting per replica holds 3",
        ),
    ],
)
def test_half_or_fewer_unknown_decides_from_the_read_ones(
    readings: tuple[Reading | None, ...], desired: int, reason: str
) -> None:
    decision = once(Replicas(len(readings), readings))

    assert decision.desired == desired
    assert reason in decision.reason


# Restart


def test_a_restart_resumes_the_window_from_status_and_decides_the_same() -> None:
    loop = Loop(a_policy(max_num_seqs=32), replicas=6)
    loop.run(600, running=170)
    loop.run(200, running=80)
    world = Replicas(6, ready(6, running=80))

    assert to_status(loop.window) == [
        {"time": "2026-12-04T14:00:00Z", "replicas": 6},
        {"time": "2026-12-04T14:10:00Z", "replicas": 3},
    ]
    restored = from_status(to_status(loop.window))
    assert decide(loop.policy, restored, world, 10, loop.now) == decide(
        loop.policy, loop.window, world, 10, loop.now
    )


@pytest.mark.parametrize(
    "down_for",
    [
        pytest.param(0, id="restarted at once, it scales down when the running one would"),
        pytest.param(60, id="down for a minute, it still scales down no sooner and no later"),
    ],
)
def test_a_restarted_operator_keeps_the_scale_down_window(down_for: float) -> None:
    before, uninterrupted = (Loop(a_policy(max_num_seqs=32), replicas=6) for _ in range(2))
    for loop in (before, uninterrupted):
        loop.run(600, running=170)
        loop.run(200, running=80)
    uninterrupted.run(200, running=80)

    after = before.restarted(after=down_for)
    after.run(200 - down_for, running=80)

    assert uninterrupted.scalings() == [(900, 6, 5), (905, 5, 4), (910, 4, 3)]
    assert after.scalings() == uninterrupted.scalings()


def test_a_fresh_window_allows_no_scale_down_before_a_whole_window_has_passed() -> None:
    loop = Loop(a_policy(max_num_seqs=32), replicas=6)

    loop.run(400, running=80)

    assert loop.scalings()[0] == (300, 6, 5)


def test_a_restarted_loop_that_finds_replicas_already_raised_does_not_scale_up_again() -> None:
    loop = Loop(POLICY, replicas=5, loading=3, load_seconds=120)

    loop.run(60, waiting=37, running=16)

    assert loop.scalings() == []
    assert "the 5 replicas asked for (3 loading) cover it" in loop.decisions[0][1].reason
