"""PATCH bodies applied as the apiserver applies them: strategic merge patches, and
bodies that are refused.
"""

import pytest

from llamaops.sim.apiserver.patches import APPLY, MERGE, STRATEGIC, strategic_merge_patch
from tests.unit.sim.patch_builders import Obj, as_body, container, llama_deployment, pod, refusal


def service(*ports: Obj) -> Obj:
    return {"apiVersion": "v1", "kind": "Service", "spec": {"ports": list(ports)}}


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
