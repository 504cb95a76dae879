"""PATCH bodies applied as the apiserver applies them: merge, JSON, strategic and apply."""

import copy
import json
from typing import Any

import pytest

from llamaops.sim.apiserver.patches import (
    APPLY,
    JSON_PATCH,
    MERGE,
    STRATEGIC,
    PatchError,
    json_patch,
    merge_patch,
    patch_object,
    server_side_apply,
    strategic_merge_patch,
)

Obj = dict[str, Any]


def container(name: str, image: str = "busybox:1", **fields: Any) -> Obj:
    return {"name": name, "image": image, **fields}


def pod(*containers: Obj, **spec: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default", "resourceVersion": "5"},
        "spec": {"containers": list(containers), **spec},
    }


def with_metadata(obj: Obj, **metadata: Any) -> Obj:
    return {**obj, "metadata": {**obj["metadata"], **metadata}}


def service(*ports: Obj) -> Obj:
    return {"apiVersion": "v1", "kind": "Service", "spec": {"ports": list(ports)}}


def llama_deployment(**spec: Any) -> Obj:
    return {
        "apiVersion": "llamaops.dev/v1alpha1",
        "kind": "LlamaDeployment",
        "metadata": {"name": "chat", "namespace": "default", "resourceVersion": "5"},
        "spec": spec,
    }


def as_body(value: Any) -> bytes:
    return json.dumps(value).encode()


def refusal(content_type: str, original: Obj, body: bytes, *, builtin: bool = True) -> PatchError:
    with pytest.raises(PatchError) as caught:
        patch_object(content_type, original, body, builtin=builtin)
    return caught.value


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


# --- Strategic merge patch --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("original", "patch", "expected"),
    [
        (
            pod(container("app", "vllm:1"), container("sidecar")),
            {"spec": {"containers": [{"name": "app", "image": "vllm:2"}]}},
            pod(container("app", "vllm:2"), container("sidecar")),
        ),
        (
            pod(container("app")),
            {"spec": {"containers": [container("metrics", "exporter:1")]}},
            pod(container("metrics", "exporter:1"), container("app")),
        ),
        (
            pod(container("app", env=[{"name": "A", "value": "1"}, {"name": "B", "value": "2"}])),
            {"spec": {"containers": [{"name": "app", "env": [{"name": "B", "value": "3"}]}]}},
            pod(container("app", env=[{"name": "A", "value": "1"}, {"name": "B", "value": "3"}])),
        ),
        (
            pod(container("app"), container("sidecar")),
            {"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}]}},
            pod(container("app")),
        ),
        (
            pod(container("app"), container("sidecar")),
            {"spec": {"containers": [{"$patch": "replace"}, container("only", "vllm:2")]}},
            pod(container("only", "vllm:2")),
        ),
        (
            pod(container("app"), nodeSelector={"gpu": "h100", "zone": "a"}),
            {"spec": {"nodeSelector": {"$patch": "replace", "gpu": "a100"}}},
            pod(container("app"), nodeSelector={"gpu": "a100"}),
        ),
        (
            pod(container("app"), nodeSelector={"gpu": "h100", "zone": "a"}),
            {"spec": {"nodeSelector": {"zone": None}}},
            pod(container("app"), nodeSelector={"gpu": "h100"}),
        ),
        (
            pod(container("app"), nodeSelector={"gpu": "h100", "zone": "a"}),
            {"spec": {"nodeSelector": {"$patch": "delete"}}},
            pod(container("app"), nodeSelector={}),
        ),
        (
            pod(container("app"), tolerations=[{"key": "gpu", "operator": "Exists"}]),
            {"spec": {"tolerations": [{"key": "spot", "operator": "Exists"}]}},
            pod(container("app"), tolerations=[{"key": "spot", "operator": "Exists"}]),
        ),
        (
            pod(container("app", args=["--tp", "2"])),
            {"spec": {"containers": [{"name": "app", "args": ["--tp", "4"]}]}},
            pod(container("app", args=["--tp", "4"])),
        ),
        (
            pod(container("app", ports=[{"containerPort": 8000}, {"containerPort": 9090}])),
            {
                "spec": {
                    "containers": [
                        {"name": "app", "ports": [{"containerPort": 8000, "name": "http"}]}
                    ]
                }
            },
            pod(
                container(
                    "app", ports=[{"containerPort": 8000, "name": "http"}, {"containerPort": 9090}]
                )
            ),
        ),
        (
            pod(container("app", volumeMounts=[{"mountPath": "/models", "name": "cache"}])),
            {
                "spec": {
                    "containers": [
                        {"name": "app", "volumeMounts": [{"mountPath": "/cache", "name": "cache"}]}
                    ]
                }
            },
            pod(
                container(
                    "app",
                    volumeMounts=[
                        {"mountPath": "/cache", "name": "cache"},
                        {"mountPath": "/models", "name": "cache"},
                    ],
                )
            ),
        ),
        (
            pod(container("a"), container("b")),
            {
                "spec": {
                    "$setElementOrder/containers": [{"name": "c"}, {"name": "a"}, {"name": "b"}],
                    "containers": [container("c")],
                }
            },
            pod(container("c"), container("a"), container("b")),
        ),
        (
            pod(container("app"), strategy={"type": "Recreate", "extra": 1}),
            {"spec": {"strategy": {"$retainKeys": ["type"], "type": "RollingUpdate"}}},
            pod(container("app"), strategy={"type": "RollingUpdate"}),
        ),
    ],
    ids=[
        "a container is merged by name and the other is kept",
        "a container with a new name goes first, as the apiserver orders it",
        "env is merged by name",
        "$patch delete removes one container",
        "$patch replace in a list replaces the list",
        "$patch replace on a map replaces the map",
        "null deletes a map key",
        "$patch delete on a map empties it, as the apiserver does",
        "tolerations have no merge key and are replaced",
        "args are replaced",
        "container ports are merged by containerPort",
        "volume mounts are merged by mountPath",
        "$setElementOrder orders the merged list",
        "$retainKeys drops the keys it does not list",
    ],
)
def test_a_strategic_merge_patch_merges_pod_lists_by_key(
    original: Obj, patch: Obj, expected: Obj
) -> None:
    assert strategic_merge_patch(original, patch) == expected


