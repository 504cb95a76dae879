"""The local cluster's Prometheus service discovery labels targets as kubernetes_sd does:
pods by container port, Endpoints by address × port, label names sanitized."""

import asyncio
import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from llamaops.sim.cluster.prometheus_sd import discover, endpoints_targets, pod_targets, sanitize
from llamaops.sim.cluster.prometheus_sd_server import PrometheusDiscovery
from tests.unit.sim.cluster.discovery_builders import (
    VLLM_LABELS,
    PodBuilder,
    a_pod,
    a_service,
    address_of,
    an_endpoints,
)

Obj = dict[str, Any]
META = "__meta_kubernetes_"


def labels_of(groups: list[Obj]) -> dict[str, dict[str, str]]:
    """Target address -> its labels (each group holds one target)."""
    assert all(len(g["targets"]) == 1 for g in groups), groups
    return {g["targets"][0]: g["labels"] for g in groups}


# --- label names -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("app.kubernetes.io/name", "app_kubernetes_io_name"),
        ("serving.llamaops.io/deployment", "serving_llamaops_io_deployment"),
        ("helm.sh/chart", "helm_sh_chart"),
        ("pod-template-hash", "pod_template_hash"),
        ("already_fine_9", "already_fine_9"),
    ],
)
def test_label_names_are_sanitized_as_prometheus_does(name: str, label: str) -> None:
    assert sanitize(name) == label


# --- role pod ----------------------------------------------------------------------------
def test_a_vllm_replica_is_one_target_on_its_http_port_with_the_pod_labels() -> None:
    pod = a_pod().with_labels(VLLM_LABELS).serving().controlled_by("LlamaDeployment", "llama3-70b")

    targets = labels_of(pod_targets([pod.obj()]))

    assert targets.keys() == {"127.0.0.7:8000"}
    labels = targets["127.0.0.7:8000"]
    assert {
        f"{META}namespace": "default",
        f"{META}pod_name": "llama3-70b-abc",
        f"{META}pod_ip": "127.0.0.7",
        f"{META}pod_ready": "true",
        f"{META}pod_phase": "Running",
        f"{META}pod_node_name": "h100-0",
        f"{META}pod_host_ip": "10.0.0.1",
        f"{META}pod_uid": "uid-llama3-70b-abc",
        f"{META}pod_controller_kind": "LlamaDeployment",
        f"{META}pod_controller_name": "llama3-70b",
        f"{META}pod_label_serving_llamaops_io_deployment": "llama3-70b",
        f"{META}pod_labelpresent_serving_llamaops_io_deployment": "true",
        f"{META}pod_label_app_kubernetes_io_name": "vllm",
        f"{META}pod_container_name": "vllm",
        f"{META}pod_container_image": "vllm:1",
        f"{META}pod_container_port_name": "http",
        f"{META}pod_container_port_number": "8000",
        f"{META}pod_container_port_protocol": "TCP",
        f"{META}pod_container_init": "false",
    }.items() <= labels.items()


@pytest.mark.parametrize(
    ("pod", "ports"),
    [
        (a_pod().serving(), [":8000"]),
        (a_pod().container("a", ("http", 8000), ("metrics", 9090)), [":8000", ":9090"]),
        (a_pod().container("a", ("http", 8000)).container("b", ("x", 81)), [":8000", ":81"]),
        (a_pod().container("sidecar"), [""]),  # no ports: the pod's IP alone
        (a_pod().serving().container("setup", ("s", 1), init=True), [":8000", ":1"]),
        (a_pod().serving().without_ip(), []),  # starting or evicted: not listed
    ],
)
def test_a_pod_has_a_target_per_container_port(pod: PodBuilder, ports: list[str]) -> None:
    assert [g["targets"][0] for g in pod_targets([pod.obj()])] == [f"127.0.0.7{p}" for p in ports]


@pytest.mark.parametrize(
    ("status", "ready"), [("True", "true"), ("False", "false"), (None, "unknown")]
)
def test_pod_ready_is_the_ready_condition_in_lower_case(status: str | None, ready: str) -> None:
    (labels,) = labels_of(pod_targets([a_pod().serving().ready(status).obj()])).values()

    assert labels[f"{META}pod_ready"] == ready


def test_an_init_containers_port_is_marked_init() -> None:
    pod = a_pod().container("setup", ("s", 1), init=True).obj()

    (labels,) = labels_of(pod_targets([pod])).values()

    assert labels[f"{META}pod_container_init"] == "true"


