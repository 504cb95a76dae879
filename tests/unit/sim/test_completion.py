"""Built-ins come back completed as kube-apiserver returns them, so the client can read them."""

import base64
import json
from fractions import Fraction
from typing import Any

import pytest
from kubernetes.client import ApiClient
from pydantic import ValidationError

from llamaops.sim.apiserver.completion import complete
from llamaops.sim.apiserver.pod_defaults import default_tolerations, image_pull_policy, qos_class
from llamaops.sim.apiserver.quantities import parse_quantity
from llamaops.sim.apiserver.resources import BUILTINS, ResourceType

Obj = dict[str, Any]
RESOURCES = {resource.kind: resource for resource in BUILTINS}
NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"


def obj(kind: str, name: str = "x", api_version: str = "v1", **fields: Any) -> Obj:
    """A body as a user posts it: only what they chose to write."""
    namespaced = RESOURCES[kind].namespaced
    metadata = {"name": name, **({"namespace": "default"} if namespaced else {})}
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, **fields}


def container(name: str = "vllm", image: str = "vllm/vllm-openai:v0.6.3", **fields: Any) -> Obj:
    return {"name": name, "image": image, **fields}


def pod(*containers: Obj, **spec: Any) -> Obj:
    return obj("Pod", spec={"containers": list(containers) or [container()], **spec})


def completed(kind: str, body: Obj) -> Obj:
    return complete(RESOURCES[kind], body)


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
    covered = {case[0] for case in ROUND_TRIPS} | {"CustomResourceDefinition"}

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


# --- Pod --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("field", "default"),
    [
        ("restartPolicy", "Always"),
        ("dnsPolicy", "ClusterFirst"),
        ("schedulerName", "default-scheduler"),
        ("terminationGracePeriodSeconds", 30),
        ("securityContext", {}),
        ("enableServiceLinks", True),
        ("serviceAccountName", "default"),
        ("priority", 0),
        ("preemptionPolicy", "PreemptLowerPriority"),
    ],
)
def test_a_pod_spec_gets_the_servers_defaults(field: str, default: Any) -> None:
    assert completed("Pod", pod())["spec"][field] == default


def test_what_the_user_wrote_in_a_pod_spec_is_kept() -> None:
    spec = completed("Pod", pod(restartPolicy="Never", terminationGracePeriodSeconds=5))["spec"]

    assert (spec["restartPolicy"], spec["terminationGracePeriodSeconds"]) == ("Never", 5)


@pytest.mark.parametrize(
    ("field", "default"),
    [
        ("terminationMessagePath", "/dev/termination-log"),
        ("terminationMessagePolicy", "File"),
        ("imagePullPolicy", "IfNotPresent"),
        ("resources", {}),
    ],
)
def test_a_container_gets_the_servers_defaults(field: str, default: Any) -> None:
    assert completed("Pod", pod())["spec"]["containers"][0][field] == default


@pytest.mark.parametrize(
    ("image", "policy"),
    [
        ("nginx", "Always"),
        ("nginx:latest", "Always"),
        ("nginx:1.27", "IfNotPresent"),
        ("vllm/vllm-openai:v0.6.3", "IfNotPresent"),
        ("registry.local:5000/vllm", "Always"),
        ("registry.local:5000/vllm:v1", "IfNotPresent"),
        ("nginx@sha256:0123456789abcdef", "IfNotPresent"),
        ("nginx:latest@sha256:0123456789abcdef", "Always"),
    ],
)
def test_the_pull_policy_is_always_only_for_the_latest_tag(image: str, policy: str) -> None:
    assert image_pull_policy(image) == policy


def test_requests_default_to_limits_and_keep_what_was_asked() -> None:
    asked = container(
        resources={"limits": {"cpu": "4", "nvidia.com/gpu": "1"}, "requests": {"cpu": "2"}}
    )

    resources = completed("Pod", pod(asked))["spec"]["containers"][0]["resources"]

    assert resources["requests"] == {"cpu": "2", "nvidia.com/gpu": "1"}


def test_ports_get_tcp_and_host_network_pods_get_host_ports() -> None:
    body = pod(container(ports=[{"containerPort": 8000}]), hostNetwork=True)

    (port,) = completed("Pod", body)["spec"]["containers"][0]["ports"]

    assert port == {"containerPort": 8000, "protocol": "TCP", "hostPort": 8000}


def test_probes_get_their_timings_and_http_defaults() -> None:
    body = pod(container(readinessProbe={"httpGet": {"port": 8000}}))

    probe = completed("Pod", body)["spec"]["containers"][0]["readinessProbe"]

    assert probe == {
        "httpGet": {"port": 8000, "path": "/", "scheme": "HTTP"},
        "timeoutSeconds": 1,
        "periodSeconds": 10,
        "successThreshold": 1,
        "failureThreshold": 3,
    }


