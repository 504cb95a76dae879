"""The planner's replica steps: create the missing, replace the failed, drain the extras
least loaded first, delete the drained, one wave at a time.

Each row is a world (2 nodes of 8 H100-80GB unless it says otherwise, Llama 3.1 70B in
bfloat16 at 8K: TP 4) and the pod actions the planner takes in it, the world's pods named
by their index and new ones "new".
"""

import dataclasses

import pytest

from llamaops.reconcile import reasons
from llamaops.reconcile.plan_types import EnsureObject
from llamaops.reconcile.planner import plan
from llamaops.reconcile.rendering import replica_name, template_hash
from llamaops.reconcile.suffixes import random_suffixes, suffixes_at
from tests.unit.reconcile.world import (
    H100,
    NAME,
    NOW,
    World,
    created_pods,
    ensured_kinds,
    expect_condition,
    pod_actions,
    steps,
    verbs,
    world,
)


def cluster() -> World:
    return world().with_nodes(2, gpus=8)


STEP_TABLE = [
    pytest.param(cluster().deployment(replicas=2), [("create", "new")] * 2, id="fresh: create 2"),
    pytest.param(
        cluster().deployment(replicas=2).with_ready_pods(2), [], id="as wanted: nothing to do"
    ),
    pytest.param(
        cluster().deployment(replicas=2).with_ready_pods(1),
        [("create", "new")],
        id="one missing: create one",
    ),
    pytest.param(
        cluster().deployment(replicas=2).with_ready_pods(1).with_loading_pods(1),
        [],
        id="a loading replica counts: nothing to do",
    ),
    pytest.param(
        cluster().deployment(replicas=2).with_ready_pods(2).with_pods(1, terminating=True),
        [],
        id="a terminating pod is neither counted nor touched",
    ),
    pytest.param(
        cluster().deployment(replicas=2).with_ready_pods(1).with_failed_pods(1),
        [("delete", 1), ("create", "new")],
        id="a failed pod is deleted and replaced",
    ),
    pytest.param(
        cluster().deployment(replicas=1).with_ready_pods(1).with_failed_pods(1),
        [("delete", 1)],
        id="a failed pod beyond spec.replicas is deleted, not replaced",
    ),
    pytest.param(
        cluster()
        .deployment(replicas=2)
        .with_ready_pods(1)
        .with_loading_pods(1, crash_looping=True),
        [],
        id="a crash-looping replica is the kubelet's to restart: kept",
    ),
    pytest.param(
        cluster().deployment(replicas=1).with_ready_pods(3, in_flight=[5, 0, 2]),
        [("drain", 1), ("drain", 2)],
        id="scale down: the least loaded drain",
    ),
    pytest.param(
        cluster().deployment(replicas=2).with_ready_pods(3, in_flight=[1, None, 3]),
        [("drain", 1)],
        id="scale down: an unknown load counts as none",
    ),
    pytest.param(
        cluster().deployment(replicas=2).with_ready_pods(2).with_loading_pods(1),
        [("drain", 2)],
        id="scale down: a replica still loading goes before ready ones",
    ),
    pytest.param(
        cluster().deployment(replicas=2).with_ready_pods(3, age=[300, 100, 200]),
        [("drain", 1)],
        id="scale down: the youngest of equally loaded replicas goes",
    ),
    pytest.param(
        cluster().deployment(replicas=0).with_ready_pods(2),
        [("drain", 0), ("drain", 1)],
        id="scale to zero drains every replica",
    ),
    pytest.param(
        cluster().deployment(replicas=1).with_ready_pods(1).with_pending_pods(1),
        [("delete", 1)],
        id="scale down: an unscheduled extra has nothing to drain: deleted at once",
    ),
    pytest.param(
        cluster().deployment(replicas=1).with_ready_pods(1).with_loading_pods(1, in_flight=3),
        [],
        id="scale down: a ready extra waits while the replica that stays loads",
    ),
    pytest.param(
        cluster().deployment(replicas=1).with_ready_pods(1).with_draining_pods(1, in_flight=0),
        [("delete", 1)],
        id="a drained replica (0 in flight) is deleted",
    ),
    pytest.param(
        cluster().deployment(replicas=1).with_ready_pods(1).with_draining_pods(1, in_flight=3),
        [],
        id="a replica with requests in flight keeps draining",
    ),
    pytest.param(
        cluster()
        .deployment(replicas=1)
        .with_ready_pods(1)
        .with_draining_pods(1, in_flight=3, draining_for=120),
        [("delete", 1)],
        id="at the drain timeout (120 s) a replica is deleted anyway",
    ),
    pytest.param(
        cluster()
        .deployment(replicas=1, **{"rollout.drainTimeoutSeconds": 30})
        .with_ready_pods(1)
        .with_draining_pods(1, in_flight=None, draining_for=45),
        [("delete", 1)],
        id="the drain timeout is the spec's; unreadable metrics wait for it",
    ),
    pytest.param(
        cluster()
        .deployment(replicas=1)
        .with_ready_pods(1)
        .with_draining_pods(1, ready=False, in_flight=None),
        [("delete", 1)],
        id="a draining replica that is not ready and has no metrics holds no request",
    ),
    pytest.param(
        cluster().deployment(replicas=3).with_ready_pods(1).with_draining_pods(1, in_flight=3),
        [],
        id="one wave at a time: no creation while a drain is in progress",
    ),
    pytest.param(
        cluster().deployment(replicas=3).with_ready_pods(1).with_draining_pods(1, in_flight=0),
        [("delete", 1), ("create", "new"), ("create", "new")],
        id="the drain that finishes lets the creations of the same plan go",
    ),
    pytest.param(
        cluster()
        .deployment(replicas=1)
        .with_ready_pods(1)
        .with_pods(1, serving=False, in_flight=2),
        [("drain", 1)],
        id="ready but out of the Service without a recorded start: the drain is restarted",
    ),
]


