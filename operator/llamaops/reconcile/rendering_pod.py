"""The inside of a replica pod: the `vllm serve` command line, the container and its volumes.

`rendering` adds the metadata (name, labels, owner) and is the module callers import.
Objects are the API's JSON (camelCase dicts), as `kubectl get -o json` shows them.
"""

import math
from dataclasses import dataclass
from typing import Any

from llamaops.api.model_spec import Checkpoint
from llamaops.api.placement import Placement
from llamaops.api.spec import OWNED_ENGINE_FLAGS, LlamaDeploymentSpec
from llamaops.catalog.models import find_model
from llamaops.errors import SpecError
from llamaops.inventory import GPU_RESOURCE, PRODUCT_LABEL, replica_tolerations
from llamaops.model_resolution import ResolvedModel
from llamaops.reconcile.names import CONTAINER_NAME, ENGINE_PORT, replica_selector

SERVE_COMMAND = ("vllm", "serve")
HEALTH_PATH = "/health"
SHM_SIZE = "16Gi"  # NCCL's buffers between tensor-parallel workers live in /dev/shm
MODELS_DIR = "/models"
CHECKPOINT_VOLUME = "checkpoint"
SHM_VOLUME = "dshm"
# vLLM's short spellings of flags in OWNED_ENGINE_FLAGS that the list leaves out.
FLAG_ALIASES = {"-q": "--quantization"}
# SIGTERM starts vLLM's drain of --shutdown-timeout seconds; the kubelet's SIGKILL must come
# later, or unfinished requests hang with no response (reference/vllm.md: margin >= 10 s).
GRACE_MARGIN_SECONDS = 15
STARTUP_PERIOD_SECONDS = 10


@dataclass(frozen=True)
class ModelSource:
    """What `vllm serve` loads, and the volume that brings it into the container."""

    model: str
    args: tuple[str, ...] = ()
    volume: dict[str, Any] | None = None
    mount: dict[str, Any] | None = None


def owned_flag_conflicts(extra_args: list[str]) -> list[str]:
    """The words of `extra_args` that set a flag llamaops sets itself, as the user wrote them.

    vLLM reads `--flag value`, `--flag=value`, underscores for dashes (`--max_model_len`)
    and, as argparse does by default, abbreviations (`--tensor-parallel 8`).
    """
    return [arg for arg in extra_args if _sets_owned_flag(arg)]


def engine_args(
    deployment_name: str, spec: LlamaDeploymentSpec, model: ResolvedModel, placement: Placement
) -> list[str]:
    """The words after `vllm serve`. Raises SpecError when engine.extraArgs sets an owned flag."""
    conflicts = owned_flag_conflicts(spec.engine.extra_args)
    if conflicts:
        raise SpecError(
            "spec.engine.extraArgs",
            f"LlamaDeployment {deployment_name} sets {', '.join(conflicts)} in "
            "engine.extraArgs; llamaops sets these flags itself from the spec: remove them",
        )
    source = model_source(spec.model.checkpoint, model)
    # The model is positional: `vllm serve --model` is deprecated and only warns.
    args = [source.model, *source.args]
    args += ["--served-model-name", spec.model.name]
    args += ["--tensor-parallel-size", str(placement.tensor_parallel_size)]
    if placement.pipeline_parallel_size > 1:
        args += ["--pipeline-parallel-size", str(placement.pipeline_parallel_size)]
    args += ["--max-model-len", str(model.max_model_len)]
    args += ["--gpu-memory-utilization", f"{spec.gpu.memory_utilization:g}"]
    args += precision_args(model)
    args += ["--port", str(ENGINE_PORT)]
    args += ["--shutdown-timeout", str(spec.rollout.drain_timeout_seconds)]
    return args + list(spec.engine.extra_args)


def precision_args(model: ResolvedModel) -> list[str]:
    """`--dtype` for bfloat16/float16. For fp8: a checkpoint already in FP8 (the catalog's
    *-FP8 models) carries its quantization in config.json, and vLLM refuses a
    `--quantization` that differs from it (Meta's are fbgemm_fp8), so nothing is passed;
    otherwise `--quantization fp8` quantizes the bfloat16 weights as they load. `--dtype`
    stays auto with fp8: it sets the activations' type, the model's own."""
    if model.dtype != "fp8":
        return ["--dtype", model.dtype]
    entry = find_model(model.name)
    return [] if entry and entry.native_dtype == "fp8" else ["--quantization", "fp8"]


