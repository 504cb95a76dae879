"""What llamaops observed and decided: `LlamaDeployment.status`.

Counters are recomputed from the world on every reconcile, never incremented.
"""

from typing import Literal

from pydantic import Field

from llamaops.api.base import ApiModel
from llamaops.api.model_spec import Checkpoint
from llamaops.api.placement import Placement

CAMEL_CASE_REASON = r"^[A-Z]([A-Za-z0-9]*)?$"


class Condition(ApiModel):
    """One aspect of the deployment's state, after the Kubernetes API conventions."""

    type: str = Field(
        pattern=r"^[A-Z][A-Za-z0-9]*$",
        max_length=316,
        description="Available, Progressing, Degraded or Scheduled.",
    )
    status: Literal["True", "False", "Unknown"] = Field(description="True, False or Unknown.")
    reason: str = Field(
        pattern=CAMEL_CASE_REASON, max_length=1024, description="Why, in one CamelCase word."
    )
    message: str = Field(default="", max_length=32768, description="Why, for a person.")
    last_transition_time: str = Field(
        description="When status last changed.", json_schema_extra={"format": "date-time"}
    )
    observed_generation: int | None = Field(
        default=None, ge=0, description="The metadata.generation this condition describes."
    )


class FailedCheckpoint(ApiModel):
    """A checkpoint (with the pod template it came in) that failed to roll out."""

    uri: str | None = Field(default=None, description="spec.model.checkpoint.uri, if set.")
    revision: str | None = Field(
        default=None, description="spec.model.checkpoint.revision, if set."
    )
    template_hash: str = Field(description="The pod template hash that failed.")
    reason: str = Field(description="Why, in CamelCase (such as WarmupFailed).")
    message: str = Field(description="Why, with the pod and the numbers.")
    time: str = Field(description="When it failed.", json_schema_extra={"format": "date-time"})


class CheckpointStatus(ApiModel):
    """Which checkpoint the replicas serve."""

    current: str | None = Field(
        default=None, description="The checkpoint all ready replicas serve."
    )
    target: str | None = Field(default=None, description="The checkpoint being rolled out.")
    failed: FailedCheckpoint | None = Field(
        default=None,
        description=(
            "A checkpoint that failed to roll out; not retried until the spec changes, and "
            "cleared once every replica runs the spec's template again."
        ),
    )
    summary: str | None = Field(
        default=None,
        description=(
            "The checkpoint in a word, for `kubectl get`: its revision (or the last part of "
            "its URI); 'a1 -> b2' while rolling; 'b2 failed, a1' when a rollout halted."
        ),
    )
    rolled_out: Checkpoint | None = Field(
        default=None,
        description="spec.model.checkpoint as it was when every replica last ran the spec.",
    )
    previous: Checkpoint | None = Field(
        default=None,
        description=(
            "The checkpoint rolled out before `rolledOut`: the last good one, where "
            "`llamaops rollout undo` returns the spec."
        ),
    )


class Recommendation(ApiModel):
    """A point of the recommendation window: the recommendation from `time` until the next."""

    time: str = Field(description="When it began.", json_schema_extra={"format": "date-time"})
    replicas: int = Field(ge=0, description="Replicas it recommended.")


class AutoscalerStatus(ApiModel):
    """The autoscaler's last reading and decision, and its window, so that a restarted
    operator continues where it stopped (no early scale-down, no second scale-up)."""

    queue_depth: int | None = Field(
        default=None, ge=0, description="Waiting requests summed over the ready replicas."
    )
    queue_per_replica: float | None = Field(
        default=None, ge=0, description="Waiting requests per ready replica."
    )
    running_requests: int | None = Field(
        default=None, ge=0, description="Running requests summed over the ready replicas."
    )
    kv_cache_usage: float | None = Field(
        default=None, ge=0, le=1, description="Mean KV-cache usage of the ready replicas, 0 to 1."
    )
    desired_replicas: int | None = Field(
        default=None, ge=0, description="Replicas the last decision asked for."
    )
    reason: str | None = Field(
        default=None, max_length=4096, description="Why, in one line with the numbers."
    )
    capped_by: Literal["maxReplicas", "gpus"] | None = Field(
        default=None,
        description="What held the last decision below what the load asked for, if anything.",
    )
    last_scale_time: str | None = Field(
        default=None,
        description="When it last changed spec.replicas.",
        json_schema_extra={"format": "date-time"},
    )
    recommendations: list[Recommendation] = Field(
        default_factory=list,
        max_length=4000,
        description=(
            "The recommendation window, run-length coded: each point holds until the next. "
            "It reaches back the longest stabilization window."
        ),
    )


class LlamaDeploymentStatus(ApiModel):
    """The observed state of a LlamaDeployment."""

    observed_generation: int | None = Field(
        default=None, ge=0, description="The metadata.generation last acted on."
    )
    conditions: list[Condition] = Field(
        default_factory=list,
        max_length=16,
        description="Available, Progressing, Degraded and Scheduled.",
        json_schema_extra={
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["type"],
        },
    )
    placement: Placement | None = Field(default=None, description="The layout of each replica.")
    replicas: int | None = Field(default=None, ge=0, description="Replica pods that exist.")
    ready_replicas: int | None = Field(default=None, ge=0, description="Replicas ready to serve.")
    updated_replicas: int | None = Field(
        default=None, ge=0, description="Replicas on the current pod template and checkpoint."
    )
    desired_replicas: int | None = Field(
        default=None, ge=0, description="Replicas wanted (spec.replicas)."
    )
    selector: str | None = Field(
        default=None, description="Label selector of the replica pods (for the scale subresource)."
    )
    checkpoint: CheckpointStatus | None = Field(default=None, description="Checkpoint progress.")
    autoscaler: AutoscalerStatus | None = Field(default=None, description="Autoscaler state.")
    endpoint: str | None = Field(
        default=None, description="URL of the Service that serves the OpenAI API."
    )
