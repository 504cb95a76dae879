"""The CRD generated from the API models: committed, valid, structural and self-explaining."""

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from llamaops.api.crd import crd_yaml
from llamaops.schema import rule_compile_errors

CRD_FILE = "crds/llamadeployments.serving.llamaops.io.yaml"
Schema = dict[str, Any]


def walk(schema: Schema, path: str = "") -> Iterator[tuple[str, Schema]]:
    """Every schema node with its field path (array items as [*])."""
    yield path, schema
    for name, child in schema.get("properties", {}).items():
        yield from walk(child, f"{path}.{name}")
    if isinstance(schema.get("items"), dict):
        yield from walk(schema["items"], f"{path}[*]")
    if isinstance(schema.get("additionalProperties"), dict):
        yield from walk(schema["additionalProperties"], f"{path}{{*}}")


def field(schema: Schema, json_path: str) -> Schema:
    node = schema
    for part in json_path.strip(".").split("."):
        node = node["properties"][part]
    return node


def test_the_committed_crd_is_what_llamaops_crd_prints(repo: Path) -> None:
    printed = subprocess.run(
        [str(Path(sys.executable).parent / "llamaops"), "crd"],
        capture_output=True,
        text=True,
        check=True,
        cwd=repo,
    ).stdout

    assert printed == crd_yaml()
    assert (repo / CRD_FILE).read_text() == printed, "run `make crd` and commit the result"


def test_the_crd_is_a_valid_apiextensions_v1_object(repo: Path) -> None:
    document = yaml.safe_load((repo / CRD_FILE).read_text())

    kubernetes_validate.validate(document, "1.32", strict=True)


def test_names_scope_and_subresources(crd: dict[str, Any]) -> None:
    spec = crd["spec"]
    version = spec["versions"][0]

    assert crd["metadata"]["name"] == "llamadeployments.serving.llamaops.io"
    assert spec["names"]["shortNames"] == ["llama", "ld"]
    assert (spec["group"], version["name"], spec["scope"]) == (
        "serving.llamaops.io",
        "v1alpha1",
        "Namespaced",
    )
    assert version["subresources"]["status"] == {}
    assert version["subresources"]["scale"] == {
        "specReplicasPath": ".spec.replicas",
        "statusReplicasPath": ".status.replicas",
        "labelSelectorPath": ".status.selector",
    }


def test_scale_paths_point_at_fields_of_the_right_type(crd_schema: Schema) -> None:
    assert field(crd_schema, ".spec.replicas")["type"] == "integer"
    assert field(crd_schema, ".status.replicas")["type"] == "integer"
    assert field(crd_schema, ".status.selector")["type"] == "string"


def test_printer_columns_show_what_a_user_checks_first(
    crd: dict[str, Any], crd_schema: Schema
) -> None:
    columns = crd["spec"]["versions"][0]["additionalPrinterColumns"]

    names = [c["name"] for c in columns]
    assert names == ["Model", "GPU", "TP", "Ready", "Desired", "Queue", "Checkpoint", "Age"]
    for column in columns:
        if column["jsonPath"].startswith(".metadata"):
            continue
        target = field(crd_schema, column["jsonPath"])
        assert target["type"] == column["type"], column


def test_every_field_has_a_description_kubectl_explain_can_show(crd_schema: Schema) -> None:
    # Scalar list items and map values are not fields of their own; objects in lists are.
    fields = [
        (p, n) for p, n in walk(crd_schema) if not p.endswith(("*]", "*}")) or "properties" in n
    ]
    undocumented = [path or "<root>" for path, node in fields if not node.get("description")]

    assert undocumented == []


def test_the_schema_is_structural(crd_schema: Schema) -> None:
    problems = []
    for path, node in walk(crd_schema):
        int_or_string = node.get("x-kubernetes-int-or-string")
        preserved = node.get("x-kubernetes-preserve-unknown-fields")
        if "type" not in node and not (int_or_string or preserved):
            problems.append(f"{path}: no type")
        if "anyOf" in node and not int_or_string:
            problems.append(f"{path}: anyOf outside int-or-string")
        if node.get("additionalProperties") is False or "$ref" in node or "title" in node:
            problems.append(f"{path}: not OpenAPI v3.0 structural")
        if "properties" in node and "additionalProperties" in node:
            problems.append(f"{path}: properties with additionalProperties")

    assert problems == []


def test_bounds_enums_and_defaults_are_in_the_schema(crd_schema: Schema) -> None:
    gpu = field(crd_schema, ".spec.gpu")
    utilization = gpu["properties"]["memoryUtilization"]

    assert (utilization["minimum"], utilization["maximum"], utilization["default"]) == (
        0.5,
        0.98,
        0.9,
    )
    assert gpu["properties"]["minKvSequences"]["default"] == 2
    assert gpu["default"] == {}, "a missing spec.gpu still gets its fields' defaults"
    assert field(crd_schema, ".spec.model.dtype")["enum"] == ["auto", "bfloat16", "float16", "fp8"]
    assert field(crd_schema, ".spec.replicas")["minimum"] == 0
    assert field(crd_schema, ".spec")["required"] == ["model"]
    assert "pattern" in field(crd_schema, ".spec.model.checkpoint.uri")


def test_optional_objects_get_no_default_so_they_stay_absent(crd_schema: Schema) -> None:
    for path in (
        ".spec.model.checkpoint",
        ".spec.model.architecture",
        ".spec.model.hfTokenSecretRef",
    ):
        assert "default" not in field(crd_schema, path), path


def test_rollout_sizes_are_int_or_string(crd_schema: Schema) -> None:
    surge = field(crd_schema, ".spec.rollout.maxSurge")

    assert surge["x-kubernetes-int-or-string"] is True
    assert surge["anyOf"] == [{"type": "integer"}, {"type": "string"}]
    assert surge["default"] == 1


def test_conditions_are_a_map_keyed_by_type(crd_schema: Schema) -> None:
    conditions = field(crd_schema, ".status.conditions")

    assert conditions["x-kubernetes-list-type"] == "map"
    assert conditions["x-kubernetes-list-map-keys"] == ["type"]
    assert conditions["items"]["required"] == ["type", "status", "reason", "lastTransitionTime"]


def test_cross_field_rules_are_cel_that_compiles(crd_schema: Schema) -> None:
    rules = [
        rule["rule"]
        for _, node in walk(crd_schema)
        for rule in node.get("x-kubernetes-validations", [])
    ]

    assert any("minReplicas <= self.maxReplicas" in rule for rule in rules)
    assert rule_compile_errors(crd_schema) == []


def test_a_rule_cel_cannot_compile_is_reported_not_skipped() -> None:
    broken = {"type": "object", "x-kubernetes-validations": [{"rule": "self.a <", "message": "m"}]}

    errors = rule_compile_errors(broken)

    assert len(errors) == 1
    assert "self.a <" in errors[0]


@pytest.mark.parametrize("path", [".spec.engine.extraArgs", ".spec.scheduling.tolerations"])
def test_lists_are_bounded(crd_schema: Schema, path: str) -> None:
    assert field(crd_schema, path)["maxItems"] > 0
