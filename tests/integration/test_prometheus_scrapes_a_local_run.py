"""A real Prometheus scrapes a local run and every dashboard and alert query returns data.

Prometheus discovers its targets as the chart's ServiceMonitor and PodMonitor make the
Prometheus Operator discover them (the local cluster's http_sd, the generated scrape jobs)
and evaluates the chart's alert rules. After a run with traffic, an autoscaler scale-up, a
rollout and a rollout halted on a checkpoint that cannot load, each query of the three
dashboards and of the alert rules returns data: none names a metric or a label that is not
in what Prometheus scraped (`prometheus_queries.py` says how conditions are read).

Two kinds of series exist only once something went wrong, since their labels are known
only then: `llamaops_api_errors_total{verb, code}` and `llamaops_reconciles_total{result=
"error"}`. The run has the API server refuse a pod creation for as long as the operator
retries it, so that both are scraped and their queries checked too.
"""

import json
import time
from pathlib import Path
from typing import Any

import yaml

from llamaops.cli.demo_prometheus import operator_target
from llamaops.sim.prometheus_config import prometheus_config
from tests.chart.render import CHART, objects_of, of_kind, one, render_files
from tests.integration.autoscaling_helpers import PhasedTraffic, spec_replicas
from tests.integration.operator_harness import OperatorWorld
from tests.integration.operator_helpers import (
    LLAMA_70B,
    NAME,
    Traffic,
    a_world,
    all_ready,
    live_replicas,
    wait_all_ready,
)
from tests.integration.prometheus_harness import (
    PROMETHEUS,
    RunningPrometheus,
    running_prometheus,
)
from tests.integration.prometheus_queries import (
    alert_checks,
    alert_expr,
    check_all,
    dashboard_checks,
    report,
)
from tests.integration.test_operator_endpoints import free_port
from tests.integration.test_operator_rollout import (
    failed_checkpoint,
    replica_names,
    roll_to,
    templates,
)

SPEED = 10.0
ROLLOUT_CLUSTER = "e2e/clusters/h100-3x8-rollout.yaml"  # revision `bad` fails while loading
SCRAPE_SECONDS = 1
# The chart as installed with monitoring on, every scrape at 1 s so the run is short.
MONITORING = {
    "monitoring": {
        "enabled": True,
        "forceMonitors": True,
        "serviceMonitor": {"interval": f"{SCRAPE_SECONDS}s"},
        "podMonitor": {"interval": f"{SCRAPE_SECONDS}s"},
    }
}
OPERATOR_NAMESPACE = "llamaops-system"  # the release namespace of tests/chart/render.py
Obj = dict[str, Any]


def test_every_dashboard_and_alert_query_returns_data_from_a_real_prometheus(
    tmp_path: Path,
) -> None:
    assert PROMETHEUS.exists(), "Prometheus is not installed: run `make promtool`"
    with a_world(tmp_path, speed=SPEED, cluster_file=ROLLOUT_CLUSTER) as world:
        world.stop_operator()
        world.metrics_port = free_port()
        world.start_operator()
        chart = objects_of(render_files(MONITORING))
        make_the_operator_a_target(world, chart)
        monitors = of_kind(chart, "ServiceMonitor") + of_kind(chart, "PodMonitor")
        config = prometheus_config(
            monitors,
            world.cluster.cluster.discovery.url,
            rule_files=[str(CHART / "files/alerts.yaml")],
            scrape_interval=f"{SCRAPE_SECONDS}s",
            evaluation_interval=f"{SCRAPE_SECONDS}s",
            refresh_interval=f"{SCRAPE_SECONDS}s",
        )
        with running_prometheus(tmp_path, config) as prometheus:
            traffic_a_scale_up_a_rollout_and_a_halted_one(world)
            world.wait_until(
                lambda: scraped_replicas(prometheus) == {p: 1.0 for p in live_pod_names(world)},
                20,
                "every live replica, and only those, scraped up",
            )
            assert prometheus.values('up{job="llamaops"}', "job") == {"llamaops": 1.0}
            expect_the_scrape_labels(prometheus)
            time.sleep(3 * SCRAPE_SECONDS)  # a few more samples after the last change
            run = f"{int(time.monotonic() - prometheus.started) + 1}s"
            checks = [*dashboard_checks(run, "default", NAME), *alert_checks("default", NAME)]
            failures, conditions_false = check_all(prometheus, checks, f"{SCRAPE_SECONDS}s")
            assert not failures, report(failures, conditions_false, len(checks))
            # The run's halted rollout is what the alert on halted rollouts selects (its
            # `for: 5m` is not over yet), while the operator is up.
            halted = alert_expr("LlamaDeploymentRolloutHalted")
            assert [s["metric"]["deployment"] for s in prometheus.query(halted)] == [NAME]
            assert prometheus.query(alert_expr("LlamaopsOperatorDown")) == []


