"""The chart as a whole: every object it renders is one the API server accepts, the chart
lints clean, its CRD is the repository's, and its values and notes explain themselves."""

import json
import re
from pathlib import Path

import helm_python as helm
import kubernetes_validate
import pytest
import yaml

from llamaops.manifest import load_deployment
from tests.chart.render import (
    CASES,
    CHART,
    CUSTOM_KINDS,
    NAMESPACE,
    REPO,
    Obj,
    chart,
    describe,
    notes,
    rendered,
)

STANDARD_LABELS = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/managed-by",
    "helm.sh/chart",
)


def check_custom_resource(obj: Obj) -> None:
    """What kubernetes-validate cannot: the fields each custom kind requires."""
    kind, meta, spec = obj["kind"], obj["metadata"], obj.get("spec") or {}
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", meta["name"]), meta["name"]
    if kind == "ServiceMonitor":
        assert spec["selector"]["matchLabels"] and spec["endpoints"]
        assert all(e["port"] and e["interval"] for e in spec["endpoints"])
    elif kind == "PodMonitor":
        assert spec["selector"]["matchLabels"] and spec["podMetricsEndpoints"]
        assert all(e["port"] and e["interval"] for e in spec["podMetricsEndpoints"])
    elif kind == "PrometheusRule":
        assert spec["groups"]
        for group in spec["groups"]:
            assert group["name"] and group["rules"]
            assert all(("alert" in r or "record" in r) and r["expr"] for r in group["rules"])
    elif kind == "KopfPeering":
        assert meta["namespace"] and set(obj) <= {"apiVersion", "kind", "metadata", "status"}
    elif kind == "ClusterKopfPeering":
        assert "namespace" not in meta
        assert set(obj) <= {"apiVersion", "kind", "metadata", "status"}


@pytest.mark.parametrize("case", CASES)
def test_every_rendered_object_is_valid_for_kubernetes_1_30(case: str) -> None:
    objects = rendered(case)
    checked_by_hand = 0

    for obj in objects:
        if (obj["apiVersion"], obj["kind"]) in CUSTOM_KINDS:
            check_custom_resource(obj)
            checked_by_hand += 1
        else:
            kubernetes_validate.validate(obj, "1.30", strict=True)

    core = {"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Deployment", "Service"}
    assert core <= {o["kind"] for o in objects}, describe(objects)
    assert checked_by_hand == sum(
        1 for o in objects if o["apiVersion"].split("/")[0] in ("monitoring.coreos.com", "kopf.dev")
    )


@pytest.mark.parametrize("case", CASES)
def test_every_object_carries_the_standard_labels_and_a_namespace_when_namespaced(
    case: str,
) -> None:
    cluster_scoped = {
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "ClusterKopfPeering",
    }
    for obj in rendered(case):
        labels = obj["metadata"].get("labels", {})
        assert all(labels.get(key) for key in STANDARD_LABELS), (obj["kind"], labels)
        assert labels["app.kubernetes.io/managed-by"] == "Helm"
        assert ("namespace" in obj["metadata"]) == (obj["kind"] not in cluster_scoped), obj


@pytest.mark.parametrize("case", CASES)
def test_helm_lint_strict_finds_nothing_above_info(case: str) -> None:
    report = helm.lint(str(CHART), CASES[case] or None, strict=True, namespace=NAMESPACE)

    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


def test_the_charts_crds_are_the_repositorys_byte_for_byte() -> None:
    ours = sorted(p.name for p in (CHART / "crds").iterdir())
    theirs = sorted(p.name for p in (REPO / "crds").iterdir())

    assert ours == theirs
    for name in ours:
        assert (CHART / "crds" / name).read_bytes() == (REPO / "crds" / name).read_bytes(), (
            f"charts/llamaops/crds/{name} drifted: copy crds/{name} over it"
        )
    assert [crd["name"] for crd in chart().crds] == [f"crds/{name}" for name in ours]


def test_chart_yaml_names_the_chart_and_its_versions() -> None:
    meta = yaml.safe_load((CHART / "Chart.yaml").read_text())

    assert (meta["apiVersion"], meta["name"], meta["version"], meta["appVersion"]) == (
        "v2",
        "llamaops",
        "0.1.0",
        "0.1.0",
    )


def test_every_key_of_values_yaml_has_a_comment_above_it() -> None:
    lines = (CHART / "values.yaml").read_text().splitlines()
    uncommented, inside_resources = [], False
    for number, line in enumerate(lines):
        if not re.match(r"^\s*[A-Za-z][\w-]*:", line):
            continue
        # resources holds a Kubernetes ResourceRequirements: one value, commented once.
        inside_resources = line.startswith(" ") and inside_resources
        if inside_resources:
            continue
        inside_resources = line.startswith("resources:")
        above = next(lines[i].strip() for i in range(number - 1, -1, -1) if lines[i].strip())
        if not above.startswith("#"):
            uncommented.append(line.strip())

    assert uncommented == []


def test_the_schema_describes_every_default_value_and_accepts_the_defaults() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    values = yaml.safe_load((CHART / "values.yaml").read_text())

    def undescribed(node: Obj, values: Obj, path: str) -> list[str]:
        missing = []
        for key, value in values.items():
            child = node.get("properties", {}).get(key)
            if child is None:
                missing.append(f"{path}.{key}")
            elif isinstance(value, dict) and "properties" in child:
                missing += undescribed(child, value, f"{path}.{key}")
        return missing

    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert schema["additionalProperties"] is False
    assert undescribed(schema, values, "") == []
    chart().validate_schema(values)


def test_the_notes_example_is_a_llamadeployment_the_api_server_accepts(tmp_path: Path) -> None:
    text = notes("namespaced")
    example = text[text.index("apiVersion:") : text.index("YAML", text.index("apiVersion:"))]
    (tmp_path / "example.yaml").write_text(
        "\n".join(line.removeprefix("     ") for line in example.splitlines())
    )

    deployment = load_deployment(tmp_path / "example.yaml")

    assert deployment.metadata.name == "llama3-8b"
    assert "kubectl apply -n team-a" in text and "kubectl get llama -n team-a" in text
    assert "kubectl get llama -A" in notes("defaults")


def test_notes_say_where_the_metrics_are_and_whether_monitors_were_made() -> None:
    assert "llamaops-metrics" in notes("defaults")
    assert "Set monitoring.enabled=true" in notes("defaults")
    assert "ServiceMonitor (job llamaops)" in notes("monitoring")
    assert "does not serve monitoring.coreos.com/v1" in notes("monitoring-without-the-api")
