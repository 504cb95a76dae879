"""The planner during a rollout: pods on an older template are replaced through a warmed-up
canary, a failing template halts and is remembered, and a rollout with no room says so."""

from llamaops.api.status import CheckpointStatus, FailedCheckpoint, LlamaDeploymentStatus
from llamaops.reconcile import reasons
from llamaops.reconcile.canary import Baseline
from llamaops.reconcile.engine_stats import EngineStats
from llamaops.reconcile.plan_types import AnnotatePod, WarmUp
from llamaops.reconcile.planner import plan
from llamaops.reconcile.rendering import template_hash
from tests.unit.reconcile.stats_builders import served
from tests.unit.reconcile.world import (
    World,
    created_pods,
    event_reasons,
    expect_condition,
    steps,
    world,
)

OLD = "0ld0000000"


def on_old_template(replicas: int = 2, nodes: int = 2) -> World:
    return (
        world()
        .with_nodes(nodes, gpus=8)
        .deployment(replicas=replicas)
        .with_ready_pods(replicas, template_hash=OLD, in_flight=list(range(replicas, 0, -1)))
    )


def test_a_rollout_starts_with_one_canary_kept_out_of_the_service_until_it_warms_up() -> None:
    the_world = on_old_template()

    decided = plan(the_world.obj())

    assert steps(decided, the_world) == [("create", "new")]
    (canary,) = created_pods(decided)
    assert canary["metadata"]["labels"]["serving.llamaops.io/serving"] == "false"
    assert canary["metadata"]["annotations"]["serving.llamaops.io/warmup"] == "pending"
    progressing = expect_condition(decided, "Progressing", "True", reasons.ROLLING_OUT)
    assert (
        progressing.message == "Rolling to the new pod template: 0 of 2 updated, canary warming up"
    )


def test_a_ready_canary_gets_its_warm_up_completion_and_no_old_replica_drains_yet() -> None:
    the_world = on_old_template().with_ready_pods(1, serving=False, warmup="pending")

    decided = plan(the_world.obj())

    warmups = [a for a in decided.actions if isinstance(a, WarmUp)]
    assert [w.model for w in warmups] == ["llama3.1-70b-instruct"]
    assert warmups[0].pod == the_world.obj().pods[2].name and warmups[0].ip
    assert steps(decided, the_world) == []


def test_once_the_canary_serves_the_least_loaded_old_replica_drains() -> None:
    the_world = on_old_template().with_ready_pods(1, warmup="passed")

    decided = plan(the_world.obj())

    assert steps(decided, the_world) == [("drain", 1)]  # in flight 2 and 1: the second
    progressing = expect_condition(decided, "Progressing", "True", reasons.ROLLING_OUT)
    assert progressing.message.endswith("1 of 2 updated, canary passed")


def test_a_canary_that_fails_its_warm_up_halts_the_rollout_and_is_recorded() -> None:
    the_world = on_old_template().with_ready_pods(1, serving=False, warmup="failed: HTTP 500")

    decided = plan(the_world.obj())

    assert steps(decided, the_world) == [("delete", 2)]
    failed = decided.status.checkpoint.failed if decided.status.checkpoint else None
    assert failed is not None and failed.reason == reasons.WARMUP_FAILED
    assert "failed its warm-up completion: HTTP 500" in failed.message
    assert reasons.ROLLOUT_FAILED in event_reasons(decided)
    expect_condition(decided, "Progressing", "False", reasons.WARMUP_FAILED)


def test_a_failed_template_is_not_tried_again_until_the_spec_changes() -> None:
    the_world = on_old_template()
    halted = the_world.with_status(_failed(the_world))

    again = plan(halted.obj())

    assert steps(again, halted) == [], "no new canary for the failed template"
    progressing = expect_condition(again, "Progressing", "False", reasons.WARMUP_FAILED)
    assert "halted" in progressing.message and "2 replicas stay" in progressing.message
    changed = halted.deployment(**{"engine.extraArgs": ["--max-num-seqs", "64"]})
    assert steps(plan(changed.obj()), changed) == [("create", "new")], "a spec change resumes"


def test_no_room_for_a_surge_replica_and_none_may_go_is_rollout_blocked() -> None:
    the_world = on_old_template(replicas=4, nodes=2)  # 4 TP-4 replicas fill 2 × 8 GPUs

    decided = plan(the_world.obj())

    assert steps(decided, the_world) == []
    progressing = expect_condition(decided, "Progressing", "False", reasons.ROLLOUT_BLOCKED)
    assert "a surge replica needs 4 free" in progressing.message
    assert (
        "set rollout.maxUnavailable to 1 to replace in place, or free GPUs" in progressing.message
    )


def test_no_room_with_max_unavailable_1_replaces_in_place() -> None:
    the_world = on_old_template(replicas=4, nodes=2).deployment(**{"rollout.maxUnavailable": 1})

    decided = plan(the_world.obj())

    assert steps(decided, the_world) == [("drain", 3)]  # the least loaded (1 in flight)


