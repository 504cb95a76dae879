"""The decision's limits: the free GPUs and maxReplicas cap it, minReplicas floors it,
unknown metrics stop it, and a restart resumes its window from status."""

import pytest

from llamaops.autoscaling.decision import (
    CAPPED_BY_GPUS,
    CAPPED_BY_MAX,
    Reading,
    Replicas,
    decide,
)
from llamaops.autoscaling.policy import Policy
from llamaops.autoscaling.window import Window, from_status, to_status
from tests.unit.autoscaling.builders import POLICY, Loop, a_policy, once, ready, recommended, unread


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
    assert decision.window == Window(), "what the load did while unseen is unknown"
    assert decision.recommendation is None


def test_after_a_stretch_of_unknown_metrics_a_scale_down_waits_a_whole_window() -> None:
    seen, blind = (Loop(a_policy(max_num_seqs=32), replicas=6) for _ in range(2))
    seen.run(400, running=80)  # 3 would do
    blind.run(200, running=80)
    blind.run(60, unread=True)
    blind.run(340, running=80)

    assert seen.scalings()[0] == (300, 6, 5)
    assert blind.scalings()[0] == (560, 6, 5), "300 s of readings after the blind minute"


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
