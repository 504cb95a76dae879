"""The official Python client against the API emulator, used the way an operator uses it.

Every call goes through the client's typed API classes, so every answer must deserialize
into the client's strict v37 models; a field the real API server always returns and the
emulator forgets fails here before it fails in the operator.
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, watch
from kubernetes.client import (
    ApiClient,
    ApiException,
    CoreV1Api,
    CustomObjectsApi,
    V1Node,
    V1NodeList,
    V1Pod,
    V1PodList,
    V1Service,
    V1ServiceList,
)

from llamaops.sim.apiserver.background import BackgroundApiServer
from tests.builders import gpu_node

pytestmark = pytest.mark.usefixtures("cluster_evidence")

REPO = Path(__file__).resolve().parents[2]
GROUP, VERSION, PLURAL = "serving.llamaops.io", "v1alpha1", "llamadeployments"
NAMESPACE = "default"
APPLY = "application/apply-patch+yaml"
JSON_PATCH = "application/json-patch+json"


# --- builders ------------------------------------------------------------------------------
def a_pod(name: str, **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "containers": [
                {
                    "name": "engine",
                    "image": "vllm/vllm-openai:v0.6.3",
                    "env": [{"name": "HF_HOME", "value": "/models"}],
                }
            ]
        },
    }


def a_service(name: str, port: int = 8000) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"selector": {"app": name}, "ports": [{"name": "http", "port": port}]},
    }


def the_manifest(name: str) -> dict[str, Any]:
    """A LlamaDeployment from the repository's manifests/."""
    loaded: dict[str, Any] = yaml.safe_load((REPO / "manifests" / f"{name}.yaml").read_text())
    return loaded


@contextmanager
def expect_api_error(code: int, reason: str) -> Iterator[dict[str, Any]]:
    """Expect the block to fail with `code`; yields the Status body once it has."""
    status: dict[str, Any] = {}
    with pytest.raises(ApiException) as raised:
        yield status
    assert raised.value.status == code, raised.value.body
    status.update(json.loads(raised.value.body))
    assert status["kind"] == "Status", status
    assert (status["code"], status["reason"]) == (code, reason), status


# --- fixtures ------------------------------------------------------------------------------
@pytest.fixture
def core(kube: ApiClient) -> CoreV1Api:
    return CoreV1Api(kube)


@pytest.fixture
def custom(kube: ApiClient) -> CustomObjectsApi:
    return CustomObjectsApi(kube)


# --- create, read, update, delete ----------------------------------------------------------
def test_pods_are_created_read_replaced_listed_and_deleted(core: CoreV1Api) -> None:
    created = core.create_namespaced_pod(NAMESPACE, a_pod("engine-0", app="llama"))
    assert isinstance(created, V1Pod)
    assert created.metadata.uid and created.metadata.resource_version
    assert created.status.phase == "Pending"

    read = core.read_namespaced_pod("engine-0", NAMESPACE)
    read.metadata.labels["track"] = "canary"
    replaced = core.replace_namespaced_pod("engine-0", NAMESPACE, read)
    assert replaced.metadata.labels == {"app": "llama", "track": "canary"}
    assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version)

    listed = core.list_namespaced_pod(NAMESPACE, label_selector="track=canary")
    assert isinstance(listed, V1PodList)
    assert [pod.metadata.name for pod in listed.items] == ["engine-0"]

    deleted = core.delete_namespaced_pod("engine-0", NAMESPACE)
    assert isinstance(deleted, V1Pod)
    with expect_api_error(404, "NotFound"):
        core.read_namespaced_pod("engine-0", NAMESPACE)


def test_a_pod_status_as_a_kubelet_writes_it_deserializes(core: CoreV1Api) -> None:
    core.create_namespaced_pod(NAMESPACE, a_pod("engine-0"))
    running = {
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [
                {
                    "name": "engine",
                    "ready": True,
                    "restartCount": 0,
                    "image": "vllm/vllm-openai:v0.6.3",
                    "state": {"running": {"startedAt": "2025-01-01T00:00:00Z"}},
                }
            ],
        }
    }

    written = core.patch_namespaced_pod_status("engine-0", NAMESPACE, running)
    read = core.read_namespaced_pod_status("engine-0", NAMESPACE)
    listed = core.list_pod_for_all_namespaces().items

    for pod in (written, read, *listed):
        assert isinstance(pod, V1Pod)
        (engine,) = pod.status.container_statuses
        assert engine.ready is True
        assert isinstance(engine.image_id, str)
        assert engine.state.running.started_at is not None
    assert read.status.phase == "Running"


