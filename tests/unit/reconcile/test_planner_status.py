"""The status a plan reports: counters from the pods, conditions with Kubernetes'
conventions, lastTransitionTime kept while a condition's status holds, and events only on
transitions."""

import pytest

from llamaops.api.status import AutoscalerStatus
from llamaops.reconcile import reasons
from llamaops.reconcile.conditions import timestamp
from llamaops.reconcile.planner import plan
from llamaops.reconcile.rendering import checkpoint_id
from tests.unit.reconcile.world import (
    NAME,
    NOW,
    World,
    condition,
    event_reasons,
    expect_condition,
    world,
)


def cluster() -> World:
    return world().with_nodes(2, gpus=8)


def test_the_counters_selector_and_endpoint() -> None:
    the_world = (
        world()
        .with_nodes(3, gpus=8)
        .deployment(replicas=3)
        .with_ready_pods(2)
        .with_loading_pods(1, template_hash="0ld0000000")
        .with_draining_pods(1, in_flight=2)
        .with_pods(1, terminating=True)
    )

    status = plan(the_world.obj()).status

    assert (status.replicas, status.ready_replicas, status.updated_replicas) == (4, 2, 3)
    assert status.desired_replicas == 3
    assert status.selector == (
        "app.kubernetes.io/name=vllm,app.kubernetes.io/managed-by=llamaops,"
        f"serving.llamaops.io/deployment={NAME}"
    )
    assert status.endpoint == f"http://{NAME}.default.svc:8000"
    assert status.observed_generation == 1
    assert {c.observed_generation for c in status.conditions} == {1}
    assert [c.type for c in status.conditions] == [
        "Available",
        "Progressing",
        "Degraded",
        "Scheduled",
    ]


def test_the_checkpoint_is_current_once_every_ready_replica_serves_it() -> None:
    the_world = cluster().deployment(replicas=2)
    spec_checkpoint = checkpoint_id(the_world.obj().deployment.spec)

    starting = plan(the_world.obj()).status.checkpoint
    serving = plan(the_world.with_ready_pods(2).obj()).status.checkpoint

    assert starting is not None and (starting.current, starting.target) == (None, spec_checkpoint)
    assert serving is not None and (serving.current, serving.target) == (spec_checkpoint, None)


def test_the_autoscalers_status_is_carried_over() -> None:
    the_world = cluster().deployment(replicas=2).with_ready_pods(2)
    first = plan(the_world.obj())
    autoscaler = AutoscalerStatus(queue_depth=7, desired_replicas=3, reason="queue 7 > 2 x 3")

    result = plan(
        the_world.with_status(first.status.model_copy(update={"autoscaler": autoscaler})).obj()
    )

    assert result.status.autoscaler == autoscaler


@pytest.mark.parametrize(
    ("replicas", "max_unavailable", "ready", "available"),
    [
        pytest.param(2, 0, 2, "True", id="2 of 2 with none unavailable"),
        pytest.param(2, 0, 1, "False", id="1 of 2 with none unavailable"),
        pytest.param(4, 1, 3, "True", id="3 of 4 with 1 unavailable"),
        pytest.param(4, "50%", 2, "True", id="2 of 4 with 50% unavailable"),
        pytest.param(3, "50%", 1, "False", id="50% of 3 rounds down to 1 unavailable"),
        pytest.param(2, 5, 0, "False", id="at least one replica while any is wanted"),
        pytest.param(2, 5, 1, "True", id="one is enough when unavailable covers the rest"),
        pytest.param(0, 0, 0, "True", id="nothing wanted, nothing required"),
    ],
)
def test_available_needs_the_replicas_maxunavailable_leaves(
    replicas: int, max_unavailable: int | str, ready: int, available: str
) -> None:
    the_world = cluster().deployment(
        replicas=replicas, **{"rollout.maxUnavailable": max_unavailable, "rollout.maxSurge": 1}
    )
    the_world.with_ready_pods(ready).with_loading_pods(max(0, replicas - ready))

    assert condition(plan(the_world.obj()), "Available").status == available


