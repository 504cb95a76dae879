"""PATCH bodies applied as the apiserver applies them: merge and JSON patches."""

from typing import Any

import pytest

from llamaops.sim.apiserver.patches import JSON_PATCH, MERGE, json_patch, merge_patch, patch_object
from tests.unit.sim.patch_builders import Obj, as_body, llama_deployment, refusal, with_metadata

# --- Merge patch (RFC 7386) -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("original", "patch", "expected"),
    [
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        (["a", "b"], ["c", "d"], ["c", "d"]),
        ({"a": "b"}, ["c"], ["c"]),
        ({"a": "foo"}, None, None),
        ({"a": "foo"}, "bar", "bar"),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ],
    ids=[
        "a value is replaced",
        "a new key is added",
        "null removes the only key",
        "null removes one key of two",
        "a list is replaced by a string",
        "a string is replaced by a list",
        "nested maps merge and null removes inside them",
        "a list of objects is replaced whole",
        "a list is replaced by a list",
        "an object is replaced by a list",
        "a null patch gives null",
        "an object is replaced by a string",
        "a null already in the original stays",
        "a list is replaced by an object without its nulls",
        "a null under a new key is dropped",
    ],
)
def test_a_merge_patch_follows_the_rfc_7386_examples(
    original: Any, patch: Any, expected: Any
) -> None:
    assert merge_patch(original, patch) == expected


def test_a_merge_patch_request_ignores_the_charset_parameter() -> None:
    patched = patch_object(
        f"{MERGE}; charset=utf-8",
        llama_deployment(replicas=1, model="llama3.1-8b"),
        as_body({"spec": {"replicas": 3}, "status": {"ready": 1}}),
        builtin=False,
    )
    assert patched["spec"] == {"replicas": 3, "model": "llama3.1-8b"}
    assert patched["status"] == {"ready": 1}


# --- JSON patch (RFC 6902) --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operations", "expected_spec"),
    [
        ([{"op": "add", "path": "/spec/gpu", "value": "H100"}], {"replicas": 1, "gpu": "H100"}),
        ([{"op": "remove", "path": "/spec/replicas"}], {}),
        ([{"op": "replace", "path": "/spec/replicas", "value": 4}], {"replicas": 4}),
        ([{"op": "move", "from": "/spec/replicas", "path": "/spec/size"}], {"size": 1}),
        (
            [{"op": "copy", "from": "/spec/replicas", "path": "/spec/minReplicas"}],
            {"replicas": 1, "minReplicas": 1},
        ),
        (
            [
                {"op": "test", "path": "/spec/replicas", "value": 1},
                {"op": "replace", "path": "/spec/replicas", "value": 2},
            ],
            {"replicas": 2},
        ),
    ],
    ids=["add", "remove", "replace", "move", "copy", "a passing test then replace"],
)
def test_a_json_patch_applies_each_operation(operations: list[Obj], expected_spec: Obj) -> None:
    patched = patch_object(
        JSON_PATCH, llama_deployment(replicas=1), as_body(operations), builtin=False
    )
    assert patched["spec"] == expected_spec


KOPF_ADDS_ITS_FINALIZER = [
    {"op": "test", "path": "/metadata/resourceVersion", "value": "5"},
    {
        "op": "add",
        "path": "/metadata/finalizers",
        "value": ["kopf.zalando.org/KopfFinalizerMarker"],
    },
]


def test_kopf_adds_its_finalizer_when_the_resource_version_matches() -> None:
    patched = json_patch(llama_deployment(), KOPF_ADDS_ITS_FINALIZER)
    assert patched["metadata"]["finalizers"] == ["kopf.zalando.org/KopfFinalizerMarker"]


def test_kopf_is_told_to_retry_when_the_resource_version_moved_on() -> None:
    moved_on = with_metadata(llama_deployment(), resourceVersion="6")
    error = refusal(JSON_PATCH, moved_on, as_body(KOPF_ADDS_ITS_FINALIZER), builtin=False)
    assert (error.code, error.reason) == (422, "Invalid")
    assert '"op":"test"' in error.message
    assert "/metadata/resourceVersion" in error.message


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "test", "path": "/spec/replicas", "value": 2},
        {"op": "remove", "path": "/spec/missing"},
        {"op": "replace", "path": "/spec/missing/deeper", "value": 1},
        {"op": "add", "path": "spec", "value": 1},
        {"op": "frobnicate", "path": "/spec/replicas"},
        {"op": "add", "path": "/spec/gpu"},
        {"path": "/spec/replicas", "value": 1},
    ],
    ids=[
        "a failing test",
        "removing a missing path",
        "a path through a missing map",
        "a path without a leading slash",
        "an unknown op",
        "an add without a value",
        "an operation without an op",
    ],
)
def test_a_json_patch_operation_that_cannot_apply_is_invalid(operation: Obj) -> None:
    error = refusal(
        JSON_PATCH,
        llama_deployment(replicas=1),
        as_body([{"op": "test", "path": "/kind", "value": "LlamaDeployment"}, operation]),
        builtin=False,
    )
    assert (error.code, error.reason) == (422, "Invalid")
    assert error.message.startswith("JSON patch operation 1 ")


@pytest.mark.parametrize(
    "body",
    [b'{"op": "add", "path": "/spec", "value": {}}', b'["add"]', b"[{"],
    ids=["an object instead of a list", "a list of strings", "broken JSON"],
)
def test_a_json_patch_body_that_is_not_a_list_of_objects_is_a_bad_request(body: bytes) -> None:
    error = refusal(JSON_PATCH, llama_deployment(), body, builtin=False)
    assert (error.code, error.reason) == (400, "BadRequest")
