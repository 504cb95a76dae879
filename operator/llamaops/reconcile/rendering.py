"""The objects a LlamaDeployment owns, rendered from its spec: pure, no I/O.

One Pod per replica (its inside is built in `rendering_pod`), a Service that selects the
serving replicas, and a PodDisruptionBudget. Each pod carries two hashes as labels: the
checkpoint it serves and its pod template, so a planner can tell which replicas are
current by comparing labels (shared/DESIGN.md). Both hashes are sha256 of canonical JSON,
the same in every process and every run.
"""

import hashlib
import json
from typing import Any

from llamaops.api.placement import Placement
from llamaops.api.resource import API_VERSION, KIND, LlamaDeployment
from llamaops.api.spec import LlamaDeploymentSpec
from llamaops.model_resolution import ResolvedModel
from llamaops.reconcile.names import (
    ANNOTATION_RESTARTED_AT,
    ANNOTATION_WARMUP,
    ENGINE_PORT,
    LABEL_CHECKPOINT,
    LABEL_SERVING,
    LABEL_TEMPLATE_HASH,
    replica_selector,
)
from llamaops.reconcile.rendering_pod import engine_args, owned_flag_conflicts, pod_spec

__all__ = [
    "ANNOTATION_PLACEMENT",
    "checkpoint_id",
    "disruption_budget",
    "engine_args",
    "owned_flag_conflicts",
    "owner_reference",
    "placement_summary",
    "replica_name",
    "replica_pod",
    "service",
    "template_hash",
]

ANNOTATION_PLACEMENT = "serving.llamaops.io/placement"
HASH_LENGTH = 10  # hex digits: a label value, and no collision among one deployment's pods
MAX_POD_NAME = 63  # a DNS label, so that the pod's hostname is its name


def checkpoint_id(spec: LlamaDeploymentSpec) -> str:
    """The checkpoint a replica serves: its URI and revision, else the model's name."""
    checkpoint = spec.model.checkpoint
    if checkpoint is None:
        return _digest({"model": spec.model.name})
    return _digest({"uri": checkpoint.uri, "revision": checkpoint.revision})


def deployment_template_hash(deployment: LlamaDeployment, placement: Placement) -> str:
    """The template hash of the deployment's replicas: its spec's, and its restart
    annotation's (`kubectl annotate llama NAME serving.llamaops.io/restartedAt=...` rolls
    every replica, as `kubectl rollout restart` does for a Deployment)."""
    annotations = deployment.metadata.annotations or {}
    return template_hash(deployment.spec, placement, annotations.get(ANNOTATION_RESTARTED_AT))


def template_hash(
    spec: LlamaDeploymentSpec, placement: Placement, restarted_at: str | None = None
) -> str:
    """Everything that shapes a replica pod, and nothing that does not: replicas,
    autoscaling, maxSurge/maxUnavailable, warm-up and pause change no pod, so they roll
    none. Fields are listed one by one, so that a new spec field rolls replicas only once
    someone adds it here. A restart annotation counts only when set, so that adding this
    changed no hash."""
    model, engine, rollout = spec.model, spec.engine, spec.rollout
    restart = {"restartedAt": restarted_at} if restarted_at is not None else {}
    return _digest(
        {
            **restart,
            "model": {
                "name": model.name,
                "checkpoint": model.checkpoint.to_wire() if model.checkpoint else None,
                "dtype": model.dtype,
                "maxModelLen": model.max_model_len,
                "hfTokenSecretRef": (
                    model.hf_token_secret_ref.to_wire() if model.hf_token_secret_ref else None
                ),
            },
            "engine": {
                "image": engine.image,
                "extraArgs": list(engine.extra_args),
                "env": [variable.to_wire() for variable in engine.env],
                "resources": engine.resources.to_wire(),
            },
            "memoryUtilization": spec.gpu.memory_utilization,
            "placement": {
                "tensorParallelSize": placement.tensor_parallel_size,
                "pipelineParallelSize": placement.pipeline_parallel_size,
                "gpusPerReplica": placement.gpus_per_replica,
                "nodesPerReplica": placement.nodes_per_replica,
                "gpuProduct": placement.gpu_product,
                "maxModelLen": placement.max_model_len,
            },
            "scheduling": spec.scheduling.to_wire(),
            "drainTimeoutSeconds": rollout.drain_timeout_seconds,
            "readinessTimeoutSeconds": rollout.readiness_timeout_seconds,
        }
    )