def test_services_are_created_read_patched_listed_and_deleted(core: CoreV1Api) -> None:
    created = core.create_namespaced_service(NAMESPACE, a_service("llama"))
    assert isinstance(created, V1Service)
    assert created.spec.cluster_ip, "the server allocates a cluster IP"
    assert created.spec.ports[0].target_port == 8000, "targetPort defaults to port"

    read = core.read_namespaced_service("llama", NAMESPACE)
    read.spec.ports[0].port = 80
    replaced = core.replace_namespaced_service("llama", NAMESPACE, read)
    assert replaced.spec.ports[0].port == 80
    assert replaced.spec.cluster_ip == created.spec.cluster_ip

    patched = core.patch_namespaced_service(
        "llama", NAMESPACE, {"metadata": {"labels": {"a": "b"}}}
    )
    assert patched.metadata.labels == {"a": "b"}
    listed = core.list_namespaced_service(NAMESPACE)
    assert isinstance(listed, V1ServiceList)
    assert "llama" in [service.metadata.name for service in listed.items]

    deleted = core.delete_namespaced_service("llama", NAMESPACE)
    assert isinstance(deleted, V1Service), "a Service's delete answers with the Service"
    assert deleted.metadata.name == "llama"
    with expect_api_error(404, "NotFound"):
        core.read_namespaced_service("llama", NAMESPACE)


def test_nodes_are_created_read_patched_listed_and_deleted(core: CoreV1Api) -> None:
    created = core.create_node(gpu_node("h100-0", gpus=8))
    assert isinstance(created, V1Node)
    assert created.status.capacity["nvidia.com/gpu"] == "8"
    assert isinstance(created.status.node_info.kubelet_version, str)

    cordoned = core.patch_node("h100-0", {"spec": {"unschedulable": True}})
    assert cordoned.spec.unschedulable is True
    read = core.read_node("h100-0")
    read.metadata.labels["pool"] = "inference"
    replaced = core.replace_node("h100-0", read)
    assert replaced.metadata.labels["pool"] == "inference"
    listed = core.list_node()
    assert isinstance(listed, V1NodeList)
    assert [node.metadata.name for node in listed.items] == ["h100-0"]

    core.delete_node("h100-0")
    with expect_api_error(404, "NotFound"):
        core.read_node("h100-0")


def test_a_llama_deployment_from_the_manifests_is_created_read_replaced_and_deleted(
    custom: CustomObjectsApi,
) -> None:
    created = custom.create_namespaced_custom_object(
        GROUP, VERSION, NAMESPACE, PLURAL, the_manifest("llama3-8b")
    )
    assert created["metadata"]["generation"] == 1
    assert created["spec"]["model"]["dtype"] == "auto", "the schema's default is applied"

    read = custom.get_namespaced_custom_object(GROUP, VERSION, NAMESPACE, PLURAL, "llama3-8b")
    read["spec"]["replicas"] = 3
    replaced = custom.replace_namespaced_custom_object(
        GROUP, VERSION, NAMESPACE, PLURAL, "llama3-8b", read
    )
    assert replaced["spec"]["replicas"] == 3
    assert replaced["metadata"]["generation"] == 2

    listed = custom.list_namespaced_custom_object(GROUP, VERSION, NAMESPACE, PLURAL)
    assert listed["kind"] == "LlamaDeploymentList"
    assert [item["metadata"]["name"] for item in listed["items"]] == ["llama3-8b"]

    custom.delete_namespaced_custom_object(GROUP, VERSION, NAMESPACE, PLURAL, "llama3-8b")
    with expect_api_error(404, "NotFound"):
        custom.get_namespaced_custom_object(GROUP, VERSION, NAMESPACE, PLURAL, "llama3-8b")


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


# --- watching ------------------------------------------------------------------------------
def follow_pods(core: CoreV1Api) -> Iterator[tuple[str, dict[str, V1Pod]]]:
    """List, then watch from the list's resourceVersion, as an informer does; on 410 Gone
    (an exception, or an ERROR event) list again. Yields each step and the cache after it."""
    while True:
        listed = core.list_namespaced_pod(NAMESPACE)
        cache = {pod.metadata.name: pod for pod in listed.items}
        yield "RELISTED", cache
        try:
            for event in watch.Watch().stream(
                core.list_namespaced_pod,
                NAMESPACE,
                resource_version=listed.metadata.resource_version,
                timeout_seconds=10,
                _request_timeout=10,
            ):
                if event["type"] == "ERROR":
                    assert event["raw_object"]["code"] == 410, event["raw_object"]
                    break
                pod: V1Pod = event["object"]
                if event["type"] == "DELETED":
                    cache.pop(pod.metadata.name, None)
                else:
                    cache[pod.metadata.name] = pod
                yield event["type"], cache
        except ApiException as error:
            if error.status != 410:
                raise


