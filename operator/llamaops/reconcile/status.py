"""The status a plan reports: counters recomputed from the observed pods, and the
conditions Available, Progressing, Degraded and Scheduled.

- Available: at least the required replicas are ready. Required = spec.replicas minus
  rollout.maxUnavailable (a percentage rounds down, as a Deployment's does), and at least
  1 while spec.replicas > 0.
- Progressing: during a rollout, what the rollout says (RollingOut; or False with
  RolloutBlocked, RolloutPaused, or the reason it halted). Otherwise True while replicas
  are created, load (ReplicasStarting) or drain
  (ScalingDown). False when there is nothing left to do (Complete), when replicas still
  load past rollout.readinessTimeoutSeconds (ProgressDeadlineExceeded), or when nothing
  can move until the cluster or the spec changes (InsufficientGPU, NoFittingGPU,
  MultiNodeUnsupported, InvalidSpec).
- Degraded: True when the spec cannot be acted on (InvalidSpec), a replica crash-loops
  (ReplicaCrashLooping) or failed (ReplicaFailed); False (AsExpected) otherwise.
- Scheduled: decided by the planner (True, Scheduled; or False with why).
The autoscaler's part of status belongs to the autoscaler and is carried over unchanged.
"""

from dataclasses import dataclass

from llamaops.api.model_spec import Checkpoint
from llamaops.api.placement import Placement
from llamaops.api.spec import LlamaDeploymentSpec
from llamaops.api.status import CheckpointStatus, FailedCheckpoint, LlamaDeploymentStatus
from llamaops.errors import SpecError
from llamaops.reconcile import reasons
from llamaops.reconcile.conditions import Facts, settle
from llamaops.reconcile.names import ENGINE_PORT, selector_string
from llamaops.reconcile.observed import Observed, ReplicaPod
from llamaops.reconcile.replicas import ReplicaGroups, counted, loading_past
from llamaops.reconcile.rollout import bounds

# Scheduled=False reasons that hold every replica action back: Progressing says the same.
BLOCKING_REASONS = frozenset(
    {reasons.NO_FITTING_GPU, reasons.MULTI_NODE_UNSUPPORTED, reasons.INVALID_SPEC}
)


@dataclass(frozen=True)
class Progress:
    """What a plan does to the replicas, and what it cannot do yet."""

    created: int = 0
    scaling_down: int = 0  # extras removed now, or draining after this plan
    held_for_drains: int = 0  # missing replicas created once the drains finish
    waiting_for_gpus: int = 0  # wanted replicas without a place (not created, or unscheduled)
    pending_with_room: int = 0  # unscheduled replicas the free GPUs hold


@dataclass(frozen=True)
class StatusInputs:
    """Everything the status is computed from."""

    observed: Observed
    groups: ReplicaGroups
    scheduled: Facts
    progress: Progress
    placement: Placement | None = None
    template: str | None = None  # the pod template hash of the spec and placement
    checkpoint: str | None = None  # the checkpoint the spec asks for
    spec_error: SpecError | None = None
    rollout: Facts | None = None  # Progressing while a rollout runs, halts or is blocked
    failed_checkpoint: FailedCheckpoint | None = None  # status.checkpoint.failed to write
    settled: bool = False  # every current replica runs the spec's template


def build_status(inputs: StatusInputs) -> LlamaDeploymentStatus:
    deployment = inputs.observed.deployment
    previous = deployment.status or LlamaDeploymentStatus()
    generation = deployment.metadata.generation
    facts = (
        available_facts(inputs),
        progressing_facts(inputs),
        degraded_facts(inputs),
        inputs.scheduled,
    )
    name = deployment.metadata.name
    namespace = deployment.metadata.namespace or "default"
    return LlamaDeploymentStatus(
        observed_generation=generation,
        conditions=settle(facts, previous.conditions, inputs.observed.now, generation),
        placement=inputs.placement,
        replicas=len(inputs.groups.existing),
        ready_replicas=len(inputs.groups.ready),
        updated_replicas=sum(1 for pod in inputs.groups.existing if _updated(inputs, pod)),
        desired_replicas=deployment.spec.replicas,
        selector=selector_string(name),
        checkpoint=_checkpoint(inputs),
        autoscaler=previous.autoscaler,
        endpoint=f"http://{name}.{namespace}.svc:{ENGINE_PORT}",
    )


