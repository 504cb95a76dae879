"""The desired state a user writes: `LlamaDeployment.spec`.

Defaults, bounds and patterns here are the CRD's; the API server applies them, so the
operator and `llamaops plan` see a spec exactly as stored.
"""

from typing import Annotated, Any, Literal

from pydantic import Field

from llamaops.api.base import ApiModel, cel_rule, cel_rules
from llamaops.api.model_spec import (
    ModelSpec,
)
from llamaops.api.rollout_spec import RolloutSpec

# `vllm serve` flags llamaops sets from the spec; engine.extraArgs may not override them.
OWNED_ENGINE_FLAGS = (
    "--model",
    "--served-model-name",
    "--tensor-parallel-size",
    "-tp",
    "--pipeline-parallel-size",
    "-pp",
    "--max-model-len",
    "--gpu-memory-utilization",
    "--dtype",
    "--quantization",
    "--port",
    "--host",
    "--shutdown-timeout",
)
_OWNED_FLAG = "^(" + "|".join(OWNED_ENGINE_FLAGS) + ")(=.*)?$"


class GpuSpec(ApiModel):
    """Which GPUs to use and how to lay the model out on them."""

    product: str | None = Field(
        default=None,
        max_length=128,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        description=(
            "GPU product: a nvidia.com/gpu.product node label value (NVIDIA-H100-80GB-HBM3) or "
            "an alias (H100-80GB). Omit to choose among the products the cluster has: a layout "
            "on one node first, then the fewest GPUs per replica, then room for the most replicas."
        ),
    )
    tensor_parallel_size: int | None = Field(
        default=None,
        ge=1,
        le=64,
        description=(
            "GPUs each pipeline stage splits the model over. Omit for automatic: the smallest "
            "size that divides the attention heads and fits weights and KV cache."
        ),
    )
    pipeline_parallel_size: int | None = Field(
        default=None,
        ge=1,
        le=16,
        description="Pipeline stages. Omit for automatic: 1, or one per node if one is too small.",
    )
    memory_utilization: float = Field(
        default=0.90,
        ge=0.5,
        le=0.98,
        description="Share of each GPU's memory vLLM may use (--gpu-memory-utilization).",
    )
    min_kv_sequences: int = Field(
        default=2,
        ge=1,
        le=4096,
        description=(
            "Full-length sequences (maxModelLen tokens each) the KV cache must hold at once. "
            "The default, 2, keeps one maximal request from stalling all others."
        ),
    )


class AutoscalingSpec(ApiModel):
    """Queue-depth autoscaling. It writes spec.replicas through the scale subresource, as a
    HorizontalPodAutoscaler does: while enabled, a manual `kubectl scale` lasts until the
    next decision. The decision and its math: llamaops/autoscaling/decision.py."""

    model_config = ApiModel.model_config | {
        "json_schema_extra": cel_rules(
            cel_rule(
                "!self.enabled || has(self.maxReplicas)",
                "autoscaling.maxReplicas is required when autoscaling is enabled",
                ".maxReplicas",
            ),
            cel_rule(
                "!has(self.maxReplicas) || self.minReplicas <= self.maxReplicas",
                "autoscaling.minReplicas must be less than or equal to autoscaling.maxReplicas",
                ".minReplicas",
            ),
        )
    }

    enabled: bool = Field(default=False, description="Scale replicas on queue depth.")
    min_replicas: int = Field(
        default=1,
        ge=1,
        le=1000,
        description=(
            "Fewest replicas. At least 1: scaling from zero (holding requests while the "
            "first replica loads) is not supported yet."
        ),
    )
    max_replicas: int | None = Field(
        default=None, ge=1, le=1000, description="Most replicas; required when enabled."
    )
    target_queue_depth: int = Field(
        default=4,
        ge=1,
        le=10000,
        description=(
            "Waiting requests (vllm:num_requests_waiting) per ready replica to aim for. Above "
            "it by more than the tolerance, replicas are added until each runs what it can and "
            "holds this many waiting. Default 4: a short queue keeps every batch full without "
            "adding much time to first token."
        ),
    )
    tolerance: float = Field(
        default=0.1,
        ge=0.0,
        le=0.5,
        description=(
            "Load changes within this share do nothing: a queue up to target × (1 + "
            "tolerance) adds no replica, and a scale-down needs the load to fit fewer "
            "replicas at (1 - tolerance) of what each can run. Default 0.1, HPA's."
        ),
    )
    scale_up_stabilization_seconds: int = Field(
        default=0,
        ge=0,
        le=3600,
        description=(
            "Scale-up follows the lowest recommendation of this window. Default 0, HPA's: "
            "a queue means requests are already late."
        ),
    )
    scale_down_stabilization_seconds: int = Field(
        default=300,
        ge=0,
        le=3600,
        description=(
            "Scale-down happens only when every recommendation of this window is lower. "
            "Default 300, HPA's: a replica that takes minutes to load should outlast a lull."
        ),
    )
    scale_up_limit: int | None = Field(
        default=None,
        ge=1,
        le=1000,
        description=(
            "Most replicas one decision adds. Omit for no limit but maxReplicas and the "
            "replicas the free GPUs can hold."
        ),
    )
    scale_down_limit: int = Field(
        default=1,
        ge=1,
        le=1000,
        description=(
            "Most replicas one decision removes. Default 1: each removed replica drains, and "
            "one per decision lets the queue show whether the rest carry the load."
        ),
    )
    metrics_interval_seconds: int = Field(
        default=5,
        ge=1,
        le=300,
        description=(
            "How often each ready replica's /metrics is read and a decision made. Default 5: "
            "one small GET per replica, three to six times sooner than HPA's 15 s sync or "
            "KEDA's 30 s poll."
        ),
    )