def expire_watches(apiserver: BackgroundApiServer) -> int:
    """Compact the emulator's history and send 410 Gone to every open watch."""
    assert apiserver.server is not None
    expired: int = apiserver.run(apiserver.server.faults.expire_watches)
    return expired


def test_a_watch_that_expires_relists_and_sees_the_changes_made_after(
    core: CoreV1Api, apiserver: BackgroundApiServer
) -> None:
    core.create_namespaced_pod(NAMESPACE, a_pod("engine-0"))
    steps = follow_pods(core)
    try:
        step, cache = next(steps)
        assert (step, sorted(cache)) == ("RELISTED", ["engine-0"])
        core.create_namespaced_pod(NAMESPACE, a_pod("engine-1"))
        step, cache = next(steps)
        assert (step, sorted(cache)) == ("ADDED", ["engine-0", "engine-1"])

        assert expire_watches(apiserver) == 1
        core.create_namespaced_pod(NAMESPACE, a_pod("engine-2"))
        step, cache = next(steps)
        assert (step, sorted(cache)) == ("RELISTED", ["engine-0", "engine-1", "engine-2"])

        core.delete_namespaced_pod("engine-0", NAMESPACE)
        core.patch_namespaced_pod("engine-2", NAMESPACE, {"metadata": {"labels": {"ready": "yes"}}})
        step, cache = next(steps)
        assert (step, sorted(cache)) == ("DELETED", ["engine-1", "engine-2"])
        step, cache = next(steps)
        assert step == "MODIFIED"
        assert cache["engine-2"].metadata.labels == {"ready": "yes"}
    finally:
        steps.close()
    server_view = {
        pod.metadata.name: pod.metadata.resource_version
        for pod in core.list_namespaced_pod(NAMESPACE).items
    }
    assert {name: pod.metadata.resource_version for name, pod in cache.items()} == server_view


# --- errors --------------------------------------------------------------------------------
def test_an_update_from_a_stale_read_is_refused_with_409_conflict(
    core: CoreV1Api, custom: CustomObjectsApi
) -> None:
    stale_pod = core.create_namespaced_pod(NAMESPACE, a_pod("engine-0"))
    core.patch_namespaced_pod("engine-0", NAMESPACE, {"metadata": {"labels": {"a": "1"}}})
    stale_pod.metadata.labels = {"a": "2"}
    with expect_api_error(409, "Conflict"):
        core.replace_namespaced_pod("engine-0", NAMESPACE, stale_pod)

    stale_llama = custom.create_namespaced_custom_object(
        GROUP, VERSION, NAMESPACE, PLURAL, the_manifest("llama3-8b")
    )
    custom.patch_namespaced_custom_object(
        GROUP, VERSION, NAMESPACE, PLURAL, "llama3-8b", {"spec": {"replicas": 5}}
    )
    stale_llama["spec"]["replicas"] = 6
    with expect_api_error(409, "Conflict"):
        custom.replace_namespaced_custom_object(
            GROUP, VERSION, NAMESPACE, PLURAL, "llama3-8b", stale_llama
        )
    assert core.read_namespaced_pod("engine-0", NAMESPACE).metadata.labels == {"a": "1"}


def test_creating_what_exists_is_refused_with_409_already_exists(
    core: CoreV1Api, custom: CustomObjectsApi
) -> None:
    core.create_namespaced_pod(NAMESPACE, a_pod("engine-0"))
    with expect_api_error(409, "AlreadyExists") as status:
        core.create_namespaced_pod(NAMESPACE, a_pod("engine-0"))
    assert status["details"] == {"name": "engine-0", "kind": "pods"}

    custom.create_namespaced_custom_object(
        GROUP, VERSION, NAMESPACE, PLURAL, the_manifest("llama3-8b")
    )
    with expect_api_error(409, "AlreadyExists"):
        custom.create_namespaced_custom_object(
            GROUP, VERSION, NAMESPACE, PLURAL, the_manifest("llama3-8b")
        )