def required_ready(spec: LlamaDeploymentSpec) -> int:
    """Ready replicas needed for Available."""
    if spec.replicas == 0:
        return 0
    rollout_bounds = bounds(spec.rollout.max_surge, spec.rollout.max_unavailable, spec.replicas)
    return max(1, spec.replicas - rollout_bounds.unavailable)


def available_facts(inputs: StatusInputs) -> Facts:
    spec = inputs.observed.deployment.spec
    ready, required = len(inputs.groups.ready), required_ready(spec)
    message = f"{ready_of(ready, spec.replicas)} (at least {required} required)"
    if ready >= required:
        return Facts(reasons.AVAILABLE, True, reasons.REPLICAS_READY, message)
    return Facts(reasons.AVAILABLE, False, reasons.REPLICAS_NOT_READY, message)


def progressing_facts(inputs: StatusInputs) -> Facts:
    scheduled, progress, groups = inputs.scheduled, inputs.progress, inputs.groups
    spec = inputs.observed.deployment.spec
    wanted, ready = spec.replicas, len(groups.ready)
    if scheduled.reason in BLOCKING_REASONS:
        return Facts(reasons.PROGRESSING, False, scheduled.reason, scheduled.message)
    if inputs.rollout is not None:
        return inputs.rollout
    if progress.scaling_down:
        message = f"Removing {counted(progress.scaling_down, 'replica')} to reach {wanted}"
        if progress.held_for_drains:
            message += f"; {progress.held_for_drains} to create once the drains finish"
        return Facts(reasons.PROGRESSING, True, reasons.SCALING_DOWN, message)
    timeout = spec.rollout.readiness_timeout_seconds
    late = [pod for pod in groups.loading if loading_past(pod, inputs.observed.now, timeout)]
    if late and not progress.created and len(late) == len(groups.loading):
        message = (
            f"{_names(late)} not ready {timeout} s after creation (rollout.readinessTimeoutSeconds)"
        )
        return Facts(reasons.PROGRESSING, False, reasons.PROGRESS_DEADLINE_EXCEEDED, message)
    if progress.created or groups.loading or progress.pending_with_room:
        return Facts(reasons.PROGRESSING, True, reasons.REPLICAS_STARTING, _starting(inputs))
    if progress.waiting_for_gpus:
        return Facts(reasons.PROGRESSING, False, reasons.INSUFFICIENT_GPU, scheduled.message)
    message = ready_of(ready, wanted)
    updated = sum(1 for pod in groups.current if _updated(inputs, pod))
    if updated != len(groups.current):
        message += f"; {updated} on the current pod template and checkpoint"
    return Facts(reasons.PROGRESSING, False, reasons.COMPLETE, message)


def degraded_facts(inputs: StatusInputs) -> Facts:
    error, groups = inputs.spec_error, inputs.groups
    if error is not None:
        message = (
            f"The spec cannot be acted on ({error.field}: {error.message}); "
            f"the {counted(len(groups.existing), 'replica')} that exist are left as they are"
        )
        return Facts(reasons.DEGRADED, True, reasons.INVALID_SPEC, message)
    unstartable = [pod for pod in groups.current if pod.config_error]
    if unstartable:
        message = "; ".join(_config_error(inputs, p) for p in unstartable)
        return Facts(reasons.DEGRADED, True, reasons.REPLICA_CONFIG_ERROR, message)
    looping = [pod for pod in groups.current + groups.draining if pod.crash_looping]
    if looping:
        message = "; ".join(f"Pod {p.name} crash-loops ({p.restarts} restarts)" for p in looping)
        return Facts(reasons.DEGRADED, True, reasons.REPLICA_CRASH_LOOPING, message)
    if groups.failed:
        message = "; ".join(f"Pod {p.name} failed{_on(p)}" for p in groups.failed)
        return Facts(reasons.DEGRADED, True, reasons.REPLICA_FAILED, message)
    return Facts(reasons.DEGRADED, False, reasons.AS_EXPECTED, "No replica is failing")


