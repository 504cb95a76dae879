"""The operator's own Prometheus metrics (prefix `llamaops_`)."""

import contextlib

from prometheus_client import Counter, Gauge, Histogram

RECONCILES = Counter(
    "llamaops_reconciles_total", "Reconciles of LlamaDeployments, by result", ["result"]
)
RECONCILE_SECONDS = Histogram(
    "llamaops_reconcile_duration_seconds",
    "Time one reconcile takes",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
API_ERRORS = Counter("llamaops_api_errors_total", "Failed API calls", ["verb", "code"])
REPLICAS = Gauge("llamaops_replicas", "Replica pods by state", ["namespace", "deployment", "state"])
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
    "1 while the autoscaler is held below what the load asks for (free GPUs or maxReplicas)",
    ["namespace", "deployment"],
)


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
    for gauge in (AUTOSCALER_DESIRED, AUTOSCALER_QUEUE, AUTOSCALER_CAPPED):
        with contextlib.suppress(KeyError):
            gauge.remove(namespace, deployment)
    for direction in ("up", "down"):
        with contextlib.suppress(KeyError):
            AUTOSCALER_SCALE_EVENTS.remove(namespace, deployment, direction)


def api_error(verb: str, code: str) -> None:
    API_ERRORS.labels(verb=verb, code=code).inc()
