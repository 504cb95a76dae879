"""The chart's ServiceMonitor and PodMonitor become the scrape jobs the Prometheus Operator
would write, discovering through the local cluster's http_sd; promtool accepts them."""

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from llamaops.sim.prometheus_config import (
    port_relabelings,
    prometheus_config,
    relabel_configs,
    scrape_configs,
    selector_relabelings,
)
from tests.chart.render import CHART, of_kind, rendered

Obj = dict[str, Any]
SD = "http://127.0.0.1:9999"
META = "__meta_kubernetes_"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"


def on_label(role: str, key: str) -> list[str]:
    """The two meta labels a selector on `key` reads."""
    return [f"{META}{role}_label_{key}", f"{META}{role}_labelpresent_{key}"]


def rule(action: str, source_labels: list[str], regex: str) -> Obj:
    return {"action": action, "source_labels": source_labels, "regex": regex}


def chart_jobs(case: str = "monitoring") -> dict[str, Obj]:
    objects = rendered(case)
    monitors = of_kind(objects, "ServiceMonitor") + of_kind(objects, "PodMonitor")
    return {job["job_name"]: job for job in scrape_configs(monitors, SD, "1s")}


def test_each_chart_monitor_endpoint_is_one_job_named_as_the_operator_names_it() -> None:
    assert sorted(chart_jobs()) == [
        "podMonitor/llamaops-system/llamaops-vllm/0",
        "serviceMonitor/llamaops-system/llamaops/0",
    ]


def test_the_vllm_job_keeps_llamaops_replicas_on_their_http_port_as_job_llamaops_vllm() -> None:
    job = chart_jobs()["podMonitor/llamaops-system/llamaops-vllm/0"]

    assert job["honor_labels"] is False
    assert job["http_sd_configs"] == [{"url": f"{SD}/pod", "refresh_interval": "1s"}]
    assert (job["scrape_interval"], job["metrics_path"]) == ("15s", "/metrics")
    assert job["relabel_configs"] == [
        {"source_labels": ["job"], "target_label": "__tmp_prometheus_job_name"},
        rule("drop", [f"{META}pod_phase"], "(Failed|Succeeded)"),
        rule("keep", on_label("pod", "app_kubernetes_io_managed_by"), "(llamaops);true"),
        rule("keep", on_label("pod", "app_kubernetes_io_name"), "(vllm);true"),
        rule("keep", [f"{META}pod_container_port_name"], "http"),
        {"source_labels": [f"{META}namespace"], "target_label": "namespace"},
        {"source_labels": [f"{META}pod_container_name"], "target_label": "container"},
        {"source_labels": [f"{META}pod_name"], "target_label": "pod"},
        {"target_label": "job", "replacement": "llamaops-system/llamaops-vllm"},
        {"target_label": "endpoint", "replacement": "http"},
        # The chart's own relabelings, in Prometheus' spelling.
        {"target_label": "job", "replacement": "llamaops-vllm", "action": "replace"},
        {
            "source_labels": [f"{META}pod_label_serving_llamaops_io_deployment"],
            "target_label": "deployment",
            "action": "replace",
        },
    ]


def test_the_operator_job_keeps_the_metrics_service_port_and_honours_its_labels() -> None:
    job = chart_jobs()["serviceMonitor/llamaops-system/llamaops/0"]
    rules = job["relabel_configs"]

    assert job["honor_labels"] is True  # the LlamaDeployment's namespace label wins
    assert job["http_sd_configs"] == [
        {"url": f"{SD}/endpoints?namespace=llamaops-system", "refresh_interval": "1s"}
    ]
    kept = [r for r in rules if r.get("action") == "keep"]
    assert kept == [
        rule("keep", on_label("service", "app_kubernetes_io_component"), "(metrics);true"),
        rule("keep", on_label("service", "app_kubernetes_io_instance"), "(llamaops);true"),
        rule("keep", on_label("service", "app_kubernetes_io_name"), "(llamaops);true"),
        rule("keep", [f"{META}endpoint_port_name"], "metrics"),
    ]
    targets = [r["target_label"] for r in rules if "target_label" in r]
    assert targets == [
        *("__tmp_prometheus_job_name", "node", "pod", "namespace", "service", "pod"),
        *("container", "job", "endpoint", "job"),
    ]
    assert rules[-1] == {"target_label": "job", "replacement": "llamaops", "action": "replace"}


