"""Panels of one LlamaDeployment drawn from the operator's own series: replicas, conditions,
placement, the autoscaler and rollouts. Every query selects `THIS_DEPLOYMENT`.
"""

from grafana_foundation_sdk.builders import stat, statetimeline, timeseries
from grafana_foundation_sdk.models import dashboard as model

from llamaops.dashboards import queries as q
from llamaops.dashboards.panels import CONDITION_STATES as CONDITIONS
from llamaops.dashboards.panels import (
    COUNT,
    FULL_WIDTH,
    HALF_WIDTH,
    SECONDS,
    Query,
    State,
    flag_states,
    stat_panel,
    state_timeline,
    time_series,
    value_mappings,
)
from llamaops.reconcile import reasons

HERE = q.THIS_DEPLOYMENT
# Degraded reads the other way round; Progressing=True is ordinary work, not a fault.
DEGRADED_STATES = (
    State(q.CONDITION_TRUE, "True", "red"),
    State(q.CONDITION_FALSE, "False", "green"),
    State(q.CONDITION_UNKNOWN, "Unknown", "text"),
)
PROGRESSING_STATES = (
    State(q.CONDITION_TRUE, "True", "blue"),
    State(q.CONDITION_FALSE, "False", "green"),
    State(q.CONDITION_UNKNOWN, "Unknown", "text"),
)
ROLLOUT_STATES = (
    State(0, "idle", "green"),
    State(1, "rolling out", "blue"),
    State(2, "halted", "red"),
)


def replicas() -> timeseries.Panel:
    return time_series(
        "Replicas: desired, ready, updated",
        "Desired is spec.replicas; ready replicas serve traffic; updated ones run the spec's "
        "pod template. Ready below desired for long: see the Conditions panel and "
        "`kubectl describe llamadeployment` (no GPU free, image pull, weights loading). "
        "Updated below desired outside a rollout: the rollout is halted or paused.",
        COUNT,
        Query(q.gauge("llamaops_deployment_desired_replicas", HERE), "desired"),
        Query(q.replicas(HERE, state='state="ready"'), "ready"),
        Query(q.gauge("llamaops_rollout_updated_replicas", HERE), "updated"),
    )


def replicas_by_state() -> timeseries.Panel:
    return time_series(
        "Replicas by state",
        "Replica pods by the operator's reading: pending (not scheduled), starting (loading "
        "weights), ready, draining (out of the Service, finishing requests), terminating. "
        "Pods pending for minutes mean no node has the GPUs: check Scheduled and the "
        "cluster's free GPUs. Starting for long: read the pod's vLLM log.",
        COUNT,
        Query(q.replicas(HERE, by=("state",)), "{{state}}"),
    )


def conditions() -> statetimeline.Panel:
    degraded = [model.DynamicConfigValue(id_val="mappings", value=value_mappings(DEGRADED_STATES))]
    progressing = value_mappings(PROGRESSING_STATES)
    return (
        state_timeline(
            "Conditions",
            "The LlamaDeployment's status conditions over time. Available=False: fewer "
            "replicas ready than required; Degraded=True: a replica crash-loops or failed; "
            "Scheduled=False: the replicas do not fit the free GPUs; Progressing=False with "
            "a rollout pending: blocked or paused. The reason is in "
            "`kubectl get llamadeployment -o yaml` (status.conditions) and in its events.",
            CONDITIONS,
            Query(q.condition_state(HERE, by=("condition",)), "{{condition}}"),
            width=FULL_WIDTH,
        )
        .override_by_name(reasons.DEGRADED, degraded)
        .override_by_name(
            reasons.PROGRESSING, [model.DynamicConfigValue(id_val="mappings", value=progressing)]
        )
    )


