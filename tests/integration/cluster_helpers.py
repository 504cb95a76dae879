"""Builders and checks for the tests that drive the local cluster as a user does
(test_cluster_*.py): pods and Services that read like sentences, and the official client
and kubectl against a running cluster (traffic is in cluster_traffic_helpers.py).

    with a_cluster(tmp_path) as cluster:
        cluster.apply(vllm_pod("a", gpus=8).tolerating_gpus().with_probes().obj())
        cluster.wait_until(lambda: is_ready(cluster.pod("a")), 10, "a is Ready")

A test that fails inside `a_cluster` prints the nodes, pods, Services, Endpoints and
events it left behind.
"""

import asyncio
import copy
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Self, TypeVar

import kubernetes
import yaml
from kubernetes.client import (
    ApiException,
    CoordinationV1Api,
    CoreV1Api,
    V1Eviction,
    V1ObjectMeta,
)

from llamaops.sim.cluster.config import ClusterFile, load_cluster_file
from tests.integration.cluster_fixture import REPO, RunningCluster, running_cluster

T = TypeVar("T")
Obj = dict[str, Any]
NS = "default"
H100_2X8 = "e2e/clusters/h100-2x8.yaml"
MIXED = "e2e/clusters/mixed.yaml"
LLAMA_8B = "meta-llama/Llama-3.1-8B-Instruct"
SERVED_NAME = "llama"
GPU = "nvidia.com/gpu"
UNREACHABLE = "node.kubernetes.io/unreachable"
PROXY_URL = "sim.llamaops.io/proxy-url"


# --- pods, Services and budgets ----------------------------------------------------------
@dataclass
class PodBuilder:
    """A pod with one container; each method says one thing about it."""

    name: str
    command: list[str]
    labels: dict[str, str] = field(default_factory=dict)
    spec: Obj = field(default_factory=dict)
    container: Obj = field(default_factory=dict)

    def labelled(self, **labels: str) -> Self:
        self.labels.update(labels)
        return self

    def gpus(self, count: int) -> Self:
        self.container.setdefault("resources", {})["limits"] = {GPU: str(count)}
        return self

    def tolerating_gpus(self) -> Self:
        return self._tolerate({"key": GPU, "operator": "Exists", "effect": "NoSchedule"})

    def tolerating_unreachable_for(self, seconds: int) -> Self:
        return self._tolerate(
            {
                "key": UNREACHABLE,
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": seconds,
            }
        )

    def on_node(self, node: str) -> Self:
        return self.selecting_nodes(**{"kubernetes.io/hostname": node})

    def selecting_nodes(self, **labels: str) -> Self:
        self.spec.setdefault("nodeSelector", {}).update(labels)
        return self

    def requiring_node_label(self, key: str, *values: str) -> Self:
        """Required node affinity: the node's `key` label is one of `values`."""
        term = {"matchExpressions": [{"key": key, "operator": "In", "values": list(values)}]}
        self.spec["affinity"] = {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}
            }
        }
        return self

    def with_probes(self, period: int = 1) -> Self:
        """A readiness probe on the engine's /health, as vLLM manifests have."""
        return self.with_readiness_probe("/health", "http", period)

    def with_readiness_probe(self, path: str, port: int | str, period: int = 1) -> Self:
        self.container["readinessProbe"] = {
            "httpGet": {"path": path, "port": port},
            "periodSeconds": period,
            "failureThreshold": 1,
        }
        return self

    def sleeping_before_stop(self, seconds: int, *, as_exec: bool = False) -> Self:
        """A preStop hook that gives the endpoints time to drop the pod before SIGTERM."""
        hook = (
            {"exec": {"command": ["sh", "-c", f"sleep {seconds}"]}}
            if as_exec
            else {"sleep": {"seconds": seconds}}
        )
        self.container["lifecycle"] = {"preStop": hook}
        return self

    def grace(self, seconds: int) -> Self:
        self.spec["terminationGracePeriodSeconds"] = seconds
        return self

    def engine_flags(self, *flags: str) -> Self:
        self.command += list(flags)
        return self

    def obj(self) -> Obj:
        container = {"name": "engine", "image": "vllm/vllm-openai:v0.11.0", **self.container}
        container["command"] = list(self.command)
        if self.command[:2] == ["vllm", "serve"]:
            container["ports"] = [{"name": "http", "containerPort": 8000}]
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": self.name, "labels": dict(self.labels)},
            "spec": {**copy.deepcopy(self.spec), "containers": [container]},
        }

    def _tolerate(self, toleration: Obj) -> Self:
        self.spec.setdefault("tolerations", []).append(toleration)
        return self


