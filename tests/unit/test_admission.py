"""Objects checked against the generated CRD as the API server checks them."""

from typing import Any

import pytest
import yaml

from llamaops.schema import admit
from tests.builders import a_deployment

Schema = dict[str, Any]


def errors_of(schema: Schema, obj: dict[str, Any]) -> list[str]:
    return [str(error) for error in admit(schema, obj)[1]]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d.replicas(-1),
            "spec.replicas: Invalid value: -1: spec.replicas in body should be greater than "
            "or equal to 0",
        ),
        (
            lambda d: d.dtype("int4"),
            'spec.model.dtype: Unsupported value: "int4": supported values: "auto", "bfloat16", '
            '"float16", "fp8"',
        ),
        (
            lambda d: d.gpu(memoryUtilization=1.5),
            "spec.gpu.memoryUtilization: Invalid value: 1.5: spec.gpu.memoryUtilization in body "
            "should be less than or equal to 0.98",
        ),
        (
            lambda d: d.autoscaling(enabled=True, minReplicas=5, maxReplicas=2),
            'spec.autoscaling.minReplicas: Invalid value: "object": autoscaling.minReplicas must '
            "be less than or equal to autoscaling.maxReplicas",
        ),
        (
            lambda d: d.autoscaling(enabled=True),
            'spec.autoscaling.maxReplicas: Invalid value: "object": autoscaling.maxReplicas is '
            "required when autoscaling is enabled",
        ),
        (
            lambda d: d.rollout(maxSurge=0, maxUnavailable="0%"),
            'spec.rollout.maxSurge: Invalid value: "object": rollout.maxSurge and '
            "rollout.maxUnavailable cannot both be 0",
        ),
        (
            lambda d: d.rollout(maxSurge="150%"),
            'spec.rollout.maxSurge: Invalid value: "150%": spec.rollout.maxSurge in body should '
            "match '^(100|[1-9]?[0-9])%$'",
        ),
        (
            lambda d: d.replicas("two"),
            'spec.replicas: Invalid value: "two": spec.replicas in body must be of type integer',
        ),
        (
            lambda d: d.set("spec.model.checkpoint", {"uri": "ftp://host/weights"}),
            "spec.model.checkpoint.uri: Invalid value:",
        ),
        (lambda d: d.set("spec.model", {"dtype": "fp8"}), "spec.model.name: Required value"),
        (
            lambda d: d.gpu(tensorParallelSize=0),
            "spec.gpu.tensorParallelSize: Invalid value: 0:",
        ),
    ],
    ids=[
        "negative-replicas",
        "unknown-dtype",
        "utilization-1.5",
        "min-above-max",
        "enabled-without-max",
        "no-surge-no-unavailable",
        "percent-over-100",
        "replicas-string",
        "checkpoint-scheme",
        "model-name-missing",
        "tp-zero",
    ],
)
def test_an_invalid_object_is_refused_naming_the_field(
    crd_schema: Schema, change: Any, expected: str
) -> None:
    errors = errors_of(crd_schema, change(a_deployment()).obj())

    assert len(errors) == 1, errors
    assert errors[0].startswith(expected)


def test_every_example_manifest_is_admitted(crd_schema: Schema, repo: Any) -> None:
    for manifest in sorted((repo / "manifests").glob("*.yaml")):
        assert errors_of(crd_schema, yaml.safe_load(manifest.read_text())) == [], manifest.name


def test_defaults_fill_in_what_the_user_left_out(crd_schema: Schema) -> None:
    stored, errors = admit(crd_schema, a_deployment().obj())

    assert errors == []
    spec = stored["spec"]
    assert spec["replicas"] == 1
    assert spec["model"]["dtype"] == "auto"
    assert spec["gpu"] == {"memoryUtilization": 0.9, "minKvSequences": 2}
    assert spec["rollout"]["maxSurge"] == 1
    assert spec["rollout"]["warmup"]["enabled"] is True
    assert spec["autoscaling"]["enabled"] is False
    assert "checkpoint" not in spec["model"]


def test_unknown_fields_are_pruned_and_metadata_is_kept(crd_schema: Schema) -> None:
    obj = a_deployment().set("spec.gpu.colour", "green").set("spec.extra", 1).obj()
    obj["metadata"]["labels"] = {"team": "ml"}

    stored, errors = admit(crd_schema, obj)

    assert errors == []
    assert "colour" not in stored["spec"]["gpu"]
    assert "extra" not in stored["spec"]
    assert stored["metadata"]["labels"] == {"team": "ml"}