def _config_error(inputs: StatusInputs, pod: ReplicaPod) -> str:
    """`Pod x cannot start: secret "hf-token" not found`, and which field names it."""
    message = f"Pod {pod.name} cannot start: {pod.config_error}"
    ref = inputs.observed.deployment.spec.model.hf_token_secret_ref
    if ref is not None and f'"{ref.name}"' in (pod.config_error or ""):
        message += f" (spec.model.hfTokenSecretRef names Secret {ref.name}, key {ref.key})"
    elif ref is not None and f"/{ref.name}" in (pod.config_error or ""):
        message += f" (spec.model.hfTokenSecretRef names key {ref.key} of Secret {ref.name})"
    return message


def _starting(inputs: StatusInputs) -> str:
    groups, progress = inputs.groups, inputs.progress
    wanted = inputs.observed.deployment.spec.replicas
    parts = [ready_of(len(groups.ready), wanted)]
    if progress.created:
        parts.append(f"{progress.created} created")
    if groups.loading:
        parts.append(f"{len(groups.loading)} loading")
    if progress.pending_with_room:
        parts.append(f"{progress.pending_with_room} waiting for a node")
    if progress.waiting_for_gpus:
        parts.append(f"{progress.waiting_for_gpus} waiting for GPUs")
    return ", ".join(parts)


def _checkpoint(inputs: StatusInputs) -> CheckpointStatus:
    """`current`: the checkpoint every ready replica serves (none while none is ready, or
    while they differ); `target`: the spec's, until it is current; `rolledOut` and
    `previous`: the spec's checkpoint when every replica last ran the spec, and the one
    before (history, kept in status, that no pod label can tell)."""
    served = {pod.checkpoint for pod in inputs.groups.ready}
    current = served.pop() if len(served) == 1 else None
    target = inputs.checkpoint if inputs.checkpoint != current else None
    before = inputs.observed.deployment.status
    known = before.checkpoint if before and before.checkpoint else CheckpointStatus()
    rolled_out, previous = known.rolled_out, known.previous
    spec = inputs.observed.deployment.spec.model.checkpoint
    if inputs.settled and spec != rolled_out:  # a rollout just completed: remember the last
        rolled_out, previous = spec, rolled_out
    if inputs.failed_checkpoint is not None:
        summary = f"{_short(spec)} failed, {_short(rolled_out)}"
    elif inputs.settled:
        summary = _short(spec)
    else:
        summary = f"{_short(rolled_out)} -> {_short(spec)}"
    return CheckpointStatus(
        current=current,
        target=target,
        failed=inputs.failed_checkpoint,
        summary=summary,
        rolled_out=rolled_out,
        previous=previous,
    )


def _short(checkpoint: Checkpoint | None) -> str:
    """A checkpoint in a word: its revision, else the last part of its URI."""
    if checkpoint is None:
        return "default"
    return checkpoint.revision or checkpoint.uri.rstrip("/").rsplit("/", 1)[-1]


def _updated(inputs: StatusInputs, pod: ReplicaPod) -> bool:
    return (
        inputs.template is not None
        and pod.template_hash == inputs.template
        and pod.checkpoint == inputs.checkpoint
    )


def ready_of(ready: int, wanted: int) -> str:
    """Such as "1 of 2 replicas ready"; on a scale-down "3 replicas ready, 1 wanted"."""
    if ready > wanted:
        return f"{counted(ready, 'replica')} ready, {wanted} wanted"
    return f"{ready} of {counted(wanted, 'replica')} ready"


def _names(pods: list[ReplicaPod]) -> str:
    return ("Pod " if len(pods) == 1 else "Pods ") + ", ".join(pod.name for pod in pods)


def _on(pod: ReplicaPod) -> str:
    return f" on node {pod.node}" if pod.node else ""