def replica_name(deployment_name: str, template: str, suffix: str) -> str:
    """`<deployment>-<template hash[:5]>-<suffix>`, the deployment's part shortened to keep
    the whole a DNS label of at most 63 characters (dots, allowed in the deployment's
    name, become dashes)."""
    tail = f"-{template[:5]}-{suffix}"
    head = deployment_name.replace(".", "-")[: max(0, MAX_POD_NAME - len(tail))].rstrip("-")
    return f"{head}{tail}"[:MAX_POD_NAME].strip("-")


def placement_summary(placement: Placement) -> str:
    """The pod's annotation, such as "TP 4 x PP 1 on NVIDIA-H100-80GB-HBM3"."""
    return (
        f"TP {placement.tensor_parallel_size} x PP {placement.pipeline_parallel_size} "
        f"on {placement.gpu_product}"
    )


def replica_pod(
    deployment: LlamaDeployment,
    model: ResolvedModel,
    placement: Placement,
    pod_name: str,
    warm_up: bool = False,
) -> dict[str, Any]:
    """One replica: a Pod the LlamaDeployment owns as a ReplicaSet owns its pods. With
    `warm_up` (a rollout's replica) it stays out of the Service until its warm-up
    completion is answered."""
    name, spec = deployment.metadata.name, deployment.spec
    labels = {
        **replica_selector(name),
        LABEL_CHECKPOINT: checkpoint_id(spec),
        LABEL_TEMPLATE_HASH: deployment_template_hash(deployment, placement),
        LABEL_SERVING: "false" if warm_up else "true",
    }
    metadata = _metadata(deployment, pod_name, labels)
    metadata["annotations"] = {ANNOTATION_PLACEMENT: placement_summary(placement)}
    if warm_up:
        metadata["annotations"][ANNOTATION_WARMUP] = "pending"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": pod_spec(name, spec, model, placement),
    }


def service(deployment: LlamaDeployment) -> dict[str, Any]:
    """`<name>` on port 8000, selecting the replicas that serve (draining ones leave it)."""
    name = deployment.metadata.name
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(deployment, name, replica_selector(name)),
        "spec": {
            "type": "ClusterIP",
            "selector": {**replica_selector(name), LABEL_SERVING: "true"},
            "ports": [
                {"name": "http", "port": ENGINE_PORT, "targetPort": ENGINE_PORT, "protocol": "TCP"}
            ],
        },
    }


def disruption_budget(deployment: LlamaDeployment) -> dict[str, Any]:
    """Node drains take at most the rollout's maxUnavailable replicas at a time, and at
    least one: with 0 no node holding a replica could ever be drained. It selects every
    replica, draining or not, as all of them hold requests."""
    name = deployment.metadata.name
    allowed = deployment.spec.rollout.max_unavailable
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _metadata(deployment, name, replica_selector(name)),
        "spec": {
            "selector": {"matchLabels": replica_selector(name)},
            "maxUnavailable": allowed if allowed not in (0, "0%") else 1,
        },
    }


def owner_reference(deployment: LlamaDeployment) -> dict[str, Any]:
    """The controller reference that makes a child the LlamaDeployment's to manage and to
    garbage-collect."""
    uid = (deployment.metadata.model_extra or {}).get("uid")
    if not uid:
        raise ValueError(
            f"LlamaDeployment {deployment.metadata.name} has no metadata.uid; "
            "children are rendered from the stored object"
        )
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "name": deployment.metadata.name,
        "uid": str(uid),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _metadata(deployment: LlamaDeployment, name: str, labels: dict[str, str]) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "name": name,
        "labels": labels,
        "ownerReferences": [owner_reference(deployment)],
    }
    if deployment.metadata.namespace is not None:
        metadata["namespace"] = deployment.metadata.namespace
    return metadata


def _digest(value: Any) -> str:
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:HASH_LENGTH]
