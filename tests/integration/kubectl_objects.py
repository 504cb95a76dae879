"""Objects the kubectl tests apply, and the statuses a kubelet or the operator writes."""

from tests.builders import a_deployment
from tests.integration.kubectl_helpers import Obj


def llama(name: str, replicas: int = 2) -> Obj:
    return (
        a_deployment(name)
        .model("meta-llama/Llama-3.1-8B-Instruct")
        .gpu(product="H100-80GB")
        .replicas(replicas)
        .obj()
    )


def engine_pod(name: str, node: str | None = None) -> Obj:
    """A two-container Pod shaped like a vLLM replica."""
    spec: Obj = {
        "containers": [
            {
                "name": "vllm",
                "image": "vllm/vllm-openai:v0.11.0",
                "env": [{"name": "VLLM_PORT", "value": "8000"}],
            },
            {"name": "metrics", "image": "busybox:1.36"},
        ]
    }
    if node is not None:
        spec["nodeName"] = node
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "vllm"}},
        "spec": spec,
    }


def running_status(ip: str, restarts: int = 1) -> Obj:
    """A kubelet's status for engine_pod: vllm ready, metrics not yet."""
    started = {"running": {"startedAt": "2026-01-01T00:00:00Z"}}
    return {
        "phase": "Running",
        "podIP": ip,
        "podIPs": [{"ip": ip}],
        "containerStatuses": [
            {
                "name": "vllm",
                "ready": True,
                "started": True,
                "restartCount": restarts,
                "image": "vllm/vllm-openai:v0.11.0",
                "imageID": "",
                "state": started,
            },
            {
                "name": "metrics",
                "ready": False,
                "started": True,
                "restartCount": 0,
                "image": "busybox:1.36",
                "imageID": "",
                "state": started,
            },
        ],
    }


def serving_status(
    *, gpu: str, tensor_parallel: int, ready: int, desired: int, queue: int, checkpoint: str
) -> Obj:
    """A LlamaDeployment status as the operator writes it."""
    return {
        "placement": {
            "fits": True,
            "tensorParallelSize": tensor_parallel,
            "pipelineParallelSize": 1,
            "gpusPerReplica": tensor_parallel,
            "nodesPerReplica": 1,
            "gpuProduct": gpu,
            "gpuMemoryMiB": 81559,
            "gpusPerNode": 8,
            "maxModelLen": 8192,
            "memoryPerGpu": {
                "usableGiB": 71.7,
                "weightsGiB": 32.9,
                "overheadGiB": 3.5,
                "kvCacheGiB": 35.3,
            },
            "kvCacheTokens": 462000,
            "fullLengthSequences": 56,
            "reason": "TP 4 is the smallest size that fits",
        },
        "replicas": desired,
        "readyReplicas": ready,
        "desiredReplicas": desired,
        "autoscaler": {"queueDepth": queue},
        "checkpoint": {"current": "0f3a9c2e11", "summary": checkpoint},
    }