UPSTREAM_MERGE_KEYS = [
    ("containers", "name"),
    ("initContainers", "name"),
    ("ephemeralContainers", "name"),
    ("env", "name"),
    ("ports", "containerPort"),
    ("ports", "port"),
    ("volumes", "name"),
    ("volumeMounts", "mountPath"),
    ("volumeDevices", "devicePath"),
    ("imagePullSecrets", "name"),
    ("conditions", "type"),
    ("ownerReferences", "uid"),
    ("hostAliases", "ip"),
    ("topologySpreadConstraints", "topologyKey"),
    ("readinessGates", "conditionType"),
    ("addresses", "type"),
]


@pytest.mark.parametrize(
    ("field", "key"), UPSTREAM_MERGE_KEYS, ids=[f"{f} by {k}" for f, k in UPSTREAM_MERGE_KEYS]
)
def test_a_list_with_a_merge_key_upstream_is_merged_on_it(field: str, key: str) -> None:
    original = {"spec": {field: [{key: 1, "note": "old"}, {key: 2}]}}
    patch = {"spec": {field: [{key: 1, "note": "new"}, {key: 3}]}}
    # As apimachinery's normalizeElementOrder: the new item goes before the server-only one.
    assert strategic_merge_patch(original, patch)["spec"][field] == [
        {key: 1, "note": "new"},
        {key: 3},
        {key: 2},
    ]


@pytest.mark.parametrize(
    ("field", "key"),
    [("tolerations", "key"), ("taints", "key"), ("addresses", "ip"), ("ports", "name")],
    ids=[
        "tolerations",
        "taints",
        "endpoint addresses, which carry no type",
        "ports without a port",
    ],
)
def test_a_list_without_a_merge_key_upstream_is_replaced(field: str, key: str) -> None:
    original = {"spec": {field: [{key: 1, "note": "old"}, {key: 2}]}}
    patch = {"spec": {field: [{key: 1, "note": "new"}]}}
    assert strategic_merge_patch(original, patch)["spec"][field] == [{key: 1, "note": "new"}]


