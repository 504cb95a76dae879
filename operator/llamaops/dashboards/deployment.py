"""The per-deployment dashboard (`llamaops-deployment`): one LlamaDeployment, picked by
namespace and name, from replicas and conditions down to its engines' latency, with the
autoscaler's decisions and rollouts marked on every time panel.
"""

from grafana_foundation_sdk.models import dashboard as model

from llamaops.dashboards import board, deployment_operator, deployment_serving
from llamaops.dashboards import queries as q

UID = "llamaops-deployment"


def _rows() -> list[board.Row]:
    return [
        board.Row(
            "Replicas and conditions",
            [
                deployment_operator.replicas(),
                deployment_operator.replicas_by_state(),
                deployment_operator.conditions(),
            ],
        ),
        board.Row(
            "Load",
            [
                deployment_serving.queue(),
                deployment_serving.kv_cache(),
                deployment_serving.requests(),
                deployment_serving.error_share(),
                deployment_serving.tokens(),
                deployment_serving.preemptions(),
            ],
        ),
        board.Row(
            "Latency",
            [
                deployment_serving.time_to_first_token(),
                deployment_serving.time_per_output_token(),
                deployment_serving.end_to_end_latency(),
                deployment_serving.queue_time(),
            ],
        ),
        board.Row(
            "Placement and autoscaling",
            [
                deployment_operator.placement(),
                deployment_operator.autoscaler(),
                deployment_operator.autoscaler_capped(),
            ],
        ),
        board.Row(
            "Rollout",
            [
                deployment_operator.rollout_state(),
                deployment_operator.rollout_progress(),
                deployment_operator.failed_checkpoints(),
                deployment_operator.rollout_step(),
            ],
        ),
    ]


def _annotations() -> list[board.PrometheusAnnotation]:
    return [
        board.PrometheusAnnotation(
            "Autoscaler decisions",
            q.autoscaler_decisions(q.THIS_DEPLOYMENT),
            title="Autoscaler asked for a new replica count",
            color="blue",
        ),
        board.PrometheusAnnotation(
            "Rollouts",
            q.rollouts_in_progress(q.THIS_DEPLOYMENT),
            title="Rollout in progress",
            color="purple",
        ),
        board.PrometheusAnnotation(
            "Halted rollouts",
            q.rollouts_halted(q.THIS_DEPLOYMENT),
            title="Rollout halted on a failed checkpoint",
            color="red",
        ),
    ]


def dashboard() -> model.Dashboard:
    built = board.new(
        UID,
        "llamaops / deployment",
        "One LlamaDeployment: replicas, conditions, load, latency, autoscaler and rollouts.",
    )
    built = built.with_variable(
        board.query_variable("namespace", "Namespace", "label_values(llamaops_replicas, namespace)")
    ).with_variable(
        board.query_variable(
            "deployment",
            "LlamaDeployment",
            'label_values(llamaops_replicas{namespace="$namespace"}, deployment)',
        )
    )
    for annotation in _annotations():
        built = built.annotation(annotation)
    return board.finished(board.with_rows(built, _rows()))
