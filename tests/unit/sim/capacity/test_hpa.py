"""hpa-queue and the HPA under it: Kubernetes' replica calculation, stabilization, rates."""

import pytest

from llamaops.sim.capacity.policies.hpa import (
    Hpa,
    HpaQueue,
    external_average_replicas,
    pods_metric_replicas,
)
from tests.unit.sim.capacity.builders import a_view


@pytest.mark.parametrize(
    ("current", "values", "missing", "ignored", "desired"),
    [
        # every pod has a value: ceil(mean / target × pods), target 4
        (2, [8, 8], 0, 0, 4),
        (2, [4.2, 4.2], 0, 0, 2),  # +5 %: within the 10 % tolerance
        (2, [3.7, 3.7], 0, 0, 2),  # -7.5 %: within it too
        (4, [2, 2, 2, 2], 0, 0, 2),
        (3, [0, 0, 0], 0, 0, 0),  # no queue: it asks for none (minReplicas clamps later)
        # a loading pod serves no metric; on a scale-up it counts as 0 ...
        (3, [8, 8], 1, 0, 4),  # (8 + 8 + 0) / 3 / 4 = 1.33 -> ceil(1.33 × 3)
        (2, [8], 1, 0, 2),  # (8 + 0) / 2 / 4 = 1: within the tolerance
        # ... and on a scale-down as the target
        (3, [0, 0], 1, 0, 1),  # (0 + 0 + 4) / 3 / 4 = 0.33 -> ceil(0.33 × 3)
        # a Pending pod counts as 0 on a scale-up
        (3, [12, 12], 0, 1, 6),  # (12 + 12 + 0) / 3 / 4 = 2 -> 2 × 3
    ],
)
def test_the_pods_metric_ratio_as_the_replica_calculator_computes_it(
    current: int, values: list[float], missing: int, ignored: int, desired: int
) -> None:
    found = pods_metric_replicas(current, values, 4, missing=missing, ignored=ignored)

    assert found == desired


def test_no_metric_at_all_is_no_decision() -> None:
    assert pods_metric_replicas(3, [], 4, missing=3) is None


def test_filling_in_missing_pods_may_not_turn_a_scale_up_into_a_scale_down() -> None:
    # ratio 1.25 from the ready pod; with two missing pods at 0 it is 0.42: direction flips
    assert pods_metric_replicas(3, [5], 4, missing=2) == 3


@pytest.mark.parametrize(
    ("pods", "total", "desired"),
    [
        (2, 10, 2),  # 10 / (5 × 2) = 1: steady
        (2, 10.9, 2),  # within 10 %
        (2, 30, 6),  # ceil(30 / 5)
        (4, 3, 1),  # ceil(3 / 5)
        (4, 0, 0),
    ],
)
def test_an_external_average_value_metric_divides_the_total_by_the_target(
    pods: int, total: float, desired: int
) -> None:
    assert external_average_replicas(pods, total, 5) == desired


def test_scale_up_is_limited_to_max_of_double_and_four_more_per_15_seconds() -> None:
    hpa = Hpa(min_replicas=1, max_replicas=100)

    assert hpa.normalize(0.0, 1, 50) == 5  # max(1 × 2, 1 + 4)
    assert hpa.normalize(5.0, 5, 50) == 5  # the period that began at 1 is not over
    assert hpa.normalize(15.0, 5, 50) == 10  # max(5 × 2, 5 + 4)
    assert hpa.normalize(30.0, 10, 50) == 20


def test_scale_down_waits_for_the_highest_recommendation_of_300_seconds() -> None:
    hpa = Hpa(min_replicas=1, max_replicas=10)
    hpa.normalize(0.0, 4, 4)

    decided = [hpa.normalize(t, 4, 1) for t in (15.0, 150.0, 285.0, 300.0)]

    assert decided == [4, 4, 4, 1]  # the 4 recorded at 0 s leaves the window after 300 s


def test_a_lower_recommendation_within_the_window_is_what_it_falls_to() -> None:
    hpa = Hpa(min_replicas=1, max_replicas=10)
    for t, wanted in ((0.0, 6), (100.0, 3), (200.0, 2)):
        hpa.normalize(t, 6, wanted)

    assert hpa.normalize(301.0, 6, 2) == 3  # 6 left the window; 3 (at 100 s) is the highest


def test_min_and_max_bound_what_it_writes() -> None:
    hpa = Hpa(min_replicas=2, max_replicas=3)

    assert hpa.normalize(0.0, 2, 9) == 3
    assert hpa.normalize(1000.0, 3, 0) == 2


def test_hpa_queue_keeps_its_count_while_no_replica_has_metrics() -> None:
    policy = HpaQueue(target=4, min_replicas=1, max_replicas=4)

    assert policy.decide(a_view([], desired=2, loading=2)) == 2


def test_hpa_queue_scales_on_waiting_requests_per_ready_pod() -> None:
    policy = HpaQueue(target=4, min_replicas=1, max_replicas=8)

    # 20 / 4 = 5 times the target: 10 replicas, limited to max(2 × 2, 2 + 4) at once
    assert policy.decide(a_view([20, 20])) == 6
