"""llamaops: the operator's decision, fed as the operator's loop feeds it."""

from llamaops.autoscaling.policy import Policy
from llamaops.sim.capacity.policies.llamaops import Llamaops
from tests.unit.sim.capacity.builders import a_view

POLICY = Policy(min_replicas=1, max_replicas=8, target_queue_depth=4, max_num_seqs=16)


def test_a_queue_scales_up_to_what_carries_it() -> None:
    policy = Llamaops(POLICY, interval=5)

    # 2 replicas running 16 each with 40 waiting: ceil((32 + 40) / (16 + 4)) = 4
    assert policy.decide(a_view([20, 20], [16, 16])) == 4
    assert policy.last is not None and "40 requests waiting" in policy.last.reason


def test_the_window_carries_over_and_the_free_gpus_cap_it() -> None:
    policy = Llamaops(POLICY, interval=5)
    policy.decide(a_view([0, 0], [4, 4], now=0.0))

    assert policy.window.points  # recorded for the next tick
    assert policy.decide(a_view([30, 30], [16, 16], now=5.0, room=1)) == 3


def test_a_lull_scales_down_only_once_the_window_agrees() -> None:
    policy = Llamaops(POLICY, interval=5)
    quiet = [policy.decide(a_view([0, 0, 0], [1, 1, 1], now=t)) for t in (0.0, 150.0, 300.0)]

    assert quiet == [3, 3, 2]  # one fewer per decision, after the 300 s window


def test_a_scale_down_waits_while_the_last_steps_replica_drains() -> None:
    policy = Llamaops(POLICY, interval=5)
    for t in (0.0, 150.0):
        policy.decide(a_view([0, 0, 0], [1, 1, 1], now=t))

    assert policy.decide(a_view([0, 0], [1, 1], desired=3, now=300.0, draining=1)) == 3
    assert policy.decide(a_view([0, 0], [1, 1], desired=3, now=305.0)) == 2
