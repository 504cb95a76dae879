"""Builders that make test objects read like sentences.

a_deployment().model("llama3.1-70b-instruct").max_model_len(8192).obj()
gpu_node("h100-0", product="NVIDIA-H100-80GB-HBM3", gpus=8)
gpu_pod("h100-0", gpus=4)
"""

import copy
from typing import Any, Self

from llamaops.api.resource import API_VERSION, KIND


class DeploymentBuilder:
    """A LlamaDeployment manifest as a user writes it (camelCase dicts)."""

    def __init__(self, name: str = "llama") -> None:
        self._obj: dict[str, Any] = {
            "apiVersion": API_VERSION,
            "kind": KIND,
            "metadata": {"name": name},
            "spec": {"model": {"name": "llama3.1-8b-instruct"}},
        }

    def model(self, name: str) -> Self:
        self._spec("model")["name"] = name
        return self

    def dtype(self, dtype: str) -> Self:
        self._spec("model")["dtype"] = dtype
        return self

    def max_model_len(self, tokens: int) -> Self:
        self._spec("model")["maxModelLen"] = tokens
        return self

    def gpu(self, **fields: Any) -> Self:
        self._spec("gpu").update(fields)
        return self

    def replicas(self, count: Any) -> Self:
        self._obj["spec"]["replicas"] = count
        return self

    def autoscaling(self, **fields: Any) -> Self:
        self._spec("autoscaling").update(fields)
        return self

    def rollout(self, **fields: Any) -> Self:
        self._spec("rollout").update(fields)
        return self

    def set(self, dotted: str, value: Any) -> Self:
        """Any field by path: .set("spec.scheduling.nodeSelector", {...})."""
        *parents, last = dotted.split(".")
        node = self._obj
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
        return self

    def obj(self) -> dict[str, Any]:
        return copy.deepcopy(self._obj)

    def _spec(self, part: str) -> dict[str, Any]:
        section: dict[str, Any] = self._obj["spec"].setdefault(part, {})
        return section


def a_deployment(name: str = "llama") -> DeploymentBuilder:
    return DeploymentBuilder(name)


def gpu_node(
    name: str,
    *,
    product: str | None = "NVIDIA-H100-80GB-HBM3",
    gpus: int = 8,
    memory_mib: int | None = None,
    ready: bool = True,
    cordoned: bool = False,
    taints: list[dict[str, str]] | None = None,
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A Node as GPU Feature Discovery and the device plugin leave it."""
    node_labels = {"kubernetes.io/hostname": name, **(labels or {})}
    if product is not None:
        node_labels["nvidia.com/gpu.product"] = product
        node_labels["nvidia.com/gpu.count"] = str(gpus)
    if memory_mib is not None:
        node_labels["nvidia.com/gpu.memory"] = str(memory_mib)
    spec: dict[str, Any] = {"taints": taints or []}
    if cordoned:
        spec["unschedulable"] = True
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": node_labels},
        "spec": spec,
        "status": {
            "capacity": {"nvidia.com/gpu": str(gpus), "cpu": "96"},
            "allocatable": {"nvidia.com/gpu": str(gpus), "cpu": "96"},
            "conditions": [{"type": "Ready", "status": "True" if ready else "Unknown"}],
        },
    }


def gpu_pod(
    node: str | None,
    gpus: int,
    *,
    phase: str = "Running",
    name: str = "pod",
    limits_only: bool = False,
    init_gpus: int = 0,
) -> dict[str, Any]:
    """A Pod bound to `node` that asks for `gpus` GPUs."""
    resources = {"limits": {"nvidia.com/gpu": str(gpus)}}
    if not limits_only:
        resources["requests"] = {"nvidia.com/gpu": str(gpus)}
    spec: dict[str, Any] = {"containers": [{"name": "main", "resources": resources}]}
    if node is not None:
        spec["nodeName"] = node
    if init_gpus:
        init = {"limits": {"nvidia.com/gpu": str(init_gpus)}}
        spec["initContainers"] = [{"name": "init", "resources": init}]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": spec,
        "status": {"phase": phase},
    }