FINALIZED = {"metadata": {"name": "web", "finalizers": ["a.example/x", "b.example/y"]}}


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        (
            {"metadata": {"finalizers": ["b.example/y", "kopf.zalando.org/KopfFinalizerMarker"]}},
            ["a.example/x", "b.example/y", "kopf.zalando.org/KopfFinalizerMarker"],
        ),
        ({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a.example/x"]}}, ["b.example/y"]),
        (
            {"metadata": {"$setElementOrder/finalizers": ["b.example/y", "a.example/x"]}},
            ["b.example/y", "a.example/x"],
        ),
    ],
    ids=[
        "new finalizers are added once, as to a set",
        "$deleteFromPrimitiveList removes a finalizer",
        "$setElementOrder reorders the finalizers",
    ],
)
def test_finalizers_are_merged_as_a_set(patch: Obj, expected: list[str]) -> None:
    assert strategic_merge_patch(FINALIZED, patch)["metadata"]["finalizers"] == expected


def test_a_namespace_spec_finalizers_list_is_replaced_not_merged() -> None:
    namespace = {"kind": "Namespace", "spec": {"finalizers": ["kubernetes"]}}
    patched = strategic_merge_patch(namespace, {"spec": {"finalizers": ["other"]}})
    assert patched["spec"]["finalizers"] == ["other"]


def test_pod_conditions_are_merged_by_type() -> None:
    ready = {"type": "Ready", "status": "False"}
    scheduled = {"type": "PodScheduled", "status": "True"}
    original = {"status": {"conditions": [scheduled, ready]}}
    patch = {"status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    assert strategic_merge_patch(original, patch)["status"]["conditions"] == [
        scheduled,
        {"type": "Ready", "status": "True"},
    ]


def test_service_ports_are_merged_by_port() -> None:
    original = service({"name": "http", "port": 80}, {"name": "metrics", "port": 9090})
    patch = {"spec": {"ports": [{"port": 80, "targetPort": 8000}, {"port": 443}]}}
    assert strategic_merge_patch(original, patch)["spec"]["ports"] == [
        {"name": "http", "port": 80, "targetPort": 8000},
        {"port": 443},
        {"name": "metrics", "port": 9090},
    ]


def test_owner_references_are_merged_by_uid() -> None:
    first = {"kind": "LlamaDeployment", "name": "chat", "uid": "u1"}
    second = {"kind": "LlamaDeployment", "name": "code", "uid": "u2"}
    original = {"metadata": {"ownerReferences": [first]}}
    patched = strategic_merge_patch(original, {"metadata": {"ownerReferences": [second]}})
    assert patched["metadata"]["ownerReferences"] == [second, first]


@pytest.mark.parametrize(
    "patch",
    [
        {"spec": {"containers": [{"image": "vllm:2"}]}},
        {"spec": {"containers": [{"$patch": "delete"}]}},
        {"spec": {"containers": [{"name": "app", "$patch": "explode"}]}},
        {"spec": {"nodeSelector": {"$patch": "explode"}}},
        {"metadata": {"$deleteFromPrimitiveList/finalizers": "a.example/x"}},
    ],
    ids=[
        "a container without its merge key",
        "a delete without the merge key",
        "an unknown directive in a list item",
        "an unknown directive in a map",
        "a deletion list that is not a list",
    ],
)
def test_a_malformed_strategic_merge_patch_is_a_bad_request(patch: Obj) -> None:
    error = refusal(STRATEGIC, pod(container("app")), as_body(patch))
    assert (error.code, error.reason) == (400, "BadRequest")


def test_a_strategic_merge_patch_on_a_custom_resource_is_an_unsupported_media_type() -> None:
    error = refusal(STRATEGIC, llama_deployment(), as_body({"spec": {}}), builtin=False)
    assert (error.code, error.reason) == (415, "UnsupportedMediaType")
    assert error.message == (
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
    )