def placement() -> timeseries.Panel:
    return time_series(
        "GPUs allocated and tensor-parallel size",
        "GPUs held by this deployment's replica pods, and the GPUs each replica spans "
        "(tensor-parallel size). GPUs allocated should be replicas × tensor-parallel size; "
        "a jump in tensor-parallel size after a spec change means the model no longer fits "
        "fewer GPUs (bigger context, other GPU product).",
        COUNT,
        Query(q.gauge("llamaops_gpus_allocated", HERE), "GPUs allocated"),
        Query(q.gauge("llamaops_placement_tensor_parallel_size", HERE), "tensor-parallel size"),
    )


def autoscaler() -> timeseries.Panel:
    return time_series(
        "Autoscaler: desired replicas and queue depth",
        "The replicas the autoscaler's last decision asked for, and the queue it read "
        "(requests waiting per ready replica). A queue that stays high while desired "
        "replicas do not grow: the autoscaler is capped (next panel). Desired replicas that "
        "swing up and down: widen the scale-down window or the target queue depth.",
        COUNT,
        Query(q.gauge("llamaops_autoscaler_desired_replicas", HERE), "desired replicas"),
        Query(q.gauge("llamaops_autoscaler_queue_depth", HERE), "queue depth"),
    )


def autoscaler_capped() -> statetimeline.Panel:
    return state_timeline(
        "Autoscaler capped",
        "Whether a limit holds the autoscaler below what the load asks for: maxReplicas "
        "(raise spec.autoscaling.maxReplicas) or gpus (the cluster has no free GPUs for "
        "another replica: add nodes or lower another deployment's replicas). No band: "
        "autoscaling is off for this deployment.",
        flag_states("capped", "orange", "free"),
        Query(q.gauge("llamaops_autoscaler_capped", HERE, by=("limit",)), "{{limit}}"),
        width=FULL_WIDTH,
    )


def rollout_state() -> statetimeline.Panel:
    halted = q.gauge("llamaops_rollout_halted", HERE)
    in_progress = q.gauge("llamaops_rollout_in_progress", HERE)
    return state_timeline(
        "Rollout",
        "Idle, rolling out (replicas move to the spec's pod template) or halted (a new "
        "replica failed its checkpoint: crash loop, not ready in time, warm-up or canary). "
        "Halted: read status.checkpoint and the RolloutFailed event, fix the spec, and "
        "the rollout resumes on the next change.",
        ROLLOUT_STATES,
        Query(f"{halted} * 2 + {in_progress}", "rollout"),
        height=8,
    )


def rollout_progress() -> timeseries.Panel:
    return time_series(
        "Rollout progress: updated of desired replicas",
        "Replicas on the spec's pod template and checkpoint against those wanted. A line "
        "that stops short of desired during a rollout: the next step waits for a GPU "
        "(surge) or is paused; see the Rollout panel.",
        COUNT,
        Query(q.gauge("llamaops_rollout_updated_replicas", HERE), "updated"),
        Query(q.gauge("llamaops_deployment_desired_replicas", HERE), "desired"),
    )


def failed_checkpoints() -> stat.Panel:
    counter = q.series("llamaops_rollout_failed_checkpoints_total", HERE)
    failed = f"increase({counter}[{q.TIME_RANGE}])"
    return stat_panel(
        "Failed checkpoints in the time range",
        "Rollouts halted because a new replica failed. Above 0: open the Rollout panel at "
        "that time and the deployment's events; the old replicas kept serving.",
        COUNT,
        Query(q.aggregate("sum", failed), "failed checkpoints"),
        width=HALF_WIDTH,
        height=6,
    )


def rollout_step() -> stat.Panel:
    step = "llamaops_rollout_step_seconds"
    return stat_panel(
        "Rollout step duration in the time range",
        "From a rollout replica's creation until it passed its warm-up and joined the "
        "Service (p50, p95). Long steps make long rollouts: check image pull and weight "
        "loading times in the pod's events and vLLM log.",
        SECONDS,
        Query(q.quantile(0.5, step, HERE, window=q.TIME_RANGE), "p50"),
        Query(q.quantile(0.95, step, HERE, window=q.TIME_RANGE), "p95"),
        width=HALF_WIDTH,
        height=6,
    )