@pytest.mark.parametrize(
    ("case", "url"),
    [
        ("monitoring", f"{SD}/pod"),  # namespaceSelector.any: every namespace
        ("monitoring-namespaced", f"{SD}/pod?namespace=team-a&namespace=team-b"),
    ],
)
def test_the_vllm_job_discovers_in_the_namespaces_the_chart_watches(case: str, url: str) -> None:
    job = chart_jobs(case)["podMonitor/llamaops-system/llamaops-vllm/0"]

    assert job["http_sd_configs"][0]["url"] == url


def test_a_monitor_without_a_namespace_selector_discovers_in_its_own_namespace() -> None:
    monitor = {
        "kind": "PodMonitor",
        "metadata": {"name": "m", "namespace": "team-a"},
        "spec": {"podMetricsEndpoints": [{"port": "http"}]},
    }

    (job,) = scrape_configs([monitor], SD)

    assert job["http_sd_configs"][0]["url"] == f"{SD}/pod?namespace=team-a"


@pytest.mark.parametrize(
    ("theirs", "ours"),
    [
        (
            {"action": "replace", "targetLabel": "job", "replacement": "x"},
            {"target_label": "job", "replacement": "x", "action": "replace"},
        ),
        (
            {"sourceLabels": ["a", "b"], "separator": "/", "targetLabel": "c"},
            {"source_labels": ["a", "b"], "separator": "/", "target_label": "c"},
        ),
        (
            {"action": "Keep", "sourceLabels": ["a"], "regex": "y"},
            {"source_labels": ["a"], "regex": "y", "action": "keep"},
        ),
        (
            {"action": "HashMod", "sourceLabels": ["a"], "modulus": 4, "targetLabel": "h"},
            {"source_labels": ["a"], "target_label": "h", "modulus": 4, "action": "hashmod"},
        ),
        ({"action": "labeldrop", "regex": "tmp_.*"}, {"regex": "tmp_.*", "action": "labeldrop"}),
        ({"targetLabel": "x", "replacement": ""}, {"target_label": "x", "replacement": ""}),
    ],
)
def test_a_monitors_relabelings_are_spelled_as_prometheus_spells_them(
    theirs: Obj, ours: Obj
) -> None:
    assert relabel_configs([theirs]) == [ours]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        (
            {"key": "a.b/c", "operator": "In", "values": ["x", "y"]},
            rule("keep", on_label("pod", "a_b_c"), "(x|y);true"),
        ),
        (
            {"key": "a", "operator": "NotIn", "values": ["x"]},
            rule("drop", on_label("pod", "a"), "(x);true"),
        ),
        ({"key": "a", "operator": "Exists"}, rule("keep", [f"{META}pod_labelpresent_a"], "true")),
        (
            {"key": "a", "operator": "DoesNotExist"},
            rule("drop", [f"{META}pod_labelpresent_a"], "true"),
        ),
    ],
)
def test_selector_expressions_become_keep_and_drop_rules(expression: Obj, expected: Obj) -> None:
    assert selector_relabelings({"matchExpressions": [expression]}, "pod") == [expected]


@pytest.mark.parametrize(
    ("endpoint", "label", "regex"),
    [
        ({"port": "http"}, "pod_container_port_name", "http"),
        ({"portNumber": 8000}, "pod_container_port_number", "8000"),
        ({"targetPort": "http"}, "pod_container_port_name", "http"),
        ({"targetPort": 8000}, "pod_container_port_number", "8000"),
        ({"port": "http", "portNumber": 8000}, "pod_container_port_name", "http"),
    ],
)
def test_a_pod_monitor_endpoint_keeps_its_port(endpoint: Obj, label: str, regex: str) -> None:
    rules = port_relabelings(endpoint, f"{META}pod_container_port_name", by_number=True)

    assert rules == [rule("keep", [f"{META}{label}"], regex)]


def test_an_endpoint_without_a_port_keeps_every_port() -> None:
    assert port_relabelings({}, f"{META}endpoint_port_name", by_number=False) == []


def test_promtool_accepts_the_generated_configuration_with_the_alert_rules(tmp_path: Path) -> None:
    assert Path(PROMTOOL).exists(), "promtool is not installed: run `make promtool`"
    objects = rendered("monitoring")
    rules = tmp_path / "alerts.yaml"
    shutil.copy(CHART / "files/alerts.yaml", rules)
    config = prometheus_config(
        of_kind(objects, "ServiceMonitor") + of_kind(objects, "PodMonitor"),
        SD,
        rule_files=[str(rules)],
        scrape_interval="1s",
        evaluation_interval="1s",
    )
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))

    checked = subprocess.run(
        [PROMTOOL, "check", "config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert checked.returncode == 0, f"{checked.stdout}{checked.stderr}\n{path.read_text()}"
