"""Prometheus Operator objects (only when asked for and servable) that select what the
operator really serves, the alert rules of files/alerts.yaml verbatim but for the runbook
links, and one Grafana dashboard ConfigMap per dashboards/*.json file."""

import json
import re
import shutil
from pathlib import Path

import helm_python as helm
import pytest
import yaml

from llamaops.reconcile import names
from tests.chart.render import (
    CHART,
    NAMESPACE,
    RELEASE,
    RUNBOOKS,
    TEAMS,
    Obj,
    alert_rules_file,
    dashboard_files,
    objects_of,
    of_kind,
    one,
    render_files,
    rendered,
)
from tests.unit.reconcile.rendering_builders import llama_8b, render

MONITORING_KINDS = ("ServiceMonitor", "PodMonitor", "PrometheusRule")
FORCED = {"enabled": True, "forceMonitors": True}


@pytest.mark.parametrize(
    ("case", "expected"),
    [("defaults", 0), ("monitoring-without-the-api", 0), ("monitoring", 1)],
)
def test_monitors_render_only_when_enabled_and_forced_or_served(case: str, expected: int) -> None:
    objects = rendered(case)

    assert [len(of_kind(objects, kind)) for kind in MONITORING_KINDS] == [expected] * 3


def test_the_service_monitor_scrapes_the_metrics_service_as_job_llamaops() -> None:
    objects = rendered("monitoring")
    monitor, service = one(objects, "ServiceMonitor"), one(objects, "Service")
    (endpoint,) = monitor["spec"]["endpoints"]

    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": [NAMESPACE]}
    assert endpoint["port"] in [p["name"] for p in service["spec"]["ports"]]
    assert (endpoint["path"], endpoint["interval"], endpoint["honorLabels"]) == (
        "/metrics",
        "30s",
        True,
    )
    assert endpoint["relabelings"] == [
        {"action": "replace", "targetLabel": "job", "replacement": "llamaops"}
    ]


def test_the_pod_monitor_selects_the_replicas_the_operator_renders() -> None:
    monitor = one(rendered("monitoring"), "PodMonitor")
    replica = render(llama_8b()).pod
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    ports = {
        p["name"]: p["containerPort"] for c in replica["spec"]["containers"] for p in c["ports"]
    }
    # Prometheus turns every character of a label name outside [a-zA-Z0-9_] into "_".
    deployment_label = "__meta_kubernetes_pod_label_" + re.sub(r"\W", "_", names.LABEL_DEPLOYMENT)

    assert monitor["spec"]["selector"]["matchLabels"] == {
        "app.kubernetes.io/name": "vllm",
        "app.kubernetes.io/managed-by": "llamaops",
    }
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= replica["metadata"]["labels"].items()
    )
    assert ports[endpoint["port"]] == names.ENGINE_PORT
    assert (endpoint["path"], endpoint["interval"]) == ("/metrics", "15s")
    assert endpoint["relabelings"] == [
        {"action": "replace", "targetLabel": "job", "replacement": "llamaops-vllm"},
        {"action": "replace", "sourceLabels": [deployment_label], "targetLabel": "deployment"},
    ]


@pytest.mark.parametrize(
    ("case", "namespaces"),
    [("monitoring", {"any": True}), ("monitoring-namespaced", {"matchNames": TEAMS})],
)
def test_the_pod_monitor_looks_where_the_operator_watches(case: str, namespaces: Obj) -> None:
    assert one(rendered(case), "PodMonitor")["spec"]["namespaceSelector"] == namespaces


def test_monitoring_labels_and_intervals_come_from_the_values() -> None:
    values = {
        "monitoring": {
            **FORCED,
            "labels": {"release": "kube-prometheus-stack"},
            "serviceMonitor": {"interval": "1m"},
            "podMonitor": {"interval": "5s"},
        }
    }
    objects = objects_of(render_files(values))

    for kind in MONITORING_KINDS:
        assert one(objects, kind)["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert one(objects, "ServiceMonitor")["spec"]["endpoints"][0]["interval"] == "1m"
    assert one(objects, "PodMonitor")["spec"]["podMetricsEndpoints"][0]["interval"] == "5s"


def test_the_rule_is_the_alerts_file_with_the_default_runbook_links() -> None:
    rule = one(rendered("monitoring"), "PrometheusRule")

    assert rule["spec"] == alert_rules_file()
    assert rule["spec"]["groups"], "files/alerts.yaml holds no alert group"


def test_the_rule_points_runbook_links_at_runbook_base_url_and_keeps_prometheus_templates() -> None:
    base = "https://runbooks.example.com/llamaops.md"
    values = {"monitoring": {**FORCED, "runbookBaseUrl": base}}
    spec = one(objects_of(render_files(values)), "PrometheusRule")["spec"]
    expected = yaml.safe_load((CHART / "files" / "alerts.yaml").read_text().replace(RUNBOOKS, base))
    rules = [r for group in spec["groups"] for r in group["rules"] if "alert" in r]
    links = [r["annotations"].get("runbook_url", "") for r in rules]

    assert spec == expected
    assert all(link.startswith(base + "#") for link in links), links
    assert RUNBOOKS not in json.dumps(spec)
    assert "{{ $labels." in json.dumps(spec)  # untouched by Helm's template engine


def test_each_dashboard_file_becomes_a_configmap_for_the_grafana_sidecar() -> None:
    maps = of_kind(rendered("defaults"), "ConfigMap")
    files = dashboard_files()

    assert len(maps) == len(files)  # none yet while dashboards/ holds no JSON
    by_key = {key: m for m in maps for key in m["data"]}
    for path in files:
        configmap = by_key[path.name]
        assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert configmap["data"][path.name] == path.read_text()
        json.loads(configmap["data"][path.name])


def test_the_dashboard_template_makes_one_labelled_configmap_per_json_file(
    tmp_path: Path,
) -> None:
    """On a copy of the chart, so that the chart itself never holds a fake dashboard."""
    copy = tmp_path / "llamaops"
    shutil.copytree(CHART, copy)
    (copy / "dashboards").mkdir(exist_ok=True)
    for stale in (copy / "dashboards").glob("*.json"):
        stale.unlink()
    fleet = json.dumps({"title": "Fleet", "panels": [{"expr": 'sum(x{job="llamaops"})'}]}, indent=2)
    (copy / "dashboards" / "llamaops_fleet.json").write_text(fleet + "\n")
    (copy / "dashboards" / "engines.json").write_text("{}")
    values = {"dashboards": {"folder": "LLM serving", "namespace": "monitoring"}}
    files = helm.Chart.load(str(copy)).render(values, name=RELEASE, namespace=NAMESPACE)

    maps = {m["metadata"]["name"]: m for m in of_kind(objects_of(files), "ConfigMap")}
    assert sorted(maps) == ["llamaops-dashboard-engines", "llamaops-dashboard-llamaops-fleet"]
    fleet_map = maps["llamaops-dashboard-llamaops-fleet"]
    assert fleet_map["data"] == {"llamaops_fleet.json": fleet + "\n"}
    assert fleet_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert fleet_map["metadata"]["annotations"] == {"grafana_folder": "LLM serving"}
    assert fleet_map["metadata"]["namespace"] == "monitoring"
    off = helm.Chart.load(str(copy)).render({"dashboards": {"enabled": False}}, name=RELEASE)
    assert of_kind(objects_of(off), "ConfigMap") == []
