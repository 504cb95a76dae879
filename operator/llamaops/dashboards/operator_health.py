"""The operator's own health (`llamaops-operator`): is it scraped, does it reconcile, how
fast, does the Kubernetes API refuse it, and what its process costs. Every query selects
`job="llamaops"`.
"""

from grafana_foundation_sdk.builders import statetimeline, timeseries
from grafana_foundation_sdk.models import dashboard as model

from llamaops.dashboards import board
from llamaops.dashboards import queries as q
from llamaops.dashboards.panels import (
    BYTES,
    COUNT,
    OPERATIONS_PER_SECOND,
    RATIO,
    THIRD_WIDTH,
    Query,
    State,
    quantiles,
    state_timeline,
    time_series,
)

UID = "llamaops-operator"
JOB = q.OPERATOR_JOB
INSTANCE = "{{instance}}"


def up() -> statetimeline.Panel:
    return state_timeline(
        "Operator scraped",
        "Whether Prometheus reaches each operator pod's metrics endpoint. Down: the pod "
        "is not running or not ready (`kubectl get pods -l app.kubernetes.io/name=llamaops`), "
        "or the scrape configuration lost it. No band at all: nothing is scraped as "
        'job="llamaops".',
        (State(1, "up", "green"), State(0, "down", "red")),
        Query(q.series("up", JOB), INSTANCE),
        height=8,
    )


def reconciles() -> timeseries.Panel:
    return time_series(
        "Reconciles per second by result",
        "LlamaDeployment reconciles per second, ok and error. None at all while "
        "deployments exist: the operator is stuck or lost its watch; read its log. Errors: "
        "see the API errors panel and the log.",
        OPERATIONS_PER_SECOND,
        Query(q.reconciles_per_second(by=("result",)), "{{result}}"),
    )


def reconcile_errors() -> timeseries.Panel:
    return time_series(
        "Reconcile error share",
        "Failed reconciles over all. kopf retries them, so a short spike is harmless; a "
        "lasting share means a deployment cannot be acted on: the log names it and the "
        "error, often an API refusal (RBAC, admission webhook, quota).",
        RATIO,
        Query(q.reconcile_error_share(), "errors"),
    ).max(1)


def reconcile_duration() -> timeseries.Panel:
    return quantiles(
        "Reconcile duration",
        "How long one reconcile takes (p50, p99). A p99 of seconds means slow API calls "
        "(a loaded API server, throttling): compare with API errors and the operator's "
        "CPU.",
        "llamaops_reconcile_duration_seconds",
        JOB,
        levels=(0.5, 0.99),
    )


def api_errors() -> timeseries.Panel:
    return time_series(
        "Kubernetes API errors per second by verb and code",
        "Failed API calls by verb and HTTP code. 403: the operator's RBAC lacks a verb; "
        "409: conflicting writes (retried, harmless when rare); 422: an object the API "
        "refuses (a bug: report it with the log); 429/5xx: the API server is overloaded.",
        OPERATIONS_PER_SECOND,
        Query(q.api_errors_per_second(), "{{verb}} {{code}}"),
        width=THIRD_WIDTH,
    )


def memory() -> timeseries.Panel:
    return time_series(
        "Operator memory (RSS)",
        "Resident memory of each operator process. Steady growth that never levels off is "
        "a leak: note the version and restart the pod; near the pod's memory limit it "
        "will be OOM-killed.",
        BYTES,
        Query(q.series("process_resident_memory_bytes", JOB), INSTANCE),
        width=THIRD_WIDTH,
    )


def cpu() -> timeseries.Panel:
    return time_series(
        "Operator CPU",
        "CPU cores each operator process uses. Pinned at its CPU limit: reconciles slow "
        "down (see Reconcile duration); raise the limit or look for a deployment that "
        "reconciles in a loop (Reconciles per second).",
        COUNT,
        Query(f"rate({q.series('process_cpu_seconds_total', JOB)}[{q.RATE_WINDOW}])", INSTANCE),
        axis_label="CPU cores",
        width=THIRD_WIDTH,
    )


def dashboard() -> model.Dashboard:
    built = board.new(
        UID,
        "llamaops / operator",
        "The llamaops operator itself: scrapes, reconciles, API errors, memory and CPU.",
    )
    rows = [
        board.Row("Reconciling", [up(), reconciles(), reconcile_errors(), reconcile_duration()]),
        board.Row("Kubernetes API and process", [api_errors(), memory(), cpu()]),
    ]
    return board.finished(board.with_rows(built, rows))
