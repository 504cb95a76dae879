"""The operator's own Prometheus metrics (prefix `llamaops_`)."""

import contextlib

from prometheus_client import Counter, Gauge, Histogram

from llamaops.reconcile import reasons

RECONCILES = Counter(
    "llamaops_reconciles_total", "Reconciles of LlamaDeployments, by result", ["result"]
)
for _result in ("ok", "error"):  # both from the start: an error share reads 0, not no data
    RECONCILES.labels(result=_result)
RECONCILE_SECONDS = Histogram(
    "llamaops_reconcile_duration_seconds",
    "Time one reconcile takes",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
API_ERRORS = Counter("llamaops_api_errors_total", "Failed API calls", ["verb", "code"])
REPLICAS = Gauge("llamaops_replicas", "Replica pods by state", ["namespace", "deployment", "state"])
REPLICA_STATES = ("ready", "starting", "pending", "draining", "terminating")
DESIRED = Gauge(
    "llamaops_deployment_desired_replicas",
    "Replicas wanted (spec.replicas)",
    ["namespace", "deployment"],
)
# As kube-state-metrics does for Deployments: a series per condition and status, 1 for the
# condition's current status and 0 for the others, so `== 1` selects the present state.
CONDITION = Gauge(
    "llamaops_deployment_condition",
    "Each condition of a LlamaDeployment: 1 for its current status, 0 for the others",
    ["namespace", "deployment", "condition", "status"],
)
CONDITION_STATUSES = ("True", "False", "Unknown")
TENSOR_PARALLEL = Gauge(
    "llamaops_placement_tensor_parallel_size",
    "Tensor-parallel size of each replica",
    ["namespace", "deployment"],
)
GPUS_ALLOCATED = Gauge(
    "llamaops_gpus_allocated",
    "GPUs held by a deployment's replica pods",
    ["namespace", "deployment"],
)

AUTOSCALER_DESIRED = Gauge(
    "llamaops_autoscaler_desired_replicas",
    "Replicas the autoscaler's last decision asked for",
    ["namespace", "deployment"],
)
AUTOSCALER_QUEUE = Gauge(
    "llamaops_autoscaler_queue_depth",
    "Requests waiting over the ready replicas, at the last decision",
    ["namespace", "deployment"],
)
AUTOSCALER_SCALE_EVENTS = Counter(
    "llamaops_autoscaler_scale_events_total",
    "Changes of spec.replicas made by the autoscaler",
    ["namespace", "deployment", "direction"],
)
AUTOSCALER_CAPPED = Gauge(
    "llamaops_autoscaler_capped",
    "1 while the autoscaler is held below what the load asks for, by this limit "
    "(maxReplicas or gpus); 0 for the limit not holding it",
    ["namespace", "deployment", "limit"],
)
CAP_LIMITS = ("maxReplicas", "gpus")


ROLLOUT_IN_PROGRESS = Gauge(
    "llamaops_rollout_in_progress",
    "1 while replicas move to the spec's pod template (not while halted, blocked or paused)",
    ["namespace", "deployment"],
)
ROLLOUT_UPDATED = Gauge(
    "llamaops_rollout_updated_replicas",
    "Replicas on the spec's pod template and checkpoint",
    ["namespace", "deployment"],
)
ROLLOUT_HALTED = Gauge(
    "llamaops_rollout_halted",
    "1 while a rollout is halted on a failed checkpoint (status.checkpoint.failed)",
    ["namespace", "deployment"],
)
ROLLOUT_FAILED = Counter(
    "llamaops_rollout_failed_checkpoints_total",
    "Rollouts halted because a new replica failed (crash loop, not ready in time, warm-up)",
    ["namespace", "deployment"],
)
ROLLOUT_STEP = Histogram(
    "llamaops_rollout_step_seconds",
    "From a rollout replica's creation until it passed its warm-up and joined the Service",
    ["namespace", "deployment"],
    buckets=(10, 30, 60, 120, 300, 600, 1200, 1800, 3600),
)


def forget_autoscaler(namespace: str, deployment: str) -> None:
    """Drop a deployment's autoscaler series: it is deleted, or autoscaling was turned off."""
    for gauge in (AUTOSCALER_DESIRED, AUTOSCALER_QUEUE):
        with contextlib.suppress(KeyError):
            gauge.remove(namespace, deployment)
    for limit in CAP_LIMITS:
        with contextlib.suppress(KeyError):
            AUTOSCALER_CAPPED.remove(namespace, deployment, limit)
    for direction in ("up", "down"):
        with contextlib.suppress(KeyError):
            AUTOSCALER_SCALE_EVENTS.remove(namespace, deployment, direction)


def forget_deployment(namespace: str, deployment: str) -> None:
    """Drop every series of a deleted deployment, so that no alert fires for it after."""
    forget_autoscaler(namespace, deployment)
    per_deployment = (DESIRED, TENSOR_PARALLEL, GPUS_ALLOCATED, ROLLOUT_HALTED)
    for gauge in (*per_deployment, ROLLOUT_IN_PROGRESS, ROLLOUT_UPDATED):
        with contextlib.suppress(KeyError):
            gauge.remove(namespace, deployment)
    for state in REPLICA_STATES:
        with contextlib.suppress(KeyError):
            REPLICAS.remove(namespace, deployment, state)
    for condition in reasons.CONDITION_TYPES:
        for status in CONDITION_STATUSES:
            with contextlib.suppress(KeyError):
                CONDITION.remove(namespace, deployment, condition, status)


def api_error(verb: str, code: str) -> None:
    API_ERRORS.labels(verb=verb, code=code).inc()
