"""Table responses for the other built-in kinds: the columns and cells kube-apiserver
sends kubectl.
"""

from typing import Any

import pytest

from llamaops.sim.apiserver.tables import table
from tests.builders import gpu_node
from tests.unit.sim.table_builders import NOW, RESOURCES, Obj, ago, cells, created

# --- the other built-ins ----------------------------------------------------------------
COLUMNS = [
    (
        "Pod",
        ["Name", "Ready", "Status", "Restarts", "Age"],
        ["IP", "Node", "Nominated Node", "Readiness Gates"],
    ),
    (
        "Node",
        ["Name", "Status", "Roles", "Age", "Version"],
        ["Internal-IP", "External-IP", "OS-Image", "Kernel-Version", "Container-Runtime"],
    ),
    ("Service", ["Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age"], ["Selector"]),
    ("Namespace", ["Name", "Status", "Age"], []),
    (
        "Event",
        ["Last Seen", "Type", "Reason", "Object", "Message"],
        ["Subobject", "Source", "First Seen", "Count", "Name"],
    ),
    ("ConfigMap", ["Name", "Data", "Age"], []),
    ("Secret", ["Name", "Type", "Data", "Age"], []),
    ("Endpoints", ["Name", "Endpoints", "Age"], []),
    ("EndpointSlice", ["Name", "AddressType", "Ports", "Endpoints", "Age"], []),
    (
        "PodDisruptionBudget",
        ["Name", "Min Available", "Max Unavailable", "Allowed Disruptions", "Age"],
        [],
    ),
    ("Lease", ["Name", "Holder", "Age"], []),
    ("CustomResourceDefinition", ["Name", "Created At"], []),
    ("ServiceAccount", ["Name", "Secrets", "Age"], []),
    ("Role", ["Name", "Created At"], []),
    ("ClusterRole", ["Name", "Created At"], []),
    ("RoleBinding", ["Name", "Role", "Age"], ["Users", "Groups", "ServiceAccounts"]),
    ("ClusterRoleBinding", ["Name", "Role", "Age"], ["Users", "Groups", "ServiceAccounts"]),
    (
        "Deployment",
        ["Name", "Ready", "Up-to-date", "Available", "Age"],
        ["Containers", "Images", "Selector"],
    ),
    ("SelfSubjectAccessReview", ["Name", "Created At"], []),
]


@pytest.mark.parametrize(("kind", "normal", "wide"), COLUMNS, ids=[c[0] for c in COLUMNS])
def test_each_builtin_has_kubectls_columns_with_wide_ones_at_priority_one(
    kind: str, normal: list[str], wide: list[str]
) -> None:
    definitions = table(RESOURCES[kind], [], "1", now=NOW)["columnDefinitions"]

    assert [c["name"] for c in definitions if c["priority"] == 0] == normal
    assert [c["name"] for c in definitions if c["priority"] == 1] == wide


def test_every_builtin_kind_has_its_columns_checked() -> None:
    assert {c[0] for c in COLUMNS} == set(RESOURCES)


@pytest.mark.parametrize(
    ("node", "status", "roles"),
    [
        (gpu_node("h100-0"), "Ready", "<none>"),
        (gpu_node("h100-0", ready=False), "NotReady", "<none>"),
        (gpu_node("h100-0", cordoned=True), "Ready,SchedulingDisabled", "<none>"),
        ({**gpu_node("h100-0"), "status": {}}, "Unknown", "<none>"),
        (
            gpu_node(
                "cp",
                labels={"node-role.kubernetes.io/control-plane": "", "kubernetes.io/role": "gpu"},
            ),
            "Ready",
            "control-plane,gpu",
        ),
    ],
    ids=["ready", "not-ready", "cordoned", "no-conditions", "roles"],
)
def test_a_nodes_status_and_roles_read_as_kubectl_shows_them(
    node: Obj, status: str, roles: str
) -> None:
    assert cells(RESOURCES["Node"], created(node, days=2))[1:4] == [status, roles, "2d"]