@pytest.mark.parametrize(("the_world", "expected"), STEP_TABLE)
def test_replica_steps(the_world: World, expected: list[tuple[str, int | str]]) -> None:
    assert steps(plan(the_world.obj()), the_world) == expected


def test_a_new_deployment_gets_tp4_replicas_a_service_and_a_budget() -> None:
    observed = cluster().deployment(replicas=2).without_children().obj()

    result = plan(observed)

    assert result.status.placement is not None
    template = template_hash(observed.deployment.spec, result.status.placement)
    suffixes = suffixes_at(NOW)
    names = [replica_name(NAME, template, next(suffixes)) for _ in range(2)]
    assert pod_actions(result) == [("create", name) for name in names]
    for pod in created_pods(result):
        args = pod["spec"]["containers"][0]["args"]
        assert args[args.index("--tensor-parallel-size") + 1] == "4"
        assert pod["spec"]["nodeSelector"]["nvidia.com/gpu.product"] == H100
    assert ensured_kinds(result) == ["Service", "PodDisruptionBudget"]
    assert [e.message for e in result.events if e.reason == reasons.CREATED] == [
        f"Created Service {NAME}",
        f"Created PodDisruptionBudget {NAME}",
        f"Created Pod {names[0]} (TP 4 on {H100})",
        f"Created Pod {names[1]} (TP 4 on {H100})",
    ]
    assert result.requeue_after is not None


def test_suffixes_name_the_new_pods() -> None:
    observed = cluster().deployment(replicas=2).obj()

    result = plan(observed, iter(["aaaaa", "bbbbb"]))

    assert [name[-5:] for _, name in pod_actions(result)] == ["aaaaa", "bbbbb"]


def test_a_suffix_that_names_an_existing_pod_is_skipped() -> None:
    the_world = cluster().deployment(replicas=2).with_ready_pods(1)
    taken = the_world.name_of(0)[-5:]

    result = plan(the_world.obj(), iter([taken, "bbbbb"]))

    assert [name[-5:] for _, name in pod_actions(result)] == ["bbbbb"]


def test_the_same_world_gives_the_same_plan() -> None:
    observed = cluster().deployment(replicas=3).with_ready_pods(1).obj()

    assert plan(observed) == plan(observed)


def test_a_world_that_matches_the_spec_plans_no_pod_action_and_no_event() -> None:
    the_world = cluster().deployment(replicas=2).with_ready_pods(2)
    first = plan(the_world.obj())

    again = plan(the_world.after(first).later(60).obj())

    assert pod_actions(again) == []
    assert again.status == first.status
    assert again.events == ()
    assert again.requeue_after is None
    assert ensured_kinds(again) == [], "a Service or budget as rendered is not written again"


def test_a_service_that_drifted_from_its_rendering_is_updated_and_only_it() -> None:
    observed = cluster().deployment(replicas=2).with_ready_pods(2).obj()
    assert observed.service is not None
    del observed.service["spec"]["selector"]["serving.llamaops.io/serving"]
    observed.service["metadata"]["labels"]["team"] = "added by someone"

    result = plan(observed)

    (ensure,) = [a for a in result.actions if isinstance(a, EnsureObject)]
    assert (ensure.manifest["kind"], ensure.exists) == ("Service", True)
    assert "differs from what the spec renders" in ensure.reason
    assert not [e for e in result.events if e.reason == reasons.CREATED]