def model_source(checkpoint: Checkpoint | None, model: ResolvedModel) -> ModelSource:
    """Where the weights come from: a Hugging Face id, an object-store URI or a mounted path."""
    if checkpoint is None:  # a catalog alias is no Hugging Face repository: use its id
        entry = find_model(model.name)
        return ModelSource(entry.hf_id if entry else model.name)
    scheme, _, rest = checkpoint.uri.partition("://")
    if scheme == "hf":
        revision = ("--revision", checkpoint.revision) if checkpoint.revision else ()
        return ModelSource(rest.rstrip("/"), revision)
    if scheme == "pvc":
        claim, _, path = rest.partition("/")
        mounted = f"{MODELS_DIR}/{claim}"
        volume = {"persistentVolumeClaim": {"claimName": claim, "readOnly": True}}
        return ModelSource(_join(mounted, path), volume=volume, mount=_mount(mounted))
    if scheme == "file":
        path = rest.rstrip("/")
        if not path:  # mounted over the container's root, nothing would run
            raise SpecError("spec.model.checkpoint.uri", "file:/// needs a directory: file:///PATH")
        volume = {"hostPath": {"path": path, "type": "Directory"}}
        return ModelSource(path, volume=volume, mount=_mount(path))
    # s3:// and gs://: vLLM sees an object-store URI and loads it with the Run:ai streamer.
    return ModelSource(checkpoint.uri)


def pod_spec(
    deployment_name: str, spec: LlamaDeploymentSpec, model: ResolvedModel, placement: Placement
) -> dict[str, Any]:
    """A replica pod's `spec`: one vLLM container on the chosen GPU product."""
    source = model_source(spec.model.checkpoint, model)
    volumes: list[dict[str, Any]] = [
        {"name": SHM_VOLUME, "emptyDir": {"medium": "Memory", "sizeLimit": SHM_SIZE}}
    ]
    mounts: list[dict[str, Any]] = [{"name": SHM_VOLUME, "mountPath": "/dev/shm"}]
    if source.volume is not None and source.mount is not None:
        volumes.append({"name": CHECKPOINT_VOLUME, **source.volume})
        mounts.append(source.mount)
    container = {
        "name": CONTAINER_NAME,
        "image": spec.engine.image,
        "command": list(SERVE_COMMAND),
        "args": engine_args(deployment_name, spec, model, placement),
        "ports": [{"name": "http", "containerPort": ENGINE_PORT, "protocol": "TCP"}],
        "env": _env(spec),
        "resources": _resources(spec, gpus_per_pod(placement)),
        "volumeMounts": mounts,
        **_probes(spec.rollout.readiness_timeout_seconds),
    }
    return {
        "containers": [container],
        "volumes": volumes,
        "nodeSelector": {**spec.scheduling.node_selector, PRODUCT_LABEL: placement.gpu_product},
        "tolerations": [t.to_wire() for t in replica_tolerations(spec.scheduling.tolerations)],
        "terminationGracePeriodSeconds": grace_period_seconds(spec),
        # A Service named vllm would otherwise inject VLLM_PORT=tcp://..., which vLLM reads
        # as its own setting and fails on; the engine needs no API token either.
        "enableServiceLinks": False,
        "automountServiceAccountToken": False,
        **_scheduling_extras(deployment_name, spec),
    }


def grace_period_seconds(spec: LlamaDeploymentSpec) -> int:
    """How long the kubelet waits between SIGTERM and SIGKILL: vLLM's drain, then a margin."""
    return spec.rollout.drain_timeout_seconds + GRACE_MARGIN_SECONDS


def gpus_per_pod(placement: Placement) -> int:
    """GPUs the one pod of a replica requests: all of them, as a replica spans one node."""
    if placement.nodes_per_replica > 1:
        raise ValueError(
            f"a replica of {placement.gpus_per_replica} GPUs spans "
            f"{placement.nodes_per_replica} nodes; one pod per replica needs one node"
        )
    return placement.gpus_per_replica


