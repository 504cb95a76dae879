"""What a reconcile observes: a frozen snapshot of the deployment and its world."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from llamaops.api.resource import LlamaDeployment
from llamaops.autoscaling.decision import Reading
from llamaops.inventory import Inventory
from llamaops.reconcile.engine_stats import EngineStats


@dataclass(frozen=True)
class ReplicaPod:
    """One replica pod, as the planner needs it."""

    name: str
    uid: str
    created: datetime
    template_hash: str
    checkpoint: str
    serving: bool  # the serving label is "true"
    ready: bool  # the Ready condition is True
    terminating: bool  # deletionTimestamp is set
    failed: bool  # phase Failed, or its node is gone / NotReady (the pod is lost)
    scheduled: bool  # bound to a node
    node: str | None = None
    unschedulable_message: str | None = None  # PodScheduled=False message, when pending
    crash_looping: bool = False  # a container waits in CrashLoopBackOff
    # A container waits in CreateContainerConfigError: the kubelet's message (a Secret or
    # key it references is missing).
    config_error: str | None = None
    restarts: int = 0
    drain_started: datetime | None = None  # when its drain began (annotation)
    warmup: str | None = None  # a rollout replica's warm-up: pending, passed, failed: why
    ip: str | None = None  # status.podIP
    serving_since: datetime | None = None  # a rollout replica: when its warm-up passed
    canary: str | None = None  # the canary's analysis: "passed", or "failed: why"
    canary_baseline: str | None = None  # both sides' counts when its analysis began
    stats: EngineStats | None = None  # its request counts, from its /metrics
    in_flight: int | None = None  # running + waiting requests, from its /metrics
    reading: Reading | None = None  # its vLLM gauges; None when /metrics was not read


@dataclass(frozen=True)
class Observed:
    """The deployment (spec, metadata and current status) and what exists around it."""

    deployment: LlamaDeployment
    pods: tuple[ReplicaPod, ...]
    inventory: Inventory
    now: datetime
    service: dict[str, Any] | None = None
    disruption_budget: dict[str, Any] | None = None
    hf_secret_found: bool | None = None  # None when no secret is referenced
    extra: dict[str, Any] = field(default_factory=dict)
