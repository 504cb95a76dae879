"""Table responses: the envelope kube-apiserver sends kubectl for `get`, ages, and the
printer columns of custom resources.
"""

from datetime import timedelta
from typing import Any

import pytest

from llamaops.sim.apiserver.columns import human_duration, since
from llamaops.sim.apiserver.resources import BUILTINS, ResourceType
from llamaops.sim.apiserver.tables import table
from tests.builders import a_deployment
from tests.unit.sim.table_builders import NOW, RESOURCES, Obj, ago, cells, created, rows

H100 = "NVIDIA-H100-80GB-HBM3"


def llama_deployments(crd: Obj) -> ResourceType:
    """The LlamaDeployment resource as the registry builds it from the CRD."""
    version = crd["spec"]["versions"][0]
    names = crd["spec"]["names"]
    return ResourceType(
        crd["spec"]["group"],
        version["name"],
        names["kind"],
        names["plural"],
        namespaced=True,
        builtin=False,
        subresources=("status", "scale"),
        printer_columns=tuple(version["additionalPrinterColumns"]),
    )


def custom(*printer_columns: Obj) -> ResourceType:
    return ResourceType(
        "example.com",
        "v1",
        "Widget",
        "widgets",
        True,
        builtin=False,
        printer_columns=printer_columns,
    )


def by_column(resource: ResourceType, body: Obj) -> dict[str, Any]:
    columns = table(resource, [], "7", now=NOW)["columnDefinitions"]
    return dict(zip([c["name"] for c in columns], cells(resource, body), strict=True))


# --- the envelope and includeObject -----------------------------------------------------
def test_a_table_is_a_meta_v1_table_at_the_given_resource_version() -> None:
    result = table(RESOURCES["ConfigMap"], [], "7", now=NOW)

    assert {k: result[k] for k in ("kind", "apiVersion", "metadata", "rows")} == {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": "7"},
        "rows": [],
    }


def test_every_column_definition_carries_the_five_fields() -> None:
    for resource in BUILTINS:
        for definition in table(resource, [], "1", now=NOW)["columnDefinitions"]:
            assert set(definition) == {"name", "type", "format", "description", "priority"}


CONFIG_MAP = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "cfg", "namespace": "default", "resourceVersion": "5"},
    "data": {"a": "1"},
}


@pytest.mark.parametrize(
    ("include_object", "included"),
    [
        ("None", None),
        (
            "Metadata",
            {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": CONFIG_MAP["metadata"],
            },
        ),
        (
            "",
            {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": CONFIG_MAP["metadata"],
            },
        ),
        ("Object", CONFIG_MAP),
    ],
    ids=["None", "Metadata", "unset", "Object"],
)
def test_each_row_includes_the_object_as_include_object_asks(
    include_object: str, included: Obj | None
) -> None:
    (row,) = rows(RESOURCES["ConfigMap"], CONFIG_MAP, include_object=include_object)

    assert row["object"] == included


def test_an_unknown_include_object_is_refused() -> None:
    with pytest.raises(ValueError, match='unrecognized includeObject value: "All"'):
        table(RESOURCES["ConfigMap"], [CONFIG_MAP], "7", include_object="All", now=NOW)


def test_a_full_object_row_names_its_kind_even_if_the_stored_object_does_not() -> None:
    body = {"metadata": {"name": "cfg"}}

    (row,) = rows(RESOURCES["ConfigMap"], body, include_object="Object")

    assert row["object"] == {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}}


# --- ages: duration.HumanDuration --------------------------------------------------------
@pytest.mark.parametrize(
    ("elapsed", "shown"),
    [
        (timedelta(seconds=-5), "<invalid>"),
        (timedelta(seconds=-2), "<invalid>"),
        (timedelta(seconds=-1.5), "0s"),
        (timedelta(0), "0s"),
        (timedelta(seconds=59), "59s"),
        (timedelta(seconds=119), "119s"),
        (timedelta(minutes=2), "2m"),
        (timedelta(minutes=5, seconds=30), "5m30s"),
        (timedelta(minutes=9, seconds=59), "9m59s"),
        (timedelta(minutes=10, seconds=30), "10m"),
        (timedelta(minutes=179), "179m"),
        (timedelta(hours=3), "3h"),
        (timedelta(hours=3, minutes=5), "3h5m"),
        (timedelta(hours=8, minutes=30), "8h"),
        (timedelta(hours=47), "47h"),
        (timedelta(hours=49), "2d1h"),
        (timedelta(days=7, hours=23), "7d23h"),
        (timedelta(days=8, hours=2), "8d"),
        (timedelta(days=367), "367d"),
        (timedelta(days=365 * 2, hours=25), "2y1d"),
        (timedelta(days=365 * 3), "3y"),
        (timedelta(days=365 * 8, hours=2), "8y"),
    ],
)
def test_ages_are_shown_as_kubernetes_human_durations(elapsed: timedelta, shown: str) -> None:
    assert human_duration(elapsed) == shown


@pytest.mark.parametrize(
    ("timestamp", "shown"),
    [
        (ago(minutes=5), "5m"),
        ("2025-06-01T11:55:00.123456Z", "4m59s"),
        ("2025-06-01T13:55:00+02:00", "5m"),
        (None, "<unknown>"),
        ("yesterday", "<unknown>"),
    ],
)
def test_a_timestamp_is_aged_from_now(timestamp: Any, shown: str) -> None:
    assert since(timestamp, NOW) == shown