def vllm_pod(name: str, gpus: int = 1, model: str = LLAMA_8B) -> PodBuilder:
    """`vllm serve MODEL` on `gpus` GPUs, served as "llama"."""
    command = ["vllm", "serve", model, "--served-model-name", SERVED_NAME]
    command += ["--tensor-parallel-size", str(gpus), "--max-model-len", "8192"]
    return PodBuilder(name, command).gpus(gpus)


def replica(name: str) -> PodBuilder:
    """A replica behind the Service `llama`: a vLLM pod on one GPU, Ready when /health is."""
    return vllm_pod(name).labelled(app="llama").tolerating_gpus().with_probes()


def idle_pod(name: str) -> PodBuilder:
    """A container that is not vLLM: it runs and does nothing."""
    builder = PodBuilder(name, ["sleep", "infinity"])
    builder.container["image"] = "busybox:1.36"
    return builder


def a_service(name: str, **selector: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {
            "selector": selector,
            "ports": [{"name": "http", "port": 8000, "targetPort": "http"}],
        },
    }


def a_disruption_budget(name: str, min_available: int, **selector: str) -> Obj:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": name},
        "spec": {"minAvailable": min_available, "selector": {"matchLabels": selector}},
    }


def a_cluster_file(path: str = H100_2X8, **changes: Any) -> ClusterFile:
    """A cluster file from e2e/clusters/, with fields replaced (e.g. checkpoints)."""
    loaded = load_cluster_file(REPO / path).model_dump(by_alias=True)
    return ClusterFile.model_validate({**loaded, **changes})


# --- what a pod or node says about itself ------------------------------------------------
def condition(obj: Obj | None, kind: str) -> Obj:
    conditions = ((obj or {}).get("status") or {}).get("conditions") or []
    return next((c for c in conditions if c.get("type") == kind), {})


def is_ready(pod: Obj | None) -> bool:
    return condition(pod, "Ready").get("status") == "True"


def is_terminating(pod: Obj | None) -> bool:
    return bool((pod or {}).get("metadata", {}).get("deletionTimestamp"))


def is_running(pod: Obj | None) -> bool:
    return ((pod or {}).get("status") or {}).get("phase") == "Running"


def node_of(pod: Obj | None) -> str:
    return str(((pod or {}).get("spec") or {}).get("nodeName") or "")


def container_status(pod: Obj | None) -> Obj:
    statuses = ((pod or {}).get("status") or {}).get("containerStatuses") or [{}]
    return dict(statuses[0])