def test_the_wide_node_columns_show_addresses_and_node_info() -> None:
    node = gpu_node("h100-0")
    node["status"].update(
        addresses=[
            {"type": "InternalIP", "address": "172.18.0.2"},
            {"type": "Hostname", "address": "h100-0"},
        ],
        nodeInfo={
            "kubeletVersion": "v1.32.0",
            "osImage": "Ubuntu 22.04.4 LTS",
            "kernelVersion": "",
            "containerRuntimeVersion": "containerd://1.7.13",
        },
    )

    assert cells(RESOURCES["Node"], node)[4:] == [
        "v1.32.0",
        "172.18.0.2",
        "<none>",
        "Ubuntu 22.04.4 LTS",
        "<unknown>",
        "containerd://1.7.13",
    ]


def service(spec: Obj, status: Obj | None = None) -> Obj:
    return created(
        {"metadata": {"name": "llama"}, "spec": spec, "status": status or {}}, minutes=30
    )


@pytest.mark.parametrize(
    ("svc", "shown"),
    [
        (
            service(
                {
                    "type": "ClusterIP",
                    "clusterIPs": ["10.96.0.10"],
                    "selector": {"app": "x"},
                    "ports": [{"port": 8000, "protocol": "TCP"}],
                }
            ),
            ["ClusterIP", "10.96.0.10", "<none>", "8000/TCP", "30m", "app=x"],
        ),
        (
            service(
                {
                    "type": "NodePort",
                    "clusterIPs": ["10.96.0.11"],
                    "ports": [
                        {"port": 80, "nodePort": 30080, "protocol": "TCP"},
                        {"port": 53, "nodePort": 30053, "protocol": "UDP"},
                    ],
                }
            ),
            ["NodePort", "10.96.0.11", "<none>", "80:30080/TCP,53:30053/UDP", "30m", "<none>"],
        ),
        (
            service({"type": "LoadBalancer", "clusterIPs": ["10.96.0.12"], "ports": []}),
            ["LoadBalancer", "10.96.0.12", "<pending>", "<none>", "30m", "<none>"],
        ),
        (
            service(
                {"type": "LoadBalancer", "clusterIPs": ["10.96.0.12"]},
                {"loadBalancer": {"ingress": [{"ip": "203.0.113.7"}]}},
            ),
            ["LoadBalancer", "10.96.0.12", "203.0.113.7", "<none>", "30m", "<none>"],
        ),
        (
            service({"type": "ExternalName", "externalName": "example.com"}),
            ["ExternalName", "<none>", "example.com", "<none>", "30m", "<none>"],
        ),
        (
            service(
                {
                    "type": "ClusterIP",
                    "clusterIPs": ["None"],
                    "externalIPs": ["1.2.3.4"],
                    "selector": {"b": "2", "a": "1"},
                }
            ),
            ["ClusterIP", "None", "1.2.3.4", "<none>", "30m", "a=1,b=2"],
        ),
    ],
    ids=["cluster-ip", "node-port", "pending-lb", "lb", "external-name", "headless"],
)
def test_a_services_addresses_and_ports_read_as_kubectl_shows_them(
    svc: Obj, shown: list[Any]
) -> None:
    assert cells(RESOURCES["Service"], svc)[1:] == shown


def test_an_event_shows_when_what_and_about_which_object() -> None:
    event = {
        "metadata": {"name": "llama-0.17f", "namespace": "default"},
        "involvedObject": {"kind": "Pod", "name": "llama-0", "fieldPath": "spec.containers{vllm}"},
        "reason": "Started",
        "type": "Normal",
        "message": "Started container vllm\n",
        "source": {"component": "kubelet", "host": "h100-0"},
        "firstTimestamp": ago(minutes=20),
        "lastTimestamp": ago(minutes=3),
        "reportingComponent": "",
        "reportingInstance": "",
    }

    assert cells(RESOURCES["Event"], event) == [
        "3m",
        "Normal",
        "Started",
        "pod/llama-0",
        "spec.containers{vllm}",
        "kubelet, h100-0",
        "Started container vllm",
        "20m",
        1,
        "llama-0.17f",
    ]


