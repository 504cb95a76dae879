"""Built-ins come back completed as kube-apiserver returns them, so the client can
read them: every built-in round-trips through the official client.
"""

import json
from typing import Any

import pytest
from kubernetes.client import ApiClient
from pydantic import ValidationError

from llamaops.sim.apiserver.completion import complete
from llamaops.sim.apiserver.resources import ResourceType
from tests.unit.sim.completion_builders import RESOURCES, Obj, completed, container, obj, pod


def served(kind: str, body: Obj) -> Obj:
    """`body` as a GET returns it: completed, plus the metadata the server itself sets."""
    result = completed(kind, body)
    result["metadata"].update(
        uid="0f6c1d2e-3b4a-4c5d-8e9f-a0b1c2d3e4f5",
        resourceVersion="42",
        creationTimestamp="2025-01-01T00:00:00Z",
    )
    return result


def read_by_client(body: Obj, model: str) -> Any:
    """What kubernetes.client 37 does with a response body: strict pydantic models."""
    return ApiClient().deserialize(json.dumps(body), model, "application/json")


# --- every built-in round-trips through the official client ----------------------------
RBAC = "rbac.authorization.k8s.io/v1"
ROLE_REF = {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "reader"}
SUBJECT = {"kind": "ServiceAccount", "name": "robot", "namespace": "ops"}
ROUND_TRIPS: list[tuple[str, str, Obj, Any]] = [
    (
        "Namespace",
        "V1Namespace",
        obj("Namespace", name="llm"),
        lambda ns: (ns.status.phase, ns.spec.finalizers) == ("Active", ["kubernetes"]),
    ),
    (
        "Node",
        "V1Node",
        obj("Node", name="h100-0", status={"capacity": {"nvidia.com/gpu": 8, "cpu": "96"}}),
        lambda node: (
            node.status.allocatable == {"nvidia.com/gpu": "8", "cpu": "96"}
            and node.status.node_info.kubelet_version == ""
        ),
    ),
    (
        "Pod",
        "V1Pod",
        obj(
            "Pod",
            spec={"containers": [container(resources={"limits": {"nvidia.com/gpu": 4}})]},
            status={
                "phase": "Running",
                "podIP": "10.244.0.7",
                "containerStatuses": [{"name": "vllm", "state": {"running": {}}}],
            },
        ),
        lambda p: (
            p.status.container_statuses[0].image == "vllm/vllm-openai:v0.6.3"
            and p.status.container_statuses[0].image_id == ""
            and p.spec.containers[0].resources.requests == {"nvidia.com/gpu": "4"}
            and p.status.pod_ips[0].ip == "10.244.0.7"
        ),
    ),
    (
        "Service",
        "V1Service",
        obj(
            "Service",
            spec={"selector": {"app": "x"}, "ports": [{"port": 8000}], "clusterIP": "10.96.0.10"},
        ),
        lambda svc: (
            (svc.spec.ports[0].target_port, svc.spec.ports[0].protocol) == (8000, "TCP")
            and svc.spec.cluster_ips == ["10.96.0.10"]
        ),
    ),
    (
        "Endpoints",
        "V1Endpoints",
        obj(
            "Endpoints",
            subsets=[{"addresses": [{"ip": "10.244.0.7"}], "ports": [{"port": 8000}]}],
        ),
        lambda ep: ep.subsets[0].ports[0].protocol == "TCP",
    ),
    (
        "Event",
        "CoreV1Event",
        obj(
            "Event",
            name="kopf-event-abcde",
            involvedObject={"kind": "Pod", "name": "x", "namespace": "default"},
            reason="Created",
            message="Created Pod x",
            type="Normal",
            source={"component": "kopf"},
        ),
        lambda event: event.involved_object.name == "x" and event.reporting_component == "",
    ),
    (
        "ConfigMap",
        "V1ConfigMap",
        obj("ConfigMap", data={"model": "llama3.1-8b"}),
        lambda cm: cm.data == {"model": "llama3.1-8b"},
    ),
    (
        "Secret",
        "V1Secret",
        obj("Secret", stringData={"token": "hf_abc"}),
        lambda secret: (secret.type, secret.data) == ("Opaque", {"token": "aGZfYWJj"}),
    ),
    (
        "EndpointSlice",
        "V1EndpointSlice",
        obj(
            "EndpointSlice",
            api_version="discovery.k8s.io/v1",
            addressType="IPv4",
            endpoints=[{"addresses": ["10.244.0.7"]}],
            ports=[{"port": 8000}],
        ),
        lambda eps: (eps.ports[0].protocol, eps.ports[0].name) == ("TCP", ""),
    ),
    (
        "PodDisruptionBudget",
        "V1PodDisruptionBudget",
        obj(
            "PodDisruptionBudget",
            api_version="policy/v1",
            spec={"minAvailable": 1, "selector": {"matchLabels": {"app": "x"}}},
        ),
        lambda pdb: pdb.spec.min_available == 1 and pdb.status.disruptions_allowed == 0,
    ),
    (
        "Lease",
        "V1Lease",
        obj("Lease", api_version="coordination.k8s.io/v1", spec={"holderIdentity": "llamaops"}),
        lambda lease: lease.spec.holder_identity == "llamaops",
    ),
    (
        "ServiceAccount",
        "V1ServiceAccount",
        obj("ServiceAccount", automountServiceAccountToken=True),
        lambda account: account.automount_service_account_token is True,
    ),
    (
        "Role",
        "V1Role",
        obj(
            "Role",
            api_version=RBAC,
            rules=[{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}],
        ),
        lambda role: role.rules[0].verbs == ["get"],
    ),
    (
        "ClusterRole",
        "V1ClusterRole",
        obj(
            "ClusterRole",
            api_version=RBAC,
            rules=[{"apiGroups": [""], "resources": ["nodes"], "verbs": ["list"]}],
        ),
        lambda role: role.rules[0].resources == ["nodes"],
    ),
    (
        "RoleBinding",
        "V1RoleBinding",
        obj("RoleBinding", api_version=RBAC, roleRef=ROLE_REF, subjects=[SUBJECT]),
        lambda binding: binding.subjects[0].namespace == "ops",
    ),
    (
        "ClusterRoleBinding",
        "V1ClusterRoleBinding",
        obj("ClusterRoleBinding", api_version=RBAC, roleRef=ROLE_REF, subjects=[SUBJECT]),
        lambda binding: binding.role_ref.name == "reader",
    ),
    (
        "Deployment",
        "V1Deployment",
        obj(
            "Deployment",
            api_version="apps/v1",
            spec={
                "selector": {"matchLabels": {"app": "llamaops"}},
                "template": {"metadata": {"labels": {"app": "llamaops"}}, "spec": pod()["spec"]},
            },
        ),
        lambda deployment: deployment.spec.template.spec.containers[0].name == "vllm",
    ),
]


