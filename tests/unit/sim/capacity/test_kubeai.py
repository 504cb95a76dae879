"""kubeai: a 10-minute moving average of requests in flight over targetRequests (100),
scaling down after 3 consecutive lower decisions."""

import pytest

from llamaops.sim.capacity.policies.kubeai import (
    KubeAi,
    consecutive_scale_downs,
    gate_scale_down,
    moving_average_slots,
)
from tests.unit.sim.capacity.builders import a_view


def test_the_defaults_make_60_slots_and_3_scale_downs() -> None:
    assert moving_average_slots(10, 600) == 60
    assert consecutive_scale_downs(10, 30) == 3


@pytest.mark.parametrize(
    ("existing", "desired", "blocked", "written", "blocked_after"),
    [
        (3, 5, 2, 5, 0),  # up: at once, and the count resets
        (3, 3, 2, 3, 0),  # the same: resets too
        (3, 2, 0, 3, 1),  # the first lower decision is held back
        (3, 2, 2, 3, 3),  # the third too
        (3, 2, 3, 2, 3),  # the fourth goes through, and the count stays
        (2, 1, 3, 1, 3),  # so the next lower one goes through at once
    ],
)
def test_scale_down_waits_for_consecutive_lower_decisions(
    existing: int, desired: int, blocked: int, written: int, blocked_after: int
) -> None:
    assert gate_scale_down(existing, desired, blocked, 3) == (written, blocked_after)


def test_desired_is_the_ceiling_of_the_average_over_target_requests() -> None:
    policy = KubeAi(min_replicas=1, max_replicas=10)

    assert policy.decide(a_view([0], desired=1, in_flight=250)) == 3  # avg 250 / 100


def test_the_average_reacts_slowly_to_a_jump() -> None:
    policy = KubeAi(min_replicas=1, max_replicas=10)
    policy.decide(a_view([0], desired=1, in_flight=50))  # 60 slots of 50

    # one sample of 650: (59 × 50 + 650) / 60 = 60 -> still 1 replica
    assert policy.decide(a_view([0], desired=1, in_flight=650)) == 1


def test_a_drop_in_load_scales_down_on_the_fourth_lower_decision() -> None:
    policy = KubeAi(min_replicas=1, max_replicas=10, time_window=10)  # one-slot average
    policy.decide(a_view([0], desired=3, in_flight=300))

    written = [policy.decide(a_view([0], desired=3, in_flight=100)) for _ in range(4)]

    assert written == [3, 3, 3, 1]
