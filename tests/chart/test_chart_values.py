"""values.schema.json refuses bad values before anything renders, naming the field; the
templates refuse the one combination a schema cannot explain well."""

import helm_python as helm
import pytest

from tests.chart.render import Obj, chart, objects_of, one, render_files


@pytest.mark.parametrize(
    ("values", "field", "complaint"),
    [
        ({"watchNamespaces": 5}, "/watchNamespaces", "want array"),
        ({"watchNamespaces": ["team-*"]}, "/watchNamespaces/0", "does not match pattern"),
        (
            {"watchNamespaces": ["team-a", "team-a"]},
            "/watchNamespaces",
            "items at 0 and 1 are equal",
        ),
        ({"replicaCount": -1}, "/replicaCount", "minimum"),
        ({"replicaCount": 1.5}, "/replicaCount", "want integer"),
        ({"image": {"pullPolicy": "Sometimes"}}, "/image/pullPolicy", "must be one of"),
        ({"imageTag": "v1"}, "", "additional properties 'imageTag' not allowed"),
        ({"monitoring": {"enabled": "yes"}}, "/monitoring/enabled", "want boolean"),
        (
            {"monitoring": {"serviceMonitor": {"interval": "soon"}}},
            "/monitoring/serviceMonitor/interval",
            "pattern",
        ),
        (
            {"monitoring": {"runbookBaseUrl": "docs/runbooks.md"}},
            "/monitoring/runbookBaseUrl",
            "pattern",
        ),
        (
            {"highAvailability": {"enabled": True, "replicas": 3}},
            "/highAvailability",
            "'replicas' not allowed",
        ),
        ({"dashboards": {"labelValue": 1}}, "/dashboards/labelValue", "want string"),
        (
            {"serviceAccount": {"annotations": {"a": 1}}},
            "/serviceAccount/annotations/a",
            "want string",
        ),
    ],
)
def test_the_schema_refuses_bad_values_and_names_the_field(
    values: Obj, field: str, complaint: str
) -> None:
    with pytest.raises(helm.HelmValuesError) as refused:
        chart().validate_schema(values)

    assert f"at '{field}': " in str(refused.value)  # "" is the top level
    assert complaint in str(refused.value)


def test_rendering_refuses_values_the_schema_refuses() -> None:
    with pytest.raises(helm.HelmError, match="watchNamespaces"):
        render_files({"watchNamespaces": 5})


@pytest.mark.parametrize(
    "values",
    [
        {"watchNamespaces": ["team-a"], "highAvailability": {"enabled": True}},
        {"image": {"tag": "v0.2.0", "pullPolicy": "Always"}},
        {"monitoring": {"enabled": True, "labels": {"release": "kube-prometheus-stack"}}},
        {"resources": {"requests": {"cpu": 0.5, "memory": "512Mi"}}},
        {"replicaCount": 0},
    ],
)
def test_the_schema_accepts_sensible_values(values: Obj) -> None:
    chart().validate_schema(values)


def test_more_than_one_operator_pod_without_peering_is_refused() -> None:
    with pytest.raises(helm.HelmError, match=r"highAvailability\.enabled"):
        render_files({"replicaCount": 2})


@pytest.mark.parametrize(
    ("values", "replicas"),
    [
        ({}, 1),
        ({"replicaCount": 0}, 0),
        ({"highAvailability": {"enabled": True}}, 2),
        ({"highAvailability": {"enabled": True}, "replicaCount": 3}, 3),
    ],
)
def test_high_availability_runs_at_least_two_operator_pods(values: Obj, replicas: int) -> None:
    deployment = one(objects_of(render_files(values)), "Deployment")

    assert deployment["spec"]["replicas"] == replicas