# --- role endpoints ----------------------------------------------------------------------
def test_an_address_is_a_target_with_its_service_and_pod_labels() -> None:
    pod = a_pod().with_labels(VLLM_LABELS).serving().obj()
    service = a_service("llama3-70b", tier="serving")
    eps = an_endpoints("llama3-70b", {"name": "http", "port": 8000}, [address_of(pod)])

    groups = endpoints_targets(
        [eps], {("default", "llama3-70b"): service}, {("default", "llama3-70b-abc"): pod}
    )

    assert {
        f"{META}namespace": "default",
        f"{META}endpoints_name": "llama3-70b",
        f"{META}service_name": "llama3-70b",
        f"{META}service_label_tier": "serving",
        f"{META}service_labelpresent_tier": "true",
        f"{META}endpoint_port_name": "http",
        f"{META}endpoint_port_protocol": "TCP",
        f"{META}endpoint_ready": "true",
        f"{META}endpoint_node_name": "h100-0",
        f"{META}endpoint_address_target_kind": "Pod",
        f"{META}endpoint_address_target_name": "llama3-70b-abc",
        f"{META}pod_name": "llama3-70b-abc",
        f"{META}pod_label_serving_llamaops_io_deployment": "llama3-70b",
        f"{META}pod_container_name": "vllm",
        f"{META}pod_container_port_name": "http",
    }.items() <= labels_of(groups)["127.0.0.7:8000"].items()


def test_a_not_ready_address_is_a_target_marked_not_ready() -> None:
    pod = a_pod().serving().ready("False").obj()
    eps = an_endpoints("llama3-70b", {"name": "http", "port": 8000}, [], [address_of(pod)])

    groups = endpoints_targets([eps], {}, {("default", "llama3-70b-abc"): pod})

    assert labels_of(groups)["127.0.0.7:8000"][f"{META}endpoint_ready"] == "false"


def test_an_address_without_a_pod_has_only_the_endpoint_and_service_labels() -> None:
    """The integration test's stand-in for the operator pod: 127.0.0.1, no targetRef."""
    service = a_service(
        "llamaops-metrics", "llamaops-system", **{"app.kubernetes.io/component": "metrics"}
    )
    eps = an_endpoints("llamaops-metrics", {"name": "metrics", "port": 8080}, [{"ip": "127.0.0.1"}])
    eps["metadata"]["namespace"] = "llamaops-system"

    groups = endpoints_targets([eps], {("llamaops-system", "llamaops-metrics"): service}, {})

    labels = labels_of(groups)["127.0.0.1:8080"]
    assert labels[f"{META}service_label_app_kubernetes_io_component"] == "metrics"
    assert labels[f"{META}endpoint_port_name"] == "metrics"
    assert not [name for name in labels if name.startswith(f"{META}pod_")]
    assert f"{META}endpoint_address_target_name" not in labels


def test_a_pods_container_port_no_endpoint_port_reached_is_a_target_of_its_own() -> None:
    pod = a_pod().container("vllm", ("http", 8000), ("debug", 9000)).obj()
    eps = an_endpoints("llama3-70b", {"name": "http", "port": 8000}, [address_of(pod)])

    groups = labels_of(endpoints_targets([eps], {}, {("default", "llama3-70b-abc"): pod}))

    assert groups.keys() == {"127.0.0.7:8000", "127.0.0.7:9000"}
    other = groups["127.0.0.7:9000"]
    assert other[f"{META}pod_container_port_name"] == "debug"
    assert f"{META}endpoint_port_name" not in other


# --- discover and its server -------------------------------------------------------------
def world() -> dict[str, list[Obj]]:
    pods = [a_pod("a", "team-a").serving().obj(), a_pod("b", "team-b").serving().obj()]
    pods[1]["status"]["podIP"] = "127.0.0.8"
    return {"pods": pods, "services": [], "endpoints": []}


@pytest.mark.parametrize(
    ("namespaces", "names"),
    [((), {"a", "b"}), (("team-a",), {"a"}), (("team-a", "team-b"), {"a", "b"}), (("x",), set())],
)
def test_discover_keeps_the_namespaces_asked_for(
    namespaces: tuple[str, ...], names: set[str]
) -> None:
    groups = discover("pod", world().__getitem__, namespaces)

    assert {g["labels"][f"{META}pod_name"] for g in groups} == names


def test_an_unknown_role_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown role 'node'"):
        discover("node", world().__getitem__)


class FakeApi:
    def __init__(self, objects: dict[str, list[Obj]]) -> None:
        self.objects = objects

    def list(self, plural: str) -> list[Obj]:
        return self.objects[plural]


def test_the_server_answers_prometheus_http_sd_json() -> None:
    async def scenario() -> tuple[Any, int]:
        discovery = PrometheusDiscovery(FakeApi(world()))  # type: ignore[arg-type]
        url = await discovery.start()
        try:
            answer = await asyncio.to_thread(fetch, f"{url}/pod?namespace=team-b")
            missing = await asyncio.to_thread(status_of, f"{url}/node")
        finally:
            await discovery.stop()
        return answer, missing

    answer, missing = asyncio.run(scenario())

    assert [g["targets"] for g in answer] == [["127.0.0.8:8000"]]
    assert answer[0]["labels"][f"{META}pod_name"] == "b"
    assert missing == 404


def fetch(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code