def test_free_form_fields_keep_what_the_user_wrote(crd_schema: Schema) -> None:
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {}}}
    obj = a_deployment().set("spec.scheduling.affinity", affinity).obj()

    stored, errors = admit(crd_schema, obj)

    assert errors == []
    assert stored["spec"]["scheduling"]["affinity"] == affinity


@pytest.mark.parametrize("surge", [2, "25%", "100%"])
def test_rollout_sizes_take_counts_and_percentages(crd_schema: Schema, surge: Any) -> None:
    assert errors_of(crd_schema, a_deployment().rollout(maxSurge=surge).obj()) == []


def test_several_problems_are_all_reported(crd_schema: Schema) -> None:
    obj = a_deployment().replicas(-1).gpu(memoryUtilization=0.1).obj()

    fields = [error.split(":")[0] for error in errors_of(crd_schema, obj)]

    assert fields == ["spec.gpu.memoryUtilization", "spec.replicas"]


def test_transition_rules_see_the_old_object() -> None:
    schema = {
        "type": "object",
        "properties": {"size": {"type": "integer"}},
        "x-kubernetes-validations": [
            {"rule": "self.size >= oldSelf.size", "message": "size may not shrink"}
        ],
    }

    assert admit(schema, {"size": 1})[1] == []  # on create there is no oldSelf
    assert admit(schema, {"size": 3}, old={"size": 2})[1] == []
    shrunk = admit(schema, {"size": 1}, old={"size": 2})[1]
    assert [e.message for e in shrunk] == ['Invalid value: "object": size may not shrink']


def test_null_in_a_field_that_is_not_nullable_is_dropped_then_defaulted(crd_schema: Schema) -> None:
    obj = a_deployment().set("spec.gpu", None).autoscaling(maxReplicas=None).obj()

    stored, errors = admit(crd_schema, obj)

    assert errors == []
    assert stored["spec"]["gpu"]["memoryUtilization"] == 0.9
    assert "maxReplicas" not in stored["spec"]["autoscaling"]


def test_a_list_map_holds_each_key_once(crd_schema: Schema) -> None:
    condition = {
        "type": "Available",
        "status": "True",
        "reason": "Ready",
        "lastTransitionTime": "2026-01-01T00:00:00Z",
    }
    obj = a_deployment().set("status.conditions", [condition, dict(condition)]).obj()

    errors = errors_of(crd_schema, obj)

    assert errors == ['status.conditions[1]: Duplicate value: {"type": "Available"}']


@pytest.mark.parametrize(
    ("scheduling_or_engine", "value", "fragment"),
    [
        (
            "spec.engine.extraArgs",
            ["--max-num-seqs=64", "--tensor-parallel-size=2"],
            "engine.extraArgs may not set flags llamaops sets from the spec",
        ),
        ("spec.engine.extraArgs", ["-tp", "2"], "engine.extraArgs may not set flags"),
        (
            "spec.scheduling.tolerations",
            [{"operator": "Equal", "value": "x"}],
            "a toleration without a key must use operator Exists",
        ),
        (
            "spec.scheduling.tolerations",
            [{"key": "a", "operator": "Exists", "value": "x"}],
            "a toleration with operator Exists may not have a value",
        ),
        (
            "spec.scheduling.tolerations",
            [{"key": "a", "tolerationSeconds": 5}],
            "tolerationSeconds needs effect NoExecute",
        ),
    ],
    ids=[
        "owned-flag",
        "owned-short-flag",
        "no-key-equal",
        "exists-with-value",
        "seconds-no-effect",
    ],
)
def test_rules_the_schema_cannot_say_are_cel(
    crd_schema: Schema, scheduling_or_engine: str, value: Any, fragment: str
) -> None:
    errors = errors_of(crd_schema, a_deployment().set(scheduling_or_engine, value).obj())

    assert len(errors) == 1 and fragment in errors[0], errors


def test_engine_flags_llamaops_does_not_own_are_allowed(crd_schema: Schema) -> None:
    args = ["--max-num-seqs=64", "--enable-prefix-caching", "--model-loader-extra-config={}"]

    assert errors_of(crd_schema, a_deployment().set("spec.engine.extraArgs", args).obj()) == []


def test_secret_names_may_contain_dots(crd_schema: Schema) -> None:
    obj = a_deployment().set("spec.model.hfTokenSecretRef", {"name": "hf.token"}).obj()

    assert errors_of(crd_schema, obj) == []