def test_a_new_style_event_is_aged_by_its_event_time_and_series() -> None:
    event = {
        "metadata": {"name": "e"},
        "involvedObject": {"kind": "LlamaDeployment"},
        "eventTime": "2025-06-01T11:50:00.000000Z",
        "firstTimestamp": None,
        "lastTimestamp": None,
        "series": {"count": 4, "lastObservedTime": ago(minutes=1)},
        "reportingComponent": "llamaops",
        "reportingInstance": "llamaops-0",
    }

    shown = cells(RESOURCES["Event"], event)

    assert (shown[0], shown[3], shown[5], shown[7], shown[8]) == (
        "60s",
        "llamadeployment",
        "llamaops, llamaops-0",
        "10m",
        4,
    )


ONE_HOUR = {"creationTimestamp": ago(hours=1)}
SMALL_KINDS: list[tuple[str, Obj, list[Any]]] = [
    (
        "Namespace",
        {"metadata": {"name": "llm", **ONE_HOUR}, "status": {"phase": "Active"}},
        ["llm", "Active", "60m"],
    ),
    (
        "ConfigMap",
        {"metadata": {"name": "cfg", **ONE_HOUR}, "data": {"a": "1"}, "binaryData": {"b": "AA=="}},
        ["cfg", 2, "60m"],
    ),
    (
        "Secret",
        {"metadata": {"name": "hf", **ONE_HOUR}, "type": "Opaque", "data": {"token": "aGY="}},
        ["hf", "Opaque", 1, "60m"],
    ),
    ("Endpoints", {"metadata": {"name": "llama", **ONE_HOUR}}, ["llama", "<none>", "60m"]),
    (
        "Endpoints",
        {
            "metadata": {"name": "llama", **ONE_HOUR},
            "subsets": [
                {
                    "addresses": [{"ip": f"10.0.0.{i}"} for i in range(1, 6)],
                    "ports": [{"port": 8000}],
                }
            ],
        },
        ["llama", "10.0.0.1:8000,10.0.0.2:8000,10.0.0.3:8000 + 2 more...", "60m"],
    ),
    (
        "Endpoints",
        {
            "metadata": {"name": "v6", **ONE_HOUR},
            "subsets": [{"addresses": [{"ip": "fd00::1"}], "ports": [{"port": 80}]}],
        },
        ["v6", "[fd00::1]:80", "60m"],
    ),
    (
        "EndpointSlice",
        {
            "metadata": {"name": "llama-x7k2p", **ONE_HOUR},
            "addressType": "IPv4",
            "ports": [{"name": "http", "port": 8000}],
            "endpoints": [{"addresses": ["10.0.0.1"]}, {"addresses": ["10.0.0.2"]}],
        },
        ["llama-x7k2p", "IPv4", "8000", "10.0.0.1,10.0.0.2", "60m"],
    ),
    (
        "EndpointSlice",
        {"metadata": {"name": "empty", **ONE_HOUR}, "addressType": "IPv4"},
        ["empty", "IPv4", "<unset>", "<unset>", "60m"],
    ),
    (
        "PodDisruptionBudget",
        {
            "metadata": {"name": "llama", **ONE_HOUR},
            "spec": {"maxUnavailable": "25%"},
            "status": {"disruptionsAllowed": 1},
        },
        ["llama", "N/A", "25%", 1, "60m"],
    ),
    (
        "Lease",
        {"metadata": {"name": "llamaops", **ONE_HOUR}, "spec": {"holderIdentity": "llamaops-0"}},
        ["llamaops", "llamaops-0", "60m"],
    ),
    (
        "CustomResourceDefinition",
        {
            "metadata": {
                "name": "llamadeployments.serving.llamaops.io",
                "creationTimestamp": "2025-05-01T08:00:00+02:00",
            }
        },
        ["llamadeployments.serving.llamaops.io", "2025-05-01T06:00:00Z"],
    ),
]


@pytest.mark.parametrize(
    ("kind", "body", "shown"),
    SMALL_KINDS,
    ids=[f"{c[0]}-{c[1]['metadata']['name']}" for c in SMALL_KINDS],
)
def test_the_smaller_kinds_read_as_kubectl_shows_them(
    kind: str, body: Obj, shown: list[Any]
) -> None:
    assert cells(RESOURCES[kind], body) == shown
