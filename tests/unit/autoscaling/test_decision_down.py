"""The decision ignores noise and steps down only when a whole window agrees and the rest
carry the running requests."""

from collections.abc import Callable

import pytest

from llamaops.autoscaling.decision import (
    Replicas,
)
from llamaops.autoscaling.policy import Policy
from llamaops.autoscaling.window import Window
from tests.unit.autoscaling.builders import POLICY, T0, Loop, a_policy, once, ready, recommended


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
            id="scale-down is held while a replica loads, with one waiting for a node",
        ),
        pytest.param(
            Replicas(4, ready(3, running=6), pending=1),
            POLICY,
            3,
            "fit 2 replicas (at most 8 each) throughout the 300 s window; at most 1 fewer",
            id="a replica waiting for a node does not hold it: it is the first removed",
        ),
        pytest.param(
            Replicas(4, ready(3, running=6), loading=1, stalled=1),
            POLICY,
            3,
            "fit 2 replicas (at most 8 each) throughout the 300 s window; at most 1 fewer",
            id="a crash-looping or late replica does not hold it (aibrix#617)",
        ),
        pytest.param(
            Replicas(4, ready(3, running=6), draining=1),
            POLICY,
            4,
            "fit 2 replicas (at most 8 each) throughout the 300 s window; held while 1 "
            "replica of the last step drains",
            id="one step at a time: the next waits for the last one's drain",
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