def test_what_does_not_exist_is_404_with_a_status_body(
    core: CoreV1Api, custom: CustomObjectsApi
) -> None:
    with expect_api_error(404, "NotFound") as status:
        core.read_namespaced_pod("ghost", NAMESPACE)
    assert status["status"] == "Failure"
    assert status["message"] == 'pods "ghost" not found'
    assert status["details"] == {"name": "ghost", "kind": "pods"}

    with expect_api_error(404, "NotFound") as status:
        custom.get_namespaced_custom_object(GROUP, VERSION, NAMESPACE, PLURAL, "ghost")
    assert status["details"]["group"] == GROUP

    with expect_api_error(404, "NotFound"):
        core.delete_node("ghost")


# --- typed models --------------------------------------------------------------------------
BUILTIN_KINDS: list[tuple[str, str, str, dict[str, Any]]] = [
    # (API class, create method, list method, body)
    ("CoreV1Api", "create_namespaced_pod", "list_namespaced_pod", a_pod("engine-0")),
    ("CoreV1Api", "create_namespaced_service", "list_namespaced_service", a_service("llama")),
    (
        "CoreV1Api",
        "create_namespaced_config_map",
        "list_namespaced_config_map",
        {"metadata": {"name": "engine-args"}, "data": {"dtype": "auto"}},
    ),
    (
        "CoreV1Api",
        "create_namespaced_secret",
        "list_namespaced_secret",
        {"metadata": {"name": "hf-token"}, "stringData": {"token": "hf_x"}},
    ),
    (
        "CoreV1Api",
        "create_namespaced_endpoints",
        "list_namespaced_endpoints",
        {
            "metadata": {"name": "llama"},
            "subsets": [{"addresses": [{"ip": "10.0.0.7"}], "ports": [{"port": 8000}]}],
        },
    ),
    (
        "CoreV1Api",
        "create_namespaced_event",
        "list_namespaced_event",
        {
            "metadata": {"generateName": "llama-"},
            "involvedObject": {"kind": "Pod", "name": "engine-0", "namespace": NAMESPACE},
            "reason": "Scheduled",
            "message": "Scheduled engine-0 on h100-0",
            "type": "Normal",
        },
    ),
    (
        "DiscoveryV1Api",
        "create_namespaced_endpoint_slice",
        "list_namespaced_endpoint_slice",
        {
            "metadata": {"name": "llama-x", "labels": {"kubernetes.io/service-name": "llama"}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": ["10.0.0.7"], "conditions": {"ready": True}}],
            "ports": [{"name": "http", "port": 8000, "protocol": "TCP"}],
        },
    ),
    (
        "PolicyV1Api",
        "create_namespaced_pod_disruption_budget",
        "list_namespaced_pod_disruption_budget",
        {
            "metadata": {"name": "llama"},
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "llama"}}},
        },
    ),
    (
        "CoordinationV1Api",
        "create_namespaced_lease",
        "list_namespaced_lease",
        {"metadata": {"name": "llamaops"}, "spec": {"holderIdentity": "llamaops-0"}},
    ),
]


@pytest.mark.parametrize(
    ("api_class", "create", "list_all", "body"),
    BUILTIN_KINDS,
    ids=[create.removeprefix("create_namespaced_") for _, create, _, _ in BUILTIN_KINDS],
)
def test_every_built_in_kind_deserializes_into_the_typed_models(
    kube: ApiClient, api_class: str, create: str, list_all: str, body: dict[str, Any]
) -> None:
    api = getattr(client, api_class)(kube)

    created = getattr(api, create)(NAMESPACE, body)
    listed = getattr(api, list_all)(NAMESPACE)

    model = type(created).__name__
    assert type(created).__module__.startswith("kubernetes.client.models"), model
    assert type(listed).__name__ == f"{model}List"
    assert [item.metadata.name for item in listed.items] == [created.metadata.name]
    assert type(listed.items[0]) is type(created)


def test_namespaces_and_definitions_deserialize_into_the_typed_models(kube: ApiClient) -> None:
    namespaces = CoreV1Api(kube).list_namespace()
    definitions = client.ApiextensionsV1Api(kube).list_custom_resource_definition()

    assert {ns.metadata.name for ns in namespaces.items} >= {"default", "kube-system"}
    assert all(ns.status.phase == "Active" for ns in namespaces.items)
    (llama,) = definitions.items
    established = {c.type: c.status for c in llama.status.conditions}
    assert established["Established"] == "True"