def test_volumes_without_a_source_are_empty_dirs_and_secrets_get_a_mode() -> None:
    body = pod(volumes=[{"name": "cache"}, {"name": "token", "secret": {"secretName": "hf"}}])

    cache, token = completed("Pod", body)["spec"]["volumes"]

    assert cache == {"name": "cache", "emptyDir": {}}
    assert token["secret"]["defaultMode"] == 0o644


@pytest.mark.parametrize(
    ("given", "added"),
    [
        ([], [NOT_READY, UNREACHABLE]),
        (
            [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
            [NOT_READY, UNREACHABLE],
        ),
        (
            [
                {
                    "key": NOT_READY,
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": 5,
                }
            ],
            [UNREACHABLE],
        ),
        ([{"key": UNREACHABLE, "operator": "Exists"}], [NOT_READY]),
        ([{"operator": "Exists"}], []),
    ],
    ids=["none", "gpu-only", "own-not-ready", "own-unreachable-any-effect", "tolerates-all"],
)
def test_pods_tolerate_unready_nodes_for_five_minutes_unless_they_say_otherwise(
    given: list[Obj], added: list[str]
) -> None:
    tolerations = default_tolerations(given)

    assert tolerations[: len(given)] == given
    assert [t["key"] for t in tolerations[len(given) :]] == added
    assert all(t["tolerationSeconds"] == 300 for t in tolerations[len(given) :])


@pytest.mark.parametrize(
    ("class_name", "priority"),
    [("", 0), ("system-node-critical", 2000001000), ("llm-serving", None)],
)
def test_priority_comes_from_the_class_when_the_server_knows_it(
    class_name: str, priority: int | None
) -> None:
    spec = completed("Pod", pod(priorityClassName=class_name))["spec"]

    assert spec.get("priority") == priority


@pytest.mark.parametrize(
    ("resources", "qos"),
    [
        ([{}], "BestEffort"),
        ([{"limits": {"nvidia.com/gpu": "1"}}], "BestEffort"),
        ([{"limits": {"cpu": "2", "memory": "8Gi"}}], "Guaranteed"),
        ([{"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "1000m"}}], "Guaranteed"),
        ([{"limits": {"cpu": "2", "memory": "8Gi"}, "requests": {"cpu": "1"}}], "Burstable"),
        ([{"requests": {"memory": "1Gi"}}], "Burstable"),
        ([{"limits": {"cpu": "1", "memory": "1Gi"}}, {}], "Burstable"),
    ],
    ids=[
        "nothing",
        "gpus-only",
        "limits",
        "equal-in-other-units",
        "less-requested",
        "requests-only",
        "one-container-without",
    ],
)
def test_the_qos_class_follows_cpu_and_memory(resources: list[Obj], qos: str) -> None:
    containers = [container(name=f"c{i}", resources=r) for i, r in enumerate(resources)]

    assert completed("Pod", pod(*containers))["status"]["qosClass"] == qos


def test_qos_class_reads_a_spec_whose_requests_are_already_defaulted() -> None:
    spec = {
        "containers": [
            {
                "resources": {
                    "limits": {"cpu": "1", "memory": "1Gi"},
                    "requests": {"cpu": "1", "memory": "1Gi"},
                }
            }
        ]
    }

    assert qos_class(spec) == "Guaranteed"


@pytest.mark.parametrize(
    ("status", "pod_ip", "pod_ips"),
    [
        ({"podIP": "10.0.0.1"}, "10.0.0.1", [{"ip": "10.0.0.1"}]),
        (
            {"podIPs": [{"ip": "10.0.0.1"}, {"ip": "fd00::1"}]},
            "10.0.0.1",
            [{"ip": "10.0.0.1"}, {"ip": "fd00::1"}],
        ),
        ({"podIP": "10.0.0.2", "podIPs": [{"ip": "10.0.0.1"}]}, "10.0.0.2", [{"ip": "10.0.0.2"}]),
    ],
    ids=["single-only", "list-only", "disagreeing"],
)
def test_pod_ip_and_pod_ips_agree_with_the_single_field_winning(
    status: Obj, pod_ip: str, pod_ips: list[Obj]
) -> None:
    result = completed("Pod", {**pod(), "status": status})["status"]

    assert (result["podIP"], result["podIPs"]) == (pod_ip, pod_ips)


def test_a_new_pod_is_pending_and_its_conditions_carry_null_times() -> None:
    body = {**pod(), "status": {"conditions": [{"type": "PodScheduled", "status": "True"}]}}

    status = completed("Pod", body)["status"]

    assert status["phase"] == "Pending"
    assert status["conditions"][0] == {
        "type": "PodScheduled",
        "status": "True",
        "lastProbeTime": None,
        "lastTransitionTime": None,
    }


def test_container_statuses_get_go_zero_values_and_the_spec_image() -> None:
    body = {
        **pod(),
        "status": {
            "containerStatuses": [
                {"name": "vllm", "lastState": {"terminated": {"reason": "OOMKilled"}}}
            ]
        },
    }

    (status,) = completed("Pod", body)["status"]["containerStatuses"]

    assert status == {
        "name": "vllm",
        "image": "vllm/vllm-openai:v0.6.3",
        "imageID": "",
        "ready": False,
        "restartCount": 0,
        "state": {},
        "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 0}},
    }


# --- Service ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            {"ports": [{"port": 80, "targetPort": "http"}], "clusterIP": "10.96.0.10"},
            {
                "type": "ClusterIP",
                "sessionAffinity": "None",
                "internalTrafficPolicy": "Cluster",
                "clusterIPs": ["10.96.0.10"],
                "ipFamilies": ["IPv4"],
                "ipFamilyPolicy": "SingleStack",
            },
        ),
        (
            {"type": "NodePort", "ports": [{"port": 80}]},
            {"externalTrafficPolicy": "Cluster", "ipFamilies": ["IPv4"]},
        ),
        (
            {"type": "LoadBalancer", "ports": [{"port": 80}]},
            {"externalTrafficPolicy": "Cluster", "allocateLoadBalancerNodePorts": True},
        ),
        (
            {"clusterIP": "None", "selector": {"app": "x"}},
            {"clusterIPs": ["None"], "ipFamilies": ["IPv4"]},
        ),
        (
            {"sessionAffinity": "ClientIP"},
            {"sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 10800}}},
        ),
    ],
    ids=["cluster-ip", "node-port", "load-balancer", "headless", "client-ip-affinity"],
)
def test_a_service_spec_gets_the_servers_defaults(spec: Obj, expected: Obj) -> None:
    result = completed("Service", obj("Service", spec=spec))["spec"]

    assert {key: result.get(key) for key in expected} == expected


def test_an_external_name_service_gets_no_cluster_addressing() -> None:
    body = obj("Service", spec={"type": "ExternalName", "externalName": "example.com"})

    spec = completed("Service", body)["spec"]

    assert not {"ipFamilies", "ipFamilyPolicy", "internalTrafficPolicy"} & set(spec)


def test_service_ports_target_themselves_unless_told_otherwise() -> None:
    body = obj("Service", spec={"ports": [{"port": 80}, {"port": 443, "targetPort": 8443}]})

    ports = completed("Service", body)["spec"]["ports"]

    assert [(p["targetPort"], p["protocol"]) for p in ports] == [(80, "TCP"), (8443, "TCP")]


# --- Namespace, Node, Secret -------------------------------------------------------------
def test_a_namespace_is_active_labelled_with_its_name_and_finalized_by_kubernetes() -> None:
    namespace = completed("Namespace", obj("Namespace", name="llm"))

    assert namespace["metadata"]["labels"] == {"kubernetes.io/metadata.name": "llm"}
    assert namespace["spec"] == {"finalizers": ["kubernetes"]}
    assert namespace["status"] == {"phase": "Active"}


def test_a_deleting_namespace_does_not_get_its_finalizer_back() -> None:
    body = obj("Namespace", name="llm", spec={}, status={"phase": "Terminating"})
    body["metadata"]["deletionTimestamp"] = "2025-01-01T00:00:00Z"

    namespace = completed("Namespace", body)

    assert namespace["spec"] == {}
    assert namespace["status"] == {"phase": "Terminating"}


def test_a_node_has_allocatable_capacity_and_a_full_node_info() -> None:
    body = obj(
        "Node",
        status={
            "capacity": {"nvidia.com/gpu": 8, "memory": "1Ti"},
            "nodeInfo": {"kubeletVersion": "v1.32.0"},
        },
    )

    status = completed("Node", body)["status"]

    assert status["allocatable"] == {"nvidia.com/gpu": "8", "memory": "1Ti"}
    assert status["nodeInfo"]["kubeletVersion"] == "v1.32.0"
    assert status["nodeInfo"]["architecture"] == ""
    assert status["daemonEndpoints"] == {"kubeletEndpoint": {"Port": 0}}


def test_secret_string_data_is_merged_into_data_and_not_returned() -> None:
    body = obj(
        "Secret",
        type="kubernetes.io/basic-auth",
        data={"username": base64.b64encode(b"admin").decode()},
        stringData={"password": "s3cret"},
    )

    secret = completed("Secret", body)

    assert "stringData" not in secret
    assert secret["type"] == "kubernetes.io/basic-auth"
    assert {k: base64.b64decode(v) for k, v in secret["data"].items()} == {
        "username": b"admin",
        "password": b"s3cret",
    }


@pytest.mark.parametrize(
    ("quantity", "value"),
    [
        ("2", Fraction(2)),
        ("500m", Fraction(1, 2)),
        ("1.5", Fraction(3, 2)),
        ("1Gi", Fraction(2**30)),
        ("80G", Fraction(80 * 10**9)),
        ("1e3", Fraction(1000)),
        (4, Fraction(4)),
        ("lots", None),
    ],
)
def test_quantities_are_read_as_kubernetes_writes_them(
    quantity: Any, value: Fraction | None
) -> None:
    assert parse_quantity(quantity) == value
