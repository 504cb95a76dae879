"""The autoscaler end to end: the real operator process on the local cluster, with every
request recorded; spec.replicas follows the queue, explained in status and events."""

from pathlib import Path

from tests.integration.autoscaling_helpers import (
    INTERVAL,
    SPEED,
    TARGET,
    WINDOW,
    PhasedTraffic,
    ReplicasWatch,
    autoscaler_status,
    deploy_autoscaled,
    failed,
    spec_replicas,
)
from tests.integration.operator_helpers import a_world, events_with_reason, wait_all_ready


def test_a_step_in_load_scales_up_fast_and_back_down_after_the_window(tmp_path: Path) -> None:
    with a_world(tmp_path, speed=SPEED) as world:
        deploy_autoscaled(world, replicas=1, max_replicas=4)
        wait_all_ready(world, 1)
        with ReplicasWatch(world) as watch:
            with PhasedTraffic(world, [(3, 1), (12, 10)]) as load:
                world.wait_until(lambda: (spec_replicas(world) or 0) > 1, 20, "a scale-up")
                crossed = watch.first_queue_above(TARGET * 1.1)
                scaled = watch.first_change_to_more_than(1)
                assert crossed is not None and scaled is not None
                assert scaled - crossed <= 2 * INTERVAL + 1.0, (crossed, scaled, watch.queues)
                records = load.records()
            ended = load.started + load.duration
            world.wait_until(lambda: spec_replicas(world) == 1, 60, "back to 1 replica")
            down = next(t for t, count in watch.changes if t > ended and count < 4)
        assert down - ended >= WINDOW - 1, (ended, watch.changes)
        assert failed(records) == [], failed(records)
        ups = events_with_reason(world, "ScaledUp")
        assert ups and "requests waiting on 1 ready replica" in ups[0]["message"], ups
        assert events_with_reason(world, "ScaledDown")
        wait_all_ready(world, 1)
        status = autoscaler_status(world)
        assert status["desiredReplicas"] == 1 and status["lastScaleTime"], status