# --- custom resources: additionalPrinterColumns -----------------------------------------
def test_a_llama_deployment_has_name_then_the_crds_printer_columns(crd: Obj) -> None:
    printer_columns = crd["spec"]["versions"][0]["additionalPrinterColumns"]

    definitions = table(llama_deployments(crd), [], "1", now=NOW)["columnDefinitions"]

    assert [(c["name"], c["type"]) for c in definitions] == [("Name", "string")] + [
        (c["name"], c["type"]) for c in printer_columns
    ]
    assert definitions[0]["format"] == "name"
    assert [c["description"] for c in definitions[1:]] == [
        c.get("description")
        or f"Custom resource definition column (in JSONPath format): {c['jsonPath']}"
        for c in printer_columns
    ]


def test_a_running_llama_deployment_shows_its_status_in_the_columns(crd: Obj) -> None:
    body = created(a_deployment("llama3-70b").model("llama3.1-70b-instruct").obj(), minutes=5)
    body["status"] = {
        "placement": {"gpuProduct": H100, "tensorParallelSize": 4},
        "readyReplicas": 2,
        "desiredReplicas": 3,
        "autoscaler": {"queueDepth": 7},
        "checkpoint": {"current": "0f3a9c2e11", "summary": "rev-1"},
    }

    assert by_column(llama_deployments(crd), body) == {
        "Name": "llama3-70b",
        "Model": "llama3.1-70b-instruct",
        "GPU": H100,
        "TP": 4,
        "Ready": 2,
        "Desired": 3,
        "Queue": 7,
        "Checkpoint": "rev-1",
        "Age": "5m",
    }


def test_a_new_llama_deployment_shows_null_cells_until_it_has_a_status(crd: Obj) -> None:
    body = created(a_deployment("llama3-8b").obj(), days=2, hours=3)

    shown = by_column(llama_deployments(crd), body)

    assert shown["Model"] == "llama3.1-8b-instruct"
    assert shown["Age"] == "2d3h"
    assert {k: v for k, v in shown.items() if k not in ("Name", "Model", "Age")} == {
        "GPU": None,
        "TP": None,
        "Ready": None,
        "Desired": None,
        "Queue": None,
        "Checkpoint": None,
    }


def test_a_custom_resource_without_printer_columns_shows_name_and_age() -> None:
    result = table(custom(), [created({"metadata": {"name": "w"}}, days=3)], "1", now=NOW)

    assert [(c["name"], c["type"]) for c in result["columnDefinitions"]] == [
        ("Name", "string"),
        ("Age", "date"),
    ]
    assert result["rows"][0]["cells"] == ["w", "3d"]


def test_a_printer_columns_priority_and_format_are_kept() -> None:
    resource = custom(
        {
            "name": "Size",
            "type": "integer",
            "format": "int32",
            "priority": 1,
            "jsonPath": ".spec.size",
        }
    )

    (_, size) = table(resource, [], "1", now=NOW)["columnDefinitions"]

    assert (size["format"], size["priority"]) == ("int32", 1)


def test_a_column_whose_path_does_not_parse_ends_the_column_list() -> None:
    resource = custom(
        {"name": "A", "type": "string", "jsonPath": ".spec.a"},
        {"name": "B", "type": "string", "jsonPath": ".spec[?(@.b)]"},
        {"name": "C", "type": "string", "jsonPath": ".spec.c"},
    )

    definitions = table(resource, [], "1", now=NOW)["columnDefinitions"]

    assert [c["name"] for c in definitions] == ["Name", "A"]


def cell_at(path: str, body: Obj, column_type: str = "string") -> Any:
    resource = custom({"name": "Value", "type": column_type, "jsonPath": path})
    return cells(resource, {"metadata": {"name": "w"}, **body})[1]


SPEC = {
    "spec": {
        "items": [{"name": "first"}, {"name": "second"}],
        "labels": {"app.kubernetes.io/name": "llama"},
    }
}


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        (".spec.items[0].name", "first"),
        (".spec.items[-1].name", "second"),
        (".spec.items[*].name", "first"),
        (".spec.items[2].name", None),
        (".spec.missing.deeper", None),
        (".spec.items.name", None),
        (".spec.labels.app\\.kubernetes\\.io/name", "llama"),
        (".spec.labels['app.kubernetes.io/name']", "llama"),
        ('.spec.labels["app.kubernetes.io/name"]', "llama"),
        (".metadata.name", "w"),
    ],
)
def test_printer_column_paths_follow_the_jsonpath_subset(path: str, shown: Any) -> None:
    assert cell_at(path, SPEC) == shown


@pytest.mark.parametrize(
    ("column_type", "value", "shown"),
    [
        ("integer", 3, 3),
        ("integer", 2.9, 2),
        ("integer", "3", None),
        ("integer", True, None),
        ("number", 2, 2.0),
        ("number", 0.5, 0.5),
        ("boolean", True, True),
        ("boolean", "true", None),
        ("string", "H100", "H100"),
        ("string", 3, "3"),
        ("string", 2.0, "2"),
        ("string", 0.25, "0.25"),
        ("string", 1e6, "1e+06"),
        ("string", 1.5e-5, "1.5e-05"),
        ("string", False, "false"),
        ("string", {"b": 1, "a": "<x>"}, '{"a":"\\u003cx\\u003e","b":1}'),
        ("string", ["x", 1], '["x",1]'),
        ("string", None, "<no value>"),
        ("integer", None, None),
        ("date", ago(hours=2), "120m"),
        ("date", "", "<unknown>"),
        ("date", "last week", "<invalid>"),
        ("date", 5, None),
        ("unknown-type", "x", None),
    ],
)
def test_a_cell_is_typed_by_its_column_as_the_apiserver_types_it(
    column_type: str, value: Any, shown: Any
) -> None:
    assert cell_at(".spec.value", {"spec": {"value": value}}, column_type) == shown