def startup_failure_threshold(readiness_timeout_seconds: int) -> int:
    """Startup probe failures allowed: enough periods to cover the readiness timeout."""
    return math.ceil(readiness_timeout_seconds / STARTUP_PERIOD_SECONDS)


def _probes(readiness_timeout_seconds: int) -> dict[str, Any]:
    """/health answers only once the weights are loaded (connection refused before), so the
    startup probe's budget is the rollout's readiness timeout. Liveness is loose, 75 s of
    failures: a tight one kills healthy engines under bursts (reference/vllm.md, ray #54070).
    """
    health = {"path": HEALTH_PATH, "port": ENGINE_PORT}
    return {
        "startupProbe": {
            "httpGet": health,
            "periodSeconds": STARTUP_PERIOD_SECONDS,
            "failureThreshold": startup_failure_threshold(readiness_timeout_seconds),
        },
        "readinessProbe": {"httpGet": health, "periodSeconds": 5, "failureThreshold": 3},
        "livenessProbe": {
            "httpGet": health,
            "periodSeconds": 15,
            "timeoutSeconds": 5,
            "failureThreshold": 5,
        },
    }


def _env(spec: LlamaDeploymentSpec) -> list[dict[str, Any]]:
    """The user's variables over our defaults; the token from its Secret over both."""
    defaults = [{"name": "VLLM_NO_USAGE_STATS", "value": "1"}]
    forced = []
    ref = spec.model.hf_token_secret_ref
    if ref is not None:  # by reference only: the token never appears in the pod
        secret = {"secretKeyRef": {"name": ref.name, "key": ref.key}}
        forced.append({"name": "HF_TOKEN", "valueFrom": secret})
    user = [variable.to_wire() for variable in spec.engine.env]
    user_names = {variable["name"] for variable in user}
    forced_names = {variable["name"] for variable in forced}
    return (
        [d for d in defaults if d["name"] not in user_names]
        + [u for u in user if u["name"] not in forced_names]
        + forced
    )


def _resources(spec: LlamaDeploymentSpec, gpus: int) -> dict[str, dict[str, str]]:
    """The user's requests and limits, with the GPU count always ours."""
    extra = spec.engine.resources
    return {
        part: {**{k: str(v) for k, v in (given or {}).items()}, GPU_RESOURCE: str(gpus)}
        for part, given in (("requests", extra.requests), ("limits", extra.limits))
    }


def _scheduling_extras(deployment_name: str, spec: LlamaDeploymentSpec) -> dict[str, Any]:
    """spec.scheduling's affinity and priority class. Unless the user's affinity says
    otherwise, replicas prefer different nodes (a preferred pod anti-affinity on the node's
    hostname), so that one node lost does not take every replica; preferred, so replicas
    still share a node when no other has room."""
    extras: dict[str, Any] = {}
    affinity = dict(spec.scheduling.affinity or {})
    affinity.setdefault(
        "podAntiAffinity",
        {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": 100,
                    "podAffinityTerm": {
                        "labelSelector": {"matchLabels": replica_selector(deployment_name)},
                        "topologyKey": "kubernetes.io/hostname",
                    },
                }
            ]
        },
    )
    extras["affinity"] = affinity
    if spec.scheduling.priority_class_name is not None:
        extras["priorityClassName"] = spec.scheduling.priority_class_name
    return extras


def _sets_owned_flag(arg: str) -> bool:
    flag = _flag_of(arg)
    if not flag.startswith("-") or flag in ("-", "--"):
        return False
    return any(owned.startswith(flag) for owned in OWNED_ENGINE_FLAGS)


def _flag_of(arg: str) -> str:
    flag = arg.partition("=")[0]
    if flag.startswith("--"):
        flag = "--" + flag[2:].replace("_", "-")
    return FLAG_ALIASES.get(flag, flag)


def _join(directory: str, path: str) -> str:
    path = path.strip("/")
    return f"{directory}/{path}" if path else directory


def _mount(path: str) -> dict[str, Any]:
    return {"name": CHECKPOINT_VOLUME, "mountPath": path, "readOnly": True}