@pytest.mark.parametrize(
    ("kind", "model", "body", "survives"), ROUND_TRIPS, ids=[c[0] for c in ROUND_TRIPS]
)
def test_a_completed_builtin_is_read_by_the_official_client(
    kind: str, model: str, body: Obj, survives: Any
) -> None:
    read = read_by_client(served(kind, body), model)

    assert survives(read)


def test_the_llamaops_crd_is_read_by_the_official_client(crd: Obj) -> None:
    read = read_by_client(served("CustomResourceDefinition", crd), "V1CustomResourceDefinition")

    assert read.spec.names.singular == "llamadeployment"
    assert read.spec.conversion.strategy == "None"
    assert read.status.stored_versions == ["v1alpha1"]


def test_every_builtin_kind_has_a_round_trip_case() -> None:
    never_stored = {"SelfSubjectAccessReview"}  # answered, not kept
    covered = {case[0] for case in ROUND_TRIPS} | {"CustomResourceDefinition", *never_stored}

    assert covered == set(RESOURCES)


@pytest.mark.parametrize(
    ("body", "model"),
    [
        (
            obj(
                "Pod",
                spec={"containers": [container()]},
                status={
                    "containerStatuses": [
                        {"name": "vllm", "image": "x", "ready": True, "restartCount": 0}
                    ]
                },
            ),
            "V1Pod",
        ),
        (obj("Node", status={"nodeInfo": {"kubeletVersion": "v1.32.0"}}), "V1Node"),
        (obj("Pod", spec={"containers": [container(resources={"limits": {"cpu": 2}})]}), "V1Pod"),
        (obj("Event"), "CoreV1Event"),
    ],
    ids=["status-without-imageID", "partial-nodeInfo", "numeric-quantity", "no-involvedObject"],
)
def test_the_client_refuses_what_complete_fills_in(body: Obj, model: str) -> None:
    with pytest.raises(ValidationError):
        read_by_client(body, model)


@pytest.mark.parametrize(("kind", "model", "body", "survives"), ROUND_TRIPS)
def test_completing_twice_changes_nothing(kind: str, model: str, body: Obj, survives: Any) -> None:
    once = completed(kind, body)

    assert completed(kind, once) == once


def test_the_input_is_left_as_it_was() -> None:
    body = pod(container(ports=[{"containerPort": 8000}]))
    before = json.dumps(body, sort_keys=True)

    completed("Pod", body)

    assert json.dumps(body, sort_keys=True) == before


def test_custom_resources_are_returned_unchanged() -> None:
    resource = ResourceType(
        "serving.llamaops.io",
        "v1alpha1",
        "LlamaDeployment",
        "llamadeployments",
        True,
        builtin=False,
    )
    body = {
        "apiVersion": "serving.llamaops.io/v1alpha1",
        "kind": "LlamaDeployment",
        "metadata": {"name": "x"},
        "spec": {"model": {"name": "m"}},
    }

    assert complete(resource, body) == body
