"""The official Python client against the API emulator: every patch type.

Every call goes through the client's typed API classes, so every answer must
deserialize into the client's strict v37 models; a field the real API server
always returns and the emulator forgets fails here before it fails in the operator.
"""

import pytest
from kubernetes.client import CoreV1Api, CustomObjectsApi

from tests.integration.client_helpers import (
    APPLY,
    GROUP,
    JSON_PATCH,
    NAMESPACE,
    PLURAL,
    VERSION,
    a_pod,
    the_manifest,
)

pytestmark = pytest.mark.usefixtures("cluster_evidence")


# --- every patch type ----------------------------------------------------------------------
def test_a_merge_patch_on_a_custom_resource_merges_maps(custom: CustomObjectsApi) -> None:
    custom.create_namespaced_custom_object(
        GROUP, VERSION, NAMESPACE, PLURAL, the_manifest("llama3-70b")
    )

    patched = custom.patch_namespaced_custom_object(
        GROUP,
        VERSION,
        NAMESPACE,
        PLURAL,
        "llama3-70b",
        {"spec": {"gpu": {"tensorParallelSize": 8}}},
    )

    assert patched["spec"]["gpu"]["tensorParallelSize"] == 8
    assert patched["spec"]["gpu"]["product"] == "H100-80GB"
    assert patched["spec"]["replicas"] == 2


def test_a_merge_patch_writes_status_through_the_status_subresource(
    custom: CustomObjectsApi,
) -> None:
    custom.create_namespaced_custom_object(
        GROUP, VERSION, NAMESPACE, PLURAL, the_manifest("llama3-8b")
    )

    patched = custom.patch_namespaced_custom_object_status(
        GROUP, VERSION, NAMESPACE, PLURAL, "llama3-8b", {"status": {"readyReplicas": 1}}
    )

    assert patched["status"]["readyReplicas"] == 1
    assert patched["metadata"]["generation"] == 1


def test_a_json_patch_list_body_is_applied_in_order(
    core: CoreV1Api, custom: CustomObjectsApi
) -> None:
    pod = core.create_namespaced_pod(NAMESPACE, a_pod("engine-0"))
    patched_pod = core.patch_namespaced_pod(
        "engine-0",
        NAMESPACE,
        [
            {
                "op": "test",
                "path": "/metadata/resourceVersion",
                "value": pod.metadata.resource_version,
            },
            {"op": "add", "path": "/metadata/finalizers", "value": ["llamaops.io/drain"]},
        ],
    )
    assert patched_pod.metadata.finalizers == ["llamaops.io/drain"]

    custom.create_namespaced_custom_object(
        GROUP, VERSION, NAMESPACE, PLURAL, the_manifest("llama3-8b")
    )
    patched_llama = custom.patch_namespaced_custom_object(
        GROUP,
        VERSION,
        NAMESPACE,
        PLURAL,
        "llama3-8b",
        [{"op": "replace", "path": "/spec/replicas", "value": 4}],
        _content_type=JSON_PATCH,
    )
    assert patched_llama["spec"]["replicas"] == 4


def test_a_strategic_merge_patch_merges_containers_and_env_by_name(core: CoreV1Api) -> None:
    core.create_namespaced_pod(NAMESPACE, a_pod("engine-0"))

    patched = core.patch_namespaced_pod(
        "engine-0",
        NAMESPACE,
        {
            "spec": {
                "containers": [{"name": "engine", "env": [{"name": "VLLM_PORT", "value": "8000"}]}]
            }
        },
    )

    (engine,) = patched.spec.containers
    assert engine.image == "vllm/vllm-openai:v0.6.3"
    assert sorted((env.name, env.value) for env in engine.env) == [
        ("HF_HOME", "/models"),
        ("VLLM_PORT", "8000"),
    ]


def test_server_side_apply_creates_then_merges_a_config_map(core: CoreV1Api) -> None:
    applied = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "engine-args"},
        "data": {"max-model-len": "8192"},
    }

    created = core.patch_namespaced_config_map(
        "engine-args", NAMESPACE, applied, field_manager="llamaops", _content_type=APPLY
    )
    assert created.data == {"max-model-len": "8192"}

    applied["data"] = {"max-model-len": "16384", "dtype": "bfloat16"}
    merged = core.patch_namespaced_config_map(
        "engine-args", NAMESPACE, applied, field_manager="llamaops", _content_type=APPLY
    )
    assert merged.data == {"max-model-len": "16384", "dtype": "bfloat16"}
    assert merged.metadata.uid == created.metadata.uid


def test_server_side_apply_creates_and_updates_a_llama_deployment(
    custom: CustomObjectsApi,
) -> None:
    manifest = the_manifest("llama3-70b")

    created = custom.patch_namespaced_custom_object(
        GROUP,
        VERSION,
        NAMESPACE,
        PLURAL,
        "llama3-70b",
        manifest,
        field_manager="kubectl",
        _content_type=APPLY,
    )
    assert created["metadata"]["generation"] == 1
    assert created["spec"]["model"]["dtype"] == "auto"

    manifest["spec"]["replicas"] = 3
    updated = custom.patch_namespaced_custom_object(
        GROUP,
        VERSION,
        NAMESPACE,
        PLURAL,
        "llama3-70b",
        manifest,
        field_manager="kubectl",
        force=True,
        _content_type=APPLY,
    )
    assert updated["spec"]["replicas"] == 3
    assert updated["metadata"]["generation"] == 2