def taints(node: Obj | None) -> list[tuple[str, str]]:
    return [(t["key"], t["effect"]) for t in ((node or {}).get("spec") or {}).get("taints") or []]


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- a running cluster, as a user reaches it ---------------------------------------------
class Cluster:
    """kubectl and the official client against a local cluster; faults through its handle."""

    def __init__(self, running: RunningCluster, core: CoreV1Api, tmp_path: Path) -> None:
        self.running, self.core, self.tmp_path = running, core, tmp_path
        self._applied = 0

    # kubectl
    def kubectl(self, *args: str) -> str:
        return self.running.kubectl(*args).stdout

    def apply(self, *objects: Obj) -> None:
        self._applied += 1
        path = self.tmp_path / f"applied-{self._applied}.yaml"
        path.write_text(yaml.safe_dump_all(objects))
        self.kubectl("apply", "-f", str(path))

    def delete_pod(self, name: str) -> None:
        self.kubectl("delete", "pod", name, "--wait=false")

    # the official client
    def pod(self, name: str) -> Obj | None:
        return self._read(lambda: self.core.read_namespaced_pod(name, NS, _preload_content=False))

    def node(self, name: str) -> Obj | None:
        return self._read(lambda: self.core.read_node(name, _preload_content=False))

    def endpoints(self, service: str) -> Obj | None:
        return self._read(
            lambda: self.core.read_namespaced_endpoints(service, NS, _preload_content=False)
        )

    def serving_addresses(self, service: str) -> list[str]:
        """The pods the Service's Endpoints list as ready addresses."""
        subsets = (self.endpoints(service) or {}).get("subsets") or []
        return sorted(a["targetRef"]["name"] for s in subsets for a in s.get("addresses") or [])

    def lease_renewed(self, node: str) -> datetime:
        """When the node's kubelet last renewed its Lease in kube-node-lease."""
        leases = CoordinationV1Api(self.core.api_client)
        lease = self._read(
            lambda: leases.read_namespaced_lease(node, "kube-node-lease", _preload_content=False)
        )
        return parse_time(str((lease or {})["spec"]["renewTime"]))

    def evict(self, name: str) -> None:
        """Ask the eviction API to evict a pod, as `kubectl drain` does."""
        eviction = V1Eviction(metadata=V1ObjectMeta(name=name, namespace=NS))
        self.core.create_namespaced_pod_eviction(name, NS, eviction)

    def events_about(self, name: str) -> list[Obj]:
        found = self._read(
            lambda: self.core.list_namespaced_event(
                NS, field_selector=f"involvedObject.name={name}", _preload_content=False
            )
        )
        return list((found or {}).get("items") or [])

    def service_url(self, name: str) -> str:
        def url() -> str:
            service = self._read(
                lambda: self.core.read_namespaced_service(name, NS, _preload_content=False)
            )
            return str(
                ((service or {}).get("metadata", {}).get("annotations") or {}).get(PROXY_URL, "")
            )

        return self.wait_until(url, 5, f"Service {name} has a proxy URL")

    # the cluster's own handle: time and faults
    def now(self) -> datetime:
        return self.running.cluster.api.clock.now()

    def seconds_since(self, moment: datetime) -> float:
        return (self.now() - moment).total_seconds()

    def fail_node(self, name: str) -> None:
        self.running.run(lambda: self.running.cluster.fail_node(name))

    def restore_node(self, name: str) -> None:
        self.running.run(lambda: self.running.cluster.restore_node(name))

    def add_node(self, pool: str) -> str:
        return str(self.running.run(lambda: self.running.cluster.add_node(pool)))

    def start_draining(self, node: str) -> "Drain":
        """Start `drain_node` on the cluster's loop, as `kubectl drain` runs beside a cluster."""
        cluster = self.running.cluster
        task = self.running.run(lambda: asyncio.ensure_future(cluster.drain_node(node, 600)))
        return Drain(self.running, task)

    # waiting, and evidence
    def wait_until(self, predicate: Callable[[], T], timeout: float, message: str) -> T:
        return self.running.wait_until(predicate, timeout, message)

    def wait_for_pod(
        self, name: str, test: Callable[[Obj | None], bool], timeout: float, message: str
    ) -> Obj:
        def check() -> Obj | None:
            pod = self.pod(name)
            return pod if test(pod) else None

        found = self.wait_until(check, timeout, f"pod {name} {message}")
        assert found is not None
        return found

    def evidence(self) -> str:
        return self.running.evidence()

    def _read(self, call: Callable[[], Any]) -> Obj | None:
        try:
            return dict(json.loads(call().data))
        except ApiException as error:
            if error.status == 404:
                return None
            raise


@dataclass
class Drain:
    """A drain in progress on the cluster's loop."""

    running: RunningCluster
    task: "asyncio.Task[list[str]]"

    def done(self) -> bool:
        return bool(self.running.run(self.task.done))

    def pods_left(self) -> list[str]:
        """The pods the drain could not evict (only once it is done)."""
        return list(self.running.run(self.task.result))


@contextmanager
def a_cluster(
    tmp_path: Path,
    cluster_file: str | ClusterFile = H100_2X8,
    speed: float = 20.0,
) -> Iterator[Cluster]:
    """A local cluster for one test; its state is printed if the test fails inside."""
    with (
        running_cluster(tmp_path, cluster_file, speed=speed) as running,
        kubernetes.config.new_client_from_config(str(running.kubeconfig)) as client,
    ):
        cluster = Cluster(running, CoreV1Api(client), tmp_path)
        try:
            yield cluster
        except BaseException:
            print(f"=== the cluster when the test failed\n{cluster.evidence()}")
            raise