def _failed(the_world: World) -> LlamaDeploymentStatus:
    """The status a reconcile left after the spec's template failed its warm-up."""
    status = plan(the_world.obj()).status
    assert status.placement is not None
    failed = FailedCheckpoint(
        template_hash=template_hash(the_world.obj().deployment.spec, status.placement),
        reason=reasons.WARMUP_FAILED,
        message="Pod x failed its warm-up completion: HTTP 500",
        time="2025-05-01T11:59:00Z",
    )
    return status.model_copy(update={"checkpoint": CheckpointStatus(failed=failed)})


def test_the_restart_annotation_rolls_every_replica() -> None:
    the_world = world().with_nodes(2, gpus=8).deployment(replicas=2).with_ready_pods(2)
    assert steps(plan(the_world.obj()), the_world) == []

    the_world.annotated("serving.llamaops.io/restartedAt", "2026-12-04T20:00:00Z")
    decided = plan(the_world.obj())

    assert steps(decided, the_world) == [("create", "new")]
    expect_condition(decided, "Progressing", "True", reasons.ROLLING_OUT)


def test_a_completed_rollout_remembers_the_checkpoint_before_it() -> None:
    a = {"uri": "hf://meta-llama/Llama-3.1-70B-Instruct", "revision": "a1"}
    b = {**a, "revision": "b2"}
    on_a = world().with_nodes(2, gpus=8).deployment(replicas=2, **{"model.checkpoint": a})
    settled_on_a = plan(on_a.with_ready_pods(2).obj()).status

    rolling = (
        world()
        .with_nodes(2, gpus=8)
        .deployment(replicas=2, **{"model.checkpoint": b})
        .with_status(settled_on_a)
        .with_ready_pods(2, template_hash=OLD)
    )
    midway = plan(rolling.obj()).status
    done = plan(
        world()
        .with_nodes(2, gpus=8)
        .deployment(replicas=2, **{"model.checkpoint": b})
        .with_status(midway)
        .with_ready_pods(2)
        .obj()
    ).status

    assert settled_on_a.checkpoint and settled_on_a.checkpoint.rolled_out
    assert settled_on_a.checkpoint.rolled_out.revision == "a1"
    assert midway.checkpoint and midway.checkpoint.rolled_out
    assert midway.checkpoint.rolled_out.revision == "a1", "not yet: the rollout runs"
    assert done.checkpoint and done.checkpoint.rolled_out and done.checkpoint.previous
    assert (done.checkpoint.rolled_out.revision, done.checkpoint.previous.revision) == ("b2", "a1")


# --- canary analysis (rollout.canary.analysisSeconds > 0) --------------------------------


def analysed(canary: dict[str, object], **limits: object) -> World:
    """2 old replicas that served 100 requests each at 0.2 s TTFT; a serving canary."""
    limits = {"rollout.canary.analysisSeconds": 60, **limits}
    the_world = (
        world()
        .with_nodes(2, gpus=8)
        .deployment(replicas=2, **limits)
        .with_ready_pods(2, template_hash=OLD, in_flight=[2, 1], stats=served(100))
    )
    return the_world.with_ready_pods(1, warmup="passed", **canary)


def window_from(old: EngineStats, canary: EngineStats | None = None) -> str:
    """The baseline annotation: both sides' counts when the analysis began."""
    return Baseline(old, canary or EngineStats()).to_text()


def test_the_analysis_begins_by_keeping_both_sides_counts_on_the_canary() -> None:
    warm_up = served(1, ttft=2.0)  # a freshly loaded engine's first completion
    the_world = analysed({"serving_for": 1, "stats": warm_up})

    decided = plan(the_world.obj())

    (note,) = [a for a in decided.actions if isinstance(a, AnnotatePod)]
    kept = Baseline.from_text(note.annotations["serving.llamaops.io/canary-baseline"])
    assert (kept.old.finished, kept.canary) == (200, warm_up)
    assert steps(decided, the_world) == [], "no old replica goes during the analysis"


def test_the_canarys_slow_warm_up_is_not_judged() -> None:
    """Found on the real vLLM: a fresh engine's warm-up completion was its slowest request,
    and with few requests in the window it set the canary's p90 (1.75 s against 235 ms).
    Here it would be the second slow one of 11, and set the p90; of the 10 real requests
    only one is slow, outside the p90."""
    warm_up = served(1, ttft=2.0)
    baseline = window_from(served(50) + served(50), warm_up)
    real = served(9) + served(1, ttft=2.0)
    canary = {"serving_for": 70, "stats": warm_up + real, "baseline": baseline}
    the_world = analysed(canary, **{"rollout.canary.minRequests": 3})

    decided = plan(the_world.obj())

    assert reasons.CANARY_PASSED in event_reasons(decided)
    assert steps(decided, the_world) == [("drain", 1)]