class EnvVar(ApiModel):
    """An environment variable for the engine container."""

    name: str = Field(min_length=1, max_length=256, description="Variable name.")
    value: str | None = Field(default=None, description="Literal value.")
    value_from: dict[str, Any] | None = Field(
        default=None, description="A source for the value, as in a Pod's env[].valueFrom."
    )


class Resources(ApiModel):
    """Extra CPU, memory and other resources for the engine container; GPUs are set by llamaops."""

    requests: dict[str, int | str] | None = Field(
        default=None,
        description="Requested quantities, such as cpu: 8 and memory: 64Gi.",
    )
    limits: dict[str, int | str] | None = Field(
        default=None, description="Limits, such as memory: 128Gi."
    )


class EngineSpec(ApiModel):
    """The vLLM container."""

    model_config = ApiModel.model_config | {
        "json_schema_extra": cel_rules(
            cel_rule(
                f"!has(self.extraArgs) || self.extraArgs.all(arg, !arg.matches('{_OWNED_FLAG}'))",
                "engine.extraArgs may not set flags llamaops sets from the spec: "
                + ", ".join(OWNED_ENGINE_FLAGS),
                ".extraArgs",
            )
        )
    }

    image: str = Field(
        default="vllm/vllm-openai:v0.11.0",
        min_length=1,
        max_length=512,
        description="The vLLM OpenAI-server image.",
    )
    extra_args: list[Annotated[str, Field(min_length=1, max_length=1024)]] = Field(
        default_factory=list,
        max_length=128,
        description="More `vllm serve` arguments. Flags llamaops sets itself are refused.",
    )
    env: list[EnvVar] = Field(
        default_factory=list, max_length=128, description="More environment variables."
    )
    resources: Resources = Field(
        default_factory=Resources, description="More resources for the container."
    )


class Toleration(ApiModel):
    """A toleration, as in a Pod's spec.tolerations."""

    model_config = ApiModel.model_config | {
        "json_schema_extra": cel_rules(
            cel_rule(
                "has(self.key) || self.operator == 'Exists'",
                "a toleration without a key must use operator Exists",
                ".key",
            ),
            cel_rule(
                "self.operator != 'Exists' || !has(self.value) || self.value == ''",
                "a toleration with operator Exists may not have a value",
                ".value",
            ),
            cel_rule(
                "!has(self.tolerationSeconds) || (has(self.effect) && self.effect == 'NoExecute')",
                "tolerationSeconds needs effect NoExecute",
                ".tolerationSeconds",
            ),
        )
    }

    key: str | None = Field(
        default=None, max_length=316, description="Taint key; empty matches all."
    )
    operator: Literal["Exists", "Equal"] = Field(
        default="Equal", description="Exists matches any value; Equal matches value."
    )
    value: str | None = Field(default=None, max_length=63, description="Taint value for Equal.")
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = Field(
        default=None, description="Taint effect to tolerate; empty matches all."
    )
    toleration_seconds: int | None = Field(
        default=None, description="How long a NoExecute taint is tolerated."
    )


class SchedulingSpec(ApiModel):
    """Where replicas may run, merged with the GPU product llamaops chooses."""

    node_selector: dict[str, str] = Field(
        default_factory=dict, description="Node labels replicas require."
    )
    tolerations: list[Toleration] = Field(
        default_factory=list,
        max_length=64,
        description="Taints replicas tolerate; nvidia.com/gpu is always tolerated.",
    )
    affinity: dict[str, Any] | None = Field(
        default=None, description="Pod affinity rules, as in a Pod's spec.affinity."
    )
    priority_class_name: str | None = Field(
        default=None, max_length=253, description="PriorityClass of the replica pods."
    )


class LlamaDeploymentSpec(ApiModel):
    """A Llama model served by vLLM replicas that llamaops sizes, scales and rolls."""

    model: ModelSpec = Field(description="The model to serve.")
    gpu: GpuSpec = Field(default_factory=GpuSpec, description="GPU choice and model layout.")
    replicas: int = Field(
        default=1,
        ge=0,
        le=1000,
        description="Desired replicas; the autoscaler writes it when autoscaling is enabled.",
    )
    autoscaling: AutoscalingSpec = Field(
        default_factory=AutoscalingSpec, description="Queue-depth autoscaling."
    )
    rollout: RolloutSpec = Field(
        default_factory=RolloutSpec, description="How new checkpoints and templates roll out."
    )
    engine: EngineSpec = Field(default_factory=EngineSpec, description="The vLLM container.")
    scheduling: SchedulingSpec = Field(
        default_factory=SchedulingSpec, description="Node selection for replicas."
    )
