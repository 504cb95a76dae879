"""keda: production-stack's trigger (waiting requests, threshold 5) over KEDA's HPA."""

import pytest

from llamaops.sim.capacity.policies.keda import PRODUCTION_STACK_THRESHOLD, Keda
from tests.unit.sim.capacity.builders import a_view


def test_the_threshold_is_the_charts() -> None:
    assert PRODUCTION_STACK_THRESHOLD == 5


@pytest.mark.parametrize(
    ("waiting", "loading", "desired"),
    [
        ([5, 5], 0, 2),  # 10 waiting over 2 pods: 5 each, the threshold
        ([15, 15], 0, 6),  # ceil(30 / 5)
        ([3, 2, 0], 0, 3),  # ceil(5 / 5) = 1, but no scale-down inside the 300 s window
        ([9], 1, 2),  # 9 / (5 × 2 pods) = 0.9: the loading pod counts; within 10 %
        ([12], 1, 3),  # 12 / 10 = 1.2 -> ceil(12 / 5)
    ],
)
def test_keda_divides_the_queue_by_five_over_every_pod(
    waiting: list[float], loading: int, desired: int
) -> None:
    policy = Keda(min_replicas=1, max_replicas=10)

    assert policy.decide(a_view(waiting, loading=loading)) == desired


def test_keda_scales_down_after_the_hpa_window() -> None:
    policy = Keda(min_replicas=1, max_replicas=10)
    policy.decide(a_view([5, 5, 5], now=0.0))

    assert policy.decide(a_view([0, 0, 0], now=150.0)) == 3
    assert policy.decide(a_view([0, 0, 0], now=300.0)) == 1


def test_keda_without_a_ready_pod_changes_nothing() -> None:
    assert Keda(1, 4).decide(a_view([], desired=2, loading=2)) == 2
