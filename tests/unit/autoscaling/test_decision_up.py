"""The decision scales up: a queue beyond the target brings replicas, and the same queue
seen again while they load asks for nothing more (no overshoot)."""

import pytest

from llamaops.autoscaling.decision import (
    Replicas,
)
from llamaops.autoscaling.policy import Policy
from tests.unit.autoscaling.builders import POLICY, Loop, a_policy, once, ready


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
