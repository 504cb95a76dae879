"""The fleet dashboard (`llamaops-fleet`): every LlamaDeployment at once. Totals first,
then a table with a row per deployment (each links to its own dashboard), then the same
figures per deployment over time.
"""

from grafana_foundation_sdk.builders import stat, table, timeseries
from grafana_foundation_sdk.models import dashboard as model

from llamaops.dashboards import board
from llamaops.dashboards import queries as q
from llamaops.dashboards.panels import (
    CONDITION_STATES,
    COUNT,
    RATIO,
    REQUESTS_PER_SECOND,
    SECONDS,
    THIRD_WIDTH,
    Query,
    flag_states,
    stat_panel,
    time_series,
)
from llamaops.dashboards.tables import Column, per_deployment

UID = "llamaops-fleet"
EACH = q.BY_DEPLOYMENT
NAMED = "{{namespace}}/{{deployment}}"


def totals() -> list[stat.Panel]:
    halted = q.count_of_flagged("llamaops_rollout_halted")
    capped = q.count_of_flagged("llamaops_autoscaler_capped")
    return [
        stat_panel(
            "Deployments by Available status",
            "LlamaDeployments whose Available condition is True, False or Unknown. Any "
            "False: open the table below to find which, then its own dashboard.",
            COUNT,
            Query(q.available_deployments_by_status(), "{{status}}"),
            width=6,
        ),
        stat_panel(
            "Replicas by state",
            "Replica pods of all deployments by state. Many pending: the cluster lacks free "
            "GPUs; many starting for long: weights load slowly or engines fail to start.",
            COUNT,
            Query(q.replicas(by=("state",)), "{{state}}"),
            width=6,
        ),
        stat_panel(
            "GPUs allocated",
            "GPUs held by all replica pods. Compare with the cluster's GPUs: near the total, "
            "autoscalers will be capped by gpus.",
            COUNT,
            Query(q.aggregate("sum", "llamaops_gpus_allocated"), "GPUs"),
        ),
        stat_panel(
            "Waiting requests",
            "Requests waiting in every engine's queue. Persistently above zero: some "
            "deployments need more replicas; the table shows which.",
            COUNT,
            Query(q.waiting(), "waiting"),
        ),
        stat_panel(
            "Requests per second",
            "Finished requests per second over all deployments. A sudden drop with no "
            "drop in traffic: engines are failing; check error share and Available.",
            REQUESTS_PER_SECOND,
            Query(q.requests_per_second(), "requests"),
        ),
        stat_panel(
            "Error share",
            "Aborted and errored requests over all finished ones, fleet-wide. Above a few "
            "percent: find the deployment in the table and read its dashboard.",
            RATIO,
            Query(q.error_share(), "aborted or errored"),
            width=THIRD_WIDTH,
        ),
        stat_panel(
            "Halted rollouts",
            "Deployments whose rollout halted on a failed checkpoint. Above 0: the table's "
            "Rollout halted column names them; read their status.checkpoint and events.",
            COUNT,
            Query(halted, "halted"),
            width=THIRD_WIDTH,
        ),
        stat_panel(
            "Capped autoscalers",
            "Deployments whose autoscaler is held below the load by maxReplicas or by free "
            "GPUs. Above 0: raise maxReplicas or add GPU nodes, or accept the queue.",
            COUNT,
            Query(capped, "capped"),
            width=THIRD_WIDTH,
        ),
    ]


def deployments_table() -> table.Panel:
    return per_deployment(
        "Deployments",
        "One row per LlamaDeployment, now. Sort by a column to find the one that stands "
        "out (not Available, a queue, errors, a slow TTFT, a full KV-cache, a halted "
        "rollout, a capped autoscaler); click a row to open its dashboard.",
        [
            Column(
                "Available",
                q.condition_state('condition="Available"', EACH),
                states=CONDITION_STATES,
            ),
            Column("Desired", q.gauge("llamaops_deployment_desired_replicas", by=EACH)),
            Column("Ready", q.replicas(by=EACH, state='state="ready"')),
            Column("Not ready", q.replicas(by=EACH, state='state!="ready"')),
            Column("GPUs", q.gauge("llamaops_gpus_allocated", by=EACH)),
            Column("Waiting", q.waiting(by=EACH)),
            Column("Requests/s", q.requests_per_second(by=EACH), REQUESTS_PER_SECOND),
            Column("Error share", q.error_share(by=EACH), RATIO),
            Column("TTFT p95", q.quantile(0.95, q.TTFT, by=EACH), SECONDS),
            Column("KV-cache max", q.kv_cache_usage_max(by=EACH), RATIO),
            Column(
                "Rollout halted",
                q.gauge("llamaops_rollout_halted", by=EACH),
                states=flag_states("halted", "red", "no"),
            ),
            Column(
                "Autoscaler capped",
                q.gauge("llamaops_autoscaler_capped", by=EACH),
                states=flag_states("capped", "orange", "no"),
            ),
        ],
    )


def over_time() -> list[timeseries.Panel]:
    return [
        time_series(
            "Waiting requests by deployment",
            "Requests waiting in each deployment's engines. One line climbing: that "
            "deployment needs replicas (is its autoscaler capped?).",
            COUNT,
            Query(q.waiting(by=EACH), NAMED),
        ),
        time_series(
            "Requests per second by deployment",
            "Finished requests per second per deployment: where the traffic goes.",
            REQUESTS_PER_SECOND,
            Query(q.requests_per_second(by=EACH), NAMED),
        ),
        time_series(
            "Error share by deployment",
            "Aborted and errored requests over all finished ones, per deployment. A "
            "deployment above the others: open its dashboard (queue, replicas, logs).",
            RATIO,
            Query(q.error_share(by=EACH), NAMED),
        ).max(1),
        time_series(
            "TTFT p95 by deployment",
            "95th percentile of time to first token per deployment. A rising line with a "
            "growing queue: too few replicas; without one: long prompts or slow prefill.",
            SECONDS,
            Query(q.quantile(0.95, q.TTFT, by=EACH), NAMED),
        ),
        time_series(
            "KV-cache usage (fullest replica) by deployment",
            "The fullest replica's KV-cache per deployment. Near 100% the engines preempt "
            "and queue: add replicas or lower max-num-seqs.",
            RATIO,
            Query(q.kv_cache_usage_max(by=EACH), NAMED),
        ).max(1),
        time_series(
            "GPUs allocated by deployment",
            "GPUs held by each deployment's replicas: who uses the cluster's GPUs when "
            "another deployment's autoscaler is capped by gpus.",
            COUNT,
            Query(q.gauge("llamaops_gpus_allocated", by=EACH), NAMED),
        ),
    ]


def dashboard() -> model.Dashboard:
    built = board.new(
        UID,
        "llamaops / fleet",
        "Every LlamaDeployment: availability, replicas, GPUs, load, errors and latency.",
    )
    rows = [
        board.Row("Totals", totals()),
        board.Row("Deployments", [deployments_table()]),
        board.Row("By deployment over time", over_time()),
    ]
    return board.finished(board.with_rows(built, rows))