# --- the run -----------------------------------------------------------------------------
def make_the_operator_a_target(world: OperatorWorld, chart: list[Obj]) -> None:
    """The chart's metrics Service, and Endpoints at the operator's metrics port on
    127.0.0.1: they stand in for the operator pod, which runs here as a local process (as
    `llamaops demo --prometheus` does it)."""
    service, endpoints = operator_target(
        one(chart, "Service", "llamaops-metrics"), world.metrics_port
    )
    world.kubectl("create", "namespace", OPERATOR_NAMESPACE)
    path = world.log.parent / "operator-target.yaml"
    path.write_text(yaml.safe_dump_all([service, endpoints]))
    world.kubectl("apply", "-f", str(path))


def traffic_a_scale_up_a_rollout_and_a_halted_one(world: OperatorWorld) -> None:
    deploy_autoscaled_on(world, "a1")
    wait_all_ready(world, 1)
    with PhasedTraffic(world, [(10, 10)]) as load:  # more than one replica runs
        world.wait_until(lambda: (spec_replicas(world) or 0) > 1, 30, "a scale-up")
        load.records()
    wait_all_wanted_ready(world)
    (before,) = templates(world)
    with Traffic(world, rate=4, seconds=15, tokens=32) as load:
        # The API server refuses the first surge pod's creation as long as the operator's
        # retries last: each failed call and the failed reconcile are counted, and the
        # next reconcile carries on. (Without a failure those series have no sample: their
        # labels, verb and code, are only known when a call fails.)
        refused = world.cluster.run(
            lambda: world.cluster.api.server.faults.inject("create", "pods", 500, times=5)
        )
        roll_to(world, "b2")
        world.wait_until(
            lambda: before not in templates(world) and len(templates(world)) == 1,
            60,
            "every replica on the new template",
        )
        wait_all_wanted_ready(world)
        load.finish()
    assert refused.hits == 5, "the operator tried the refused creation 5 times"
    old = replica_names(world)
    with Traffic(world, rate=4, seconds=10, tokens=16) as load:
        roll_to(world, "bad")
        world.wait_until(lambda: failed_checkpoint(world), 60, "the rollout to bad halted")
        world.wait_until(lambda: replica_names(world) == old, 30, "only the b2 replicas left")
        load.finish()


def wait_all_wanted_ready(world: OperatorWorld) -> None:
    """As many replicas as spec.replicas (the autoscaler's to set), all Ready."""
    world.wait_until(
        lambda: all_ready(world, spec_replicas(world) or 0), 60, "every wanted replica Ready"
    )


def deploy_autoscaled_on(world: OperatorWorld, revision: str) -> None:
    """The 70B (TP 4 on H100) at an hf:// `revision`, autoscaled from 1 to 3 replicas, each
    engine running at most 2 requests at once so that a queue forms."""
    manifest = yaml.safe_load(LLAMA_70B.read_text())
    manifest["spec"]["replicas"] = 1
    manifest["spec"]["model"]["checkpoint"] = {
        "uri": "hf://meta-llama/Llama-3.1-70B-Instruct",
        "revision": revision,
    }
    manifest["spec"]["engine"] = {"extraArgs": ["--max-num-seqs", "2"]}
    manifest["spec"]["autoscaling"] = {
        "enabled": True,
        "minReplicas": 1,
        "maxReplicas": 3,
        "targetQueueDepth": 2,
        "metricsIntervalSeconds": 1,
    }
    path = world.log.parent / "llama-autoscaled.json"
    path.write_text(json.dumps(manifest))
    world.kubectl("apply", "-f", str(path))


def live_pod_names(world: OperatorWorld) -> set[str]:
    return {p["metadata"]["name"] for p in live_replicas(world)}


def scraped_replicas(prometheus: RunningPrometheus) -> dict[str, float]:
    return prometheus.values('up{job="llamaops-vllm"}', "pod")


def expect_the_scrape_labels(prometheus: RunningPrometheus) -> None:
    """vLLM series name their LlamaDeployment; the operator's keep their own `namespace`
    (honorLabels), and those without one get the operator's."""
    running = 'vllm:num_requests_running{job="llamaops-vllm"}'
    assert prometheus.values(running, "deployment").keys() == {NAME}
    assert prometheus.values(running, "namespace").keys() == {"default"}
    replicas = prometheus.values('llamaops_replicas{job="llamaops"}', "namespace")
    assert replicas.keys() == {"default"}
    reconciles = prometheus.values('llamaops_reconciles_total{job="llamaops"}', "namespace")
    assert reconciles.keys() == {OPERATOR_NAMESPACE}