@pytest.mark.parametrize(
    ("the_world", "status", "reason"),
    [
        pytest.param(
            cluster().deployment(replicas=2), "True", reasons.REPLICAS_STARTING, id="creating"
        ),
        pytest.param(
            cluster().deployment(replicas=2).with_ready_pods(1).with_loading_pods(1),
            "True",
            reasons.REPLICAS_STARTING,
            id="loading",
        ),
        pytest.param(
            cluster().deployment(replicas=1).with_ready_pods(2),
            "True",
            reasons.SCALING_DOWN,
            id="scaling down",
        ),
        pytest.param(
            cluster().deployment(replicas=2).with_ready_pods(2),
            "False",
            reasons.COMPLETE,
            id="done",
        ),
        pytest.param(
            cluster().deployment(replicas=0),
            "False",
            reasons.COMPLETE,
            id="zero wanted, none there",
        ),
        pytest.param(
            cluster().deployment(replicas=2).with_ready_pods(1).with_loading_pods(1, age=1800),
            "False",
            reasons.PROGRESS_DEADLINE_EXCEEDED,
            id="a replica still loading after rollout.readinessTimeoutSeconds",
        ),
    ],
)
def test_progressing(the_world: World, status: str, reason: str) -> None:
    expect_condition(plan(the_world.obj()), "Progressing", status, reason)


def test_replicas_on_an_older_template_are_a_rollout_in_progress() -> None:
    the_world = cluster().deployment(replicas=2).with_ready_pods(1)
    the_world.with_ready_pods(1, template_hash="0ld0000000")

    progressing = expect_condition(plan(the_world.obj()), "Progressing", "True", "RollingOut")

    assert progressing.message == "Rolling to the new pod template: 1 of 2 updated, canary passed"


@pytest.mark.parametrize(
    ("the_world", "reason", "words"),
    [
        pytest.param(
            cluster().deployment(replicas=2).with_ready_pods(2),
            reasons.AS_EXPECTED,
            "No replica is failing",
            id="healthy",
        ),
        pytest.param(
            cluster()
            .deployment(replicas=2)
            .with_ready_pods(1)
            .with_loading_pods(1, crash_looping=True),
            reasons.REPLICA_CRASH_LOOPING,
            "crash-loops (7 restarts)",
            id="crash loop",
        ),
        pytest.param(
            cluster()
            .deployment(replicas=1, **{"model.hfTokenSecretRef": {"name": "hf-token"}})
            .with_loading_pods(1, config_error='secret "hf-token" not found'),
            reasons.REPLICA_CONFIG_ERROR,
            'cannot start: secret "hf-token" not found (spec.model.hfTokenSecretRef names '
            "Secret hf-token, key token)",
            id="a missing token Secret",
        ),
        pytest.param(
            cluster()
            .deployment(replicas=1, **{"model.hfTokenSecretRef": {"name": "hf-token"}})
            .with_loading_pods(
                1, config_error="couldn't find key token in Secret default/hf-token"
            ),
            reasons.REPLICA_CONFIG_ERROR,
            "(spec.model.hfTokenSecretRef names key token of Secret hf-token)",
            id="a token Secret without the key",
        ),
        pytest.param(
            cluster().deployment(replicas=2).with_ready_pods(1).with_failed_pods(1),
            reasons.REPLICA_FAILED,
            "failed on node node-0",
            id="failed",
        ),
    ],
)
def test_degraded(the_world: World, reason: str, words: str) -> None:
    degraded = condition(plan(the_world.obj()), "Degraded")

    assert degraded.reason == reason
    assert degraded.status == ("False" if reason == reasons.AS_EXPECTED else "True")
    assert words in degraded.message


# --- lastTransitionTime and events ------------------------------------------------------


