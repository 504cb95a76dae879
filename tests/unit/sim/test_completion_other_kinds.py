"""Services, Namespaces, Nodes and Secrets come back completed as kube-apiserver
returns them; quantities are read as Kubernetes writes them.
"""

import base64
from fractions import Fraction
from typing import Any

import pytest

from llamaops.sim.apiserver.quantities import parse_quantity
from tests.unit.sim.completion_builders import Obj, completed, obj


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