@pytest.mark.parametrize(
    ("the_world", "reason", "words"),
    [
        pytest.param(
            cluster().deployment(replicas=1).with_ready_pods(2, in_flight=[4, 0]),
            reasons.DRAIN_STARTED,
            "(0 requests in flight): scaled down to 1 replica",
            id="drain started",
        ),
        pytest.param(
            cluster().deployment(replicas=1).with_ready_pods(1).with_draining_pods(1, in_flight=0),
            reasons.DRAINED,
            "drained after 30 s, no request in flight",
            id="drained",
        ),
        pytest.param(
            cluster()
            .deployment(replicas=1)
            .with_ready_pods(1)
            .with_draining_pods(1, in_flight=2, draining_for=200),
            reasons.DRAIN_TIMED_OUT,
            "drain timed out after 120 s with 2 requests in flight",
            id="drain timed out",
        ),
        pytest.param(
            cluster().deployment(replicas=1).with_ready_pods(1).with_failed_pods(1),
            reasons.REPLICA_FAILED,
            "it failed on node node-0",
            id="failed",
        ),
    ],
)
def test_each_pod_action_has_an_event_naming_the_pod(
    the_world: World, reason: str, words: str
) -> None:
    result = plan(the_world.obj())

    (event,) = [e for e in result.events if e.reason == reason]
    (name,) = [name for _, name in pod_actions(result)]
    assert name in event.message and words in event.message
    assert event.type == reasons.event_type(reason)


def test_drain_timed_out_and_replica_failed_are_warnings() -> None:
    assert reasons.event_type(reasons.DRAIN_TIMED_OUT) == "Warning"
    assert reasons.event_type(reasons.REPLICA_FAILED) == "Warning"
    assert reasons.event_type(reasons.CREATED) == "Normal"


@pytest.mark.parametrize(
    ("the_world", "requeue_after"),
    [
        pytest.param(cluster().deployment(replicas=2).with_ready_pods(2), None, id="steady"),
        pytest.param(
            world().with_nodes(1, gpus=4).deployment(replicas=2).with_ready_pods(1),
            30.0,
            id="waiting for GPUs",
        ),
        pytest.param(cluster().deployment(replicas=2), 10.0, id="creating"),
        pytest.param(
            cluster().deployment(replicas=2).with_ready_pods(1).with_loading_pods(1),
            10.0,
            id="loading",
        ),
        pytest.param(cluster().deployment(replicas=1).with_ready_pods(2), 5.0, id="drain started"),
        pytest.param(
            cluster().deployment(replicas=1).with_ready_pods(1).with_draining_pods(1, in_flight=2),
            5.0,
            id="draining",
        ),
    ],
)
def test_the_plan_asks_to_look_again_while_drains_or_loads_go_on(
    the_world: World, requeue_after: float | None
) -> None:
    assert plan(the_world.obj()).requeue_after == requeue_after


def test_scaling_down_and_drains_show_in_progressing() -> None:
    result = plan(cluster().deployment(replicas=1).with_ready_pods(3).obj())

    progressing = expect_condition(result, "Progressing", "True", reasons.SCALING_DOWN)
    assert progressing.message == "Removing 2 replicas to reach 1"


def test_creations_held_for_drains_show_in_progressing() -> None:
    the_world = (
        cluster().deployment(replicas=3).with_ready_pods(1).with_draining_pods(1, in_flight=3)
    )

    result = plan(the_world.obj())

    progressing = expect_condition(result, "Progressing", "True", reasons.SCALING_DOWN)
    assert (
        progressing.message == "Removing 1 replica to reach 3; 2 to create once the drains finish"
    )


def test_created_pods_carry_the_labels_status_counts_as_updated() -> None:
    first = plan(cluster().deployment(replicas=1).obj())
    (created,) = created_pods(first)
    labels = created["metadata"]["labels"]

    running = cluster().deployment(replicas=1).with_ready_pods(1).obj()
    (pod,) = running.pods

    assert labels["serving.llamaops.io/template-hash"] == pod.template_hash
    assert labels["serving.llamaops.io/checkpoint"] == pod.checkpoint
    assert labels["serving.llamaops.io/serving"] == "true"
    assert plan(running).status.updated_replicas == 1


def test_random_suffixes_look_like_the_api_servers() -> None:
    suffixes = random_suffixes()
    drawn = {next(suffixes) for _ in range(50)}

    assert len(drawn) > 40
    assert all(len(s) == 5 and set(s) <= set("bcdfghjklmnpqrstvwxz2456789") for s in drawn)


def test_a_missing_token_secret_is_noted() -> None:
    the_world = cluster().deployment(replicas=1, **{"model.hfTokenSecretRef": {"name": "hf"}})
    observed = dataclasses.replace(the_world.obj(), hf_secret_found=False)

    result = plan(observed)

    assert result.notes == ("Secret hf (spec.model.hfTokenSecretRef) was not found",)
    assert verbs(result) == ["create"]
