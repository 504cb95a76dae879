"""Nodes and pods as the API returns them, built in sentences, for test_scheduling*.py:

gpu_node("gpu-a").tainted("nvidia.com/gpu", "present").obj()
pod("vllm-0").requesting(gpus=8).tolerating("nvidia.com/gpu").obj()
"""

from typing import Any, Self

from llamaops.sim.cluster.scheduling import Decision, schedule

Obj = dict[str, Any]
GPU = "nvidia.com/gpu"


def _resources(gpus: int | None, cpu: str | None, memory: str | None, **other: str) -> Obj:
    named = {GPU: gpus, "cpu": cpu, "memory": memory, **other}
    return {name: str(amount) for name, amount in named.items() if amount is not None}


class NodeBuilder:
    def __init__(self, name: str) -> None:
        self.node: Obj = {
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
            "spec": {},
            "status": {
                "allocatable": {"cpu": "64", "memory": "512Gi", "pods": "110"},
                "conditions": [{"type": "Ready", "status": "True"}],
            },
        }

    def with_gpus(self, count: int) -> Self:
        self.node["status"]["allocatable"][GPU] = str(count)
        self.labelled(**{"nvidia.com/gpu.present": "true", "nvidia.com/gpu.count": str(count)})
        return self

    def with_allocatable(self, **amounts: str) -> Self:
        self.node["status"]["allocatable"].update(amounts)
        return self

    def without_pods(self) -> Self:
        """No allocatable "pods": the local scheduler assumes the kubelet's default, 110."""
        del self.node["status"]["allocatable"]["pods"]
        return self

    def labelled(self, **labels: str) -> Self:
        self.node["metadata"]["labels"].update(labels)
        return self

    def tainted(self, key: str, value: str = "", effect: str = "NoSchedule") -> Self:
        taint = {"key": key, "effect": effect, **({"value": value} if value else {})}
        self.node["spec"].setdefault("taints", []).append(taint)
        return self

    def cordoned(self) -> Self:
        self.node["spec"]["unschedulable"] = True
        return self

    def ready(self, status: str | None) -> Self:
        """Ready=status; None removes the condition, as on a node that never reported."""
        conditions = [{"type": "Ready", "status": status}] if status is not None else []
        self.node["status"]["conditions"] = conditions
        return self

    def obj(self) -> Obj:
        return self.node


class PodBuilder:
    def __init__(self, name: str) -> None:
        self.pod: Obj = {
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"containers": [{"name": "main", "image": "vllm"}]},
            "status": {"phase": "Pending"},
        }
        self._terms: list[Obj] = []

    @property
    def _main(self) -> Obj:
        main: Obj = self.pod["spec"]["containers"][0]
        return main

    def requesting(
        self, gpus: int | None = None, cpu: str | None = None, memory: str | None = None
    ) -> Self:
        self._main.setdefault("resources", {})["requests"] = _resources(gpus, cpu, memory)
        return self

    def limited_to(
        self, gpus: int | None = None, cpu: str | None = None, memory: str | None = None
    ) -> Self:
        self._main.setdefault("resources", {})["limits"] = _resources(gpus, cpu, memory)
        return self

    def with_container(
        self, gpus: int | None = None, cpu: str | None = None, memory: str | None = None
    ) -> Self:
        requests = _resources(gpus, cpu, memory)
        containers = self.pod["spec"]["containers"]
        containers.append({"name": f"c{len(containers)}", "resources": {"requests": requests}})
        return self

    def with_init_container(
        self,
        gpus: int | None = None,
        cpu: str | None = None,
        memory: str | None = None,
        sidecar: bool = False,
    ) -> Self:
        init = self.pod["spec"].setdefault("initContainers", [])
        container: Obj = {"name": f"init{len(init)}"}
        container["resources"] = {"requests": _resources(gpus, cpu, memory)}
        if sidecar:
            container["restartPolicy"] = "Always"
        init.append(container)
        return self

    def with_overhead(self, **amounts: str) -> Self:
        self.pod["spec"]["overhead"] = amounts
        return self

    def selecting(self, **labels: str) -> Self:
        self.pod["spec"].setdefault("nodeSelector", {}).update(labels)
        return self

    def requiring(self, key: str, operator: str, *values: str) -> Self:
        """A matchExpression ANDed into the current node selector term."""
        return self._require("matchExpressions", key, operator, values)

    def requiring_field(self, operator: str, *values: str) -> Self:
        """A matchFields requirement on metadata.name, ANDed into the current term."""
        return self._require("matchFields", "metadata.name", operator, values)

    def or_else(self) -> Self:
        """Start another node selector term, ORed with the ones before."""
        self._terms.append({})
        self._set_terms()
        return self

    def requiring_no_terms(self) -> Self:
        self._set_terms()
        return self

    def _require(self, kind: str, key: str, operator: str, values: tuple[str, ...]) -> Self:
        if not self._terms:
            self._terms.append({})
        requirement: Obj = {"key": key, "operator": operator}
        if values:
            requirement["values"] = list(values)
        self._terms[-1].setdefault(kind, []).append(requirement)
        self._set_terms()
        return self

    def _set_terms(self) -> None:
        required = {"nodeSelectorTerms": self._terms}
        affinity = {"requiredDuringSchedulingIgnoredDuringExecution": required}
        self.pod["spec"]["affinity"] = {"nodeAffinity": affinity}

    def tolerating(
        self, key: str = "", operator: str = "Exists", value: str = "", effect: str = ""
    ) -> Self:
        toleration = {"key": key, "operator": operator, "value": value, "effect": effect}
        toleration = {k: v for k, v in toleration.items() if v}
        self.pod["spec"].setdefault("tolerations", []).append(toleration)
        return self

    def on(self, node: str) -> Self:
        self.pod["spec"]["nodeName"] = node
        self.pod["status"]["phase"] = "Running"
        return self

    def in_phase(self, phase: str | None) -> Self:
        if phase is None:
            del self.pod["status"]["phase"]
        else:
            self.pod["status"]["phase"] = phase
        return self

    def terminating(self) -> Self:
        self.pod["metadata"]["deletionTimestamp"] = "2025-01-01T00:00:00Z"
        return self

    def obj(self) -> Obj:
        return self.pod


def node(name: str) -> NodeBuilder:
    return NodeBuilder(name)


def gpu_node(name: str, gpus: int = 8) -> NodeBuilder:
    return NodeBuilder(name).with_gpus(gpus)


def pod(name: str = "p") -> PodBuilder:
    return PodBuilder(name)


def gpu_pod(name: str = "p", gpus: int = 8) -> PodBuilder:
    return PodBuilder(name).requesting(gpus=gpus)


def place(pending: list[Obj], nodes: list[Obj], running: list[Obj] | None = None) -> list[Decision]:
    """Schedule pods one after another, binding each as the scheduler loop does, so the
    next pod sees it."""
    pods = list(running or [])
    decisions = []
    for waiting in pending:
        decision = schedule(waiting, nodes, pods)
        bound = {**waiting["spec"], "nodeName": decision.node} if decision.node else None
        pods.append({**waiting, "spec": bound} if bound else waiting)
        decisions.append(decision)
    return decisions


def only_reason(decision: Decision) -> str:
    """The single reason all nodes were rejected for."""
    assert decision.node is None, f"expected no node, got {decision.node}"
    (reason,) = decision.reasons
    return reason