def test_during_the_window_nothing_moves_and_progressing_says_how_far_it_is() -> None:
    baseline = window_from(served(100) + served(100))
    the_world = analysed({"serving_for": 30, "stats": served(25), "baseline": baseline})

    decided = plan(the_world.obj())

    assert steps(decided, the_world) == []
    progressing = expect_condition(decided, "Progressing", "True", reasons.ROLLING_OUT)
    assert "canary analysis: 30 of 60 s, 25 of 20 requests" in progressing.message
    assert decided.requeue_after is not None and decided.requeue_after <= 5


def test_a_canary_as_good_as_the_old_replicas_passes_and_the_rollout_goes_on() -> None:
    baseline = window_from(served(50) + served(50))  # the old ones served 100 more since
    the_world = analysed({"serving_for": 70, "stats": served(40), "baseline": baseline})

    decided = plan(the_world.obj())

    assert reasons.CANARY_PASSED in event_reasons(decided)
    assert steps(decided, the_world) == [("drain", 1)]


def test_a_slower_canary_regresses_and_halts_the_rollout() -> None:
    baseline = window_from(served(50) + served(50))
    slow = served(40, ttft=2.0)
    the_world = analysed({"serving_for": 70, "stats": slow, "baseline": baseline})

    decided = plan(the_world.obj())

    assert steps(decided, the_world) == [("delete", 2)]
    failed = decided.status.checkpoint.failed if decided.status.checkpoint else None
    assert failed is not None and failed.reason == reasons.CANARY_REGRESSED
    assert "canary TTFT p90" in failed.message and "against" in failed.message
    expect_condition(decided, "Progressing", "False", reasons.CANARY_REGRESSED)


# --- a failure after the canary passed: roll back (rollout.autoRollback) -----------------

A = {"uri": "hf://meta-llama/Llama-3.1-70B-Instruct", "revision": "a1"}
B = {**A, "revision": "b2"}


def after_the_canary(status: LlamaDeploymentStatus | None = None, looping: int = 1) -> World:
    """Rolling A -> B, 2 replicas: one still on A, one on B serving, `looping` on B
    crash-looping."""
    on_a = world().with_nodes(2, gpus=8).deployment(replicas=2, **{"model.checkpoint": A})
    settled = plan(on_a.with_ready_pods(2).obj()).status
    assert settled.placement is not None
    a_template = template_hash(on_a.obj().deployment.spec, settled.placement)
    return (
        world()
        .with_nodes(2, gpus=8)
        .deployment(replicas=2, **{"model.checkpoint": B})
        .with_status(status or settled)
        .with_ready_pods(1, template_hash=a_template)
        .with_ready_pods(1, warmup="passed")
        .with_loading_pods(looping, crash_looping=True, warmup="pending", serving=False)
    )


def test_a_failure_after_the_canary_passed_keeps_the_serving_replicas_to_roll_them_back() -> None:
    the_world = after_the_canary()

    decided = plan(the_world.obj())

    assert steps(decided, the_world) == [("delete", 2)], "only the crash-looping one goes now"
    failed = decided.status.checkpoint.failed if decided.status.checkpoint else None
    assert failed is not None and failed.reason == reasons.REPLICA_CRASH_LOOPING
    progressing = expect_condition(decided, "Progressing", "False", reasons.REPLICA_CRASH_LOOPING)
    assert "rolling 1 replica back to rev a1" in progressing.message


def test_the_roll_back_replaces_them_on_the_last_good_checkpoint_new_one_first() -> None:
    failed_now = plan(after_the_canary().obj()).status
    the_world = after_the_canary(failed_now, looping=0)  # deleted by the reconcile before

    decided = plan(the_world.obj())

    assert ("create", "new") in steps(decided, the_world)
    assert not [s for s in steps(decided, the_world) if s[0] == "drain"], "not before it serves"
    (created,) = created_pods(decided)
    assert "--revision" in created["spec"]["containers"][0]["args"]
    assert "a1" in created["spec"]["containers"][0]["args"]


def test_without_auto_rollback_the_failed_template_goes_at_once() -> None:
    status = after_the_canary().deployment(**{"rollout.autoRollback": False})
    decided = plan(status.obj())

    assert sorted(steps(decided, status)) == [("delete", 1), ("delete", 2)]


def test_the_roll_back_drains_the_failed_checkpoints_replica_as_a_roll_back() -> None:
    failed_now = plan(after_the_canary().obj()).status
    on_a = world().with_nodes(2, gpus=8).deployment(replicas=2, **{"model.checkpoint": A})
    assert failed_now.placement is not None
    a_template = template_hash(on_a.obj().deployment.spec, failed_now.placement)
    the_world = after_the_canary(failed_now, looping=0).with_ready_pods(
        1, template_hash=a_template, warmup="passed"
    )

    decided = plan(the_world.obj())

    assert steps(decided, the_world) == [("drain", 1)], "B's replica, now that A's serve"
    (drain,) = [e.message for e in decided.events if e.reason == reasons.DRAIN_STARTED]
    assert drain.endswith("in flight): rolled back to rev a1"), drain