def test_an_unknown_content_type_is_an_unsupported_media_type() -> None:
    error = refusal("text/plain", pod(), b"{}")
    assert (error.code, error.reason) == (415, "UnsupportedMediaType")
    assert STRATEGIC in error.message


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        (MERGE, b"{not json"),
        (STRATEGIC, b"{not json"),
        (MERGE, b""),
        (STRATEGIC, b'["a list"]'),
        (APPLY, b"kind: [unclosed"),
        (APPLY, b"- a\n- list\n"),
    ],
    ids=[
        "broken JSON as a merge patch",
        "broken JSON as a strategic merge patch",
        "an empty merge patch",
        "a list as a strategic merge patch",
        "broken YAML as an apply",
        "a YAML list as an apply",
    ],
)
def test_a_body_that_does_not_decode_to_an_object_is_a_bad_request(
    content_type: str, body: bytes
) -> None:
    error = refusal(content_type, pod(container("app")), body)
    assert (error.code, error.reason) == (400, "BadRequest")


# --- Server-side apply ------------------------------------------------------------------------


@pytest.mark.parametrize("builtin", [True, False], ids=["built-in", "custom resource"])
def test_an_apply_that_creates_gives_the_applied_object(builtin: bool) -> None:
    applied = llama_deployment(replicas=2, models=["llama3.1-8b"])
    assert server_side_apply(None, applied, builtin=builtin) == applied


def test_an_apply_to_a_pod_merges_its_containers_by_name() -> None:
    live = pod(container("app", "vllm:1"), container("sidecar"))
    applied = pod(container("app", "vllm:2"))
    assert server_side_apply(live, applied, builtin=True) == pod(
        container("app", "vllm:2"), container("sidecar")
    )


def test_an_apply_to_a_custom_resource_merges_maps_and_replaces_lists() -> None:
    live = llama_deployment(replicas=1, models=["a", "b"], gpu={"product": "H100", "count": 8})
    applied = llama_deployment(models=["c"], gpu={"count": 4}, replicas=None)
    assert server_side_apply(live, applied, builtin=False)["spec"] == {
        "models": ["c"],
        "gpu": {"product": "H100", "count": 4},
    }


def test_an_apply_drops_the_managed_fields_it_is_sent() -> None:
    applied = with_metadata(llama_deployment(), managedFields=[{"manager": "kubectl"}])
    patched = patch_object(APPLY, llama_deployment(), as_body(applied), builtin=False)
    assert "managedFields" not in patched["metadata"]


def test_an_apply_body_may_be_yaml_and_its_timestamps_stay_strings() -> None:
    body = b"""
apiVersion: llamaops.dev/v1alpha1
kind: LlamaDeployment
metadata:
  name: chat
  annotations:
    llamaops.dev/restartedAt: 2024-05-01T10:00:00Z
spec:
  replicas: 3
"""
    patched = patch_object(APPLY, llama_deployment(replicas=1), body, builtin=False)
    assert patched["spec"] == {"replicas": 3}
    assert patched["metadata"]["annotations"] == {
        "llamaops.dev/restartedAt": "2024-05-01T10:00:00Z"
    }
    assert patched["metadata"]["resourceVersion"] == "5"


# --- The original is never changed ------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "patch"),
    [
        (MERGE, {"metadata": {"labels": None}, "spec": {"containers": [container("x")]}}),
        (JSON_PATCH, [{"op": "remove", "path": "/spec/containers/0/env/0"}]),
        (
            STRATEGIC,
            {
                "spec": {
                    "containers": [{"name": "app", "env": [{"name": "A", "$patch": "delete"}]}]
                },
                "metadata": {"finalizers": ["z"]},
            },
        ),
        (APPLY, pod(container("app", "vllm:9", env=[{"name": "A", "value": "2"}]))),
    ],
    ids=["merge", "json", "strategic", "apply"],
)
def test_patching_never_changes_the_original(content_type: str, patch: Any) -> None:
    original = with_metadata(
        pod(container("app", env=[{"name": "A", "value": "1"}])),
        labels={"app": "web"},
        finalizers=["a"],
    )
    before = copy.deepcopy(original)
    patched = patch_object(content_type, original, as_body(patch), builtin=True)
    assert patched != before
    assert original == before
    patched["spec"]["containers"][0]["name"] = "changed"
    assert original == before