def test_last_transition_time_is_kept_while_a_conditions_status_holds() -> None:
    loading = cluster().deployment(replicas=2).with_loading_pods(2)
    first = plan(loading.obj())

    ready = cluster().deployment(replicas=2).with_ready_pods(2).after(first).later(300)
    second = plan(ready.obj())

    changed = timestamp(NOW.replace(minute=5))
    assert condition(first, "Available").last_transition_time == timestamp(NOW)
    assert condition(second, "Available").status == "True"
    assert condition(second, "Available").last_transition_time == changed
    assert condition(second, "Progressing").last_transition_time == changed
    assert condition(second, "Scheduled").last_transition_time == timestamp(NOW)
    assert condition(second, "Degraded").last_transition_time == timestamp(NOW)


def test_a_changed_message_keeps_the_transition_time_and_makes_no_event() -> None:
    starting = cluster().deployment(replicas=3).with_ready_pods(1).with_loading_pods(2)
    first = plan(starting.obj())

    further = cluster().deployment(replicas=3).with_ready_pods(2).with_loading_pods(1)
    second = plan(further.after(first).later(60).obj())

    before, after = condition(first, "Progressing"), condition(second, "Progressing")
    assert before.message != after.message
    assert after.last_transition_time == before.last_transition_time
    assert second.events == ()


def test_events_come_on_transitions_only() -> None:
    short = world().with_nodes(1, gpus=8).with_busy_gpus(4).deployment(replicas=2)
    first = plan(short.obj())
    assert event_reasons(first) == [reasons.CREATED, reasons.INSUFFICIENT_GPU]

    # The replica created by the first plan loads; the other still has no GPUs.
    still_short = (
        world()
        .with_nodes(1, gpus=8)
        .with_busy_gpus(4)
        .deployment(replicas=2)
        .with_loading_pods(1)
        .after(first)
        .later(30)
    )
    second = plan(still_short.obj())

    assert condition(second, "Scheduled").reason == reasons.INSUFFICIENT_GPU
    assert condition(second, "Scheduled").message != condition(first, "Scheduled").message
    assert second.events == ()


def test_a_first_plan_tells_where_replicas_go_but_not_that_none_is_ready_yet() -> None:
    result = plan(cluster().deployment(replicas=1).obj())

    assert event_reasons(result) == [reasons.CREATED, reasons.SCHEDULED_OK]
    (scheduled,) = [e for e in result.events if e.reason == reasons.SCHEDULED_OK]
    assert scheduled.message.startswith("Scheduled is True: TP 4 on NVIDIA-H100-80GB-HBM3: 70B")


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        pytest.param(
            cluster().deployment(replicas=1).with_loading_pods(1),
            cluster().deployment(replicas=1).with_ready_pods(1),
            [(reasons.REPLICAS_READY, "Normal")],
            id="becomes available",
        ),
        pytest.param(
            cluster().deployment(replicas=1).with_ready_pods(1),
            cluster().deployment(replicas=1).with_loading_pods(1),
            [(reasons.REPLICAS_NOT_READY, "Warning")],
            id="stops being available",
        ),
        pytest.param(
            cluster().deployment(replicas=1).with_ready_pods(1),
            cluster().deployment(replicas=1).with_loading_pods(1, crash_looping=True),
            [(reasons.REPLICAS_NOT_READY, "Warning"), (reasons.REPLICA_CRASH_LOOPING, "Warning")],
            id="starts crash-looping",
        ),
        pytest.param(
            cluster().deployment(replicas=1).with_ready_pods(1),
            cluster().deployment(replicas=1).with_ready_pods(1).with_failed_pods(1),
            [(reasons.REPLICA_FAILED, "Warning")],
            id="a failed replica: the deletion's event, not a second one for Degraded",
        ),
    ],
)
def test_transition_events(before: World, after: World, expected: list[tuple[str, str]]) -> None:
    first = plan(before.obj())

    second = plan(after.after(first).later(60).obj())

    assert [(e.reason, e.type) for e in second.events] == expected
