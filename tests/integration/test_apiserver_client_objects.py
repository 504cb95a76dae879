"""The official Python client against the API emulator: objects created, read,
replaced and deleted, and every built-in kind read into the typed models.

Every call goes through the client's typed API classes, so every answer must
deserialize into the client's strict v37 models; a field the real API server
always returns and the emulator forgets fails here before it fails in the operator.
"""

from typing import Any

import pytest
from kubernetes import client
from kubernetes.client import (
    ApiClient,
    CoreV1Api,
    CustomObjectsApi,
    V1Node,
    V1NodeList,
    V1Pod,
    V1PodList,
    V1Service,
    V1ServiceList,
)

from tests.builders import gpu_node
from tests.integration.client_helpers import (
    GROUP,
    NAMESPACE,
    PLURAL,
    VERSION,
    a_pod,
    a_service,
    expect_api_error,
    the_manifest,
)

pytestmark = pytest.mark.usefixtures("cluster_evidence")


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
