"""What a plan is made of: typed actions, each with a reason a person can read, plus the
status to report and the events to emit."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from llamaops.api.status import LlamaDeploymentStatus


@dataclass(frozen=True)
class CreatePod:
    manifest: dict[str, Any]
    reason: str


@dataclass(frozen=True)
class StartDrain:
    """Take a replica out of the Service (serving label false) and note when."""

    pod: str
    reason: str


@dataclass(frozen=True)
class DeletePod:
    pod: str
    reason: str


@dataclass(frozen=True)
class WarmUp:
    """Send a rollout replica its warm-up completion; on a 200 with text, put it in the
    Service (serving label true, warm-up passed), else mark its warm-up failed."""

    pod: str
    deployment: str
    ip: str
    model: str  # the served model name
    prompt: str
    max_tokens: int
    reason: str
    created: datetime  # the pod's creation: the rollout step's length is measured from it


@dataclass(frozen=True)
class AnnotatePod:
    """Record something on a replica pod (the canary's baseline or verdict)."""

    pod: str
    annotations: dict[str, str]
    reason: str


@dataclass(frozen=True)
class EnsureObject:
    """Create a child object (the Service, the PodDisruptionBudget), or update it when it
    `exists` and differs from its manifest."""

    manifest: dict[str, Any]
    reason: str
    exists: bool = False


Action = CreatePod | StartDrain | DeletePod | EnsureObject | WarmUp | AnnotatePod


@dataclass(frozen=True)
class EventRecord:
    reason: str  # CamelCase, one of llamaops.reconcile.reasons
    message: str
    type: str = "Normal"  # or "Warning"


@dataclass(frozen=True)
class Plan:
    actions: tuple[Action, ...]
    status: LlamaDeploymentStatus
    events: tuple[EventRecord, ...] = ()
    requeue_after: float | None = None  # seconds until the next look (drains, loads)
    notes: tuple[str, ...] = field(default=())
