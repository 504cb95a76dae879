"""The planner: what one reconcile of a LlamaDeployment does, decided from what it observed.

Pure: no API calls, no clock but `observed.now`. The step math is recomputed from the
observed pods every time; nothing is counted in status (a restarted operator, or a second
reconcile of the same world, decides the same).

    wanted    = spec.replicas
    current   = pods not terminating, not failed, not draining: they count toward wanted
    draining  = pods whose drain started, or ready yet out of the Service (serving=false)
    failed    = pods in phase Failed, or on a node that is gone or NotReady

    1. spec     resolve the model, refuse operator-owned flags in engine.extraArgs.
                SpecError -> no action at all; Scheduled=False InvalidSpec, Degraded=True.
    2. place    choose the GPU layout on the free GPUs. NoFittingGPU or
                MultiNodeUnsupported -> no pod action (existing pods are left alone).
    3. failed   delete (ReplicaFailed); step 5 replaces them in the same plan (their GPUs
                are already free in the inventory).
    4. drains   delete a draining pod once drained (0 requests in flight, or not ready with
                no metrics to read) or at rollout.drainTimeoutSeconds (DrainTimedOut).
    5. up       while current < wanted, and only when no drain is left in progress:
                  room     = replicas_available - unscheduled current pods
                             (pods waiting for a node take the free GPUs first)
                  create   = min(wanted - current, room)
                  waiting  = wanted - current + unscheduled - replicas_available
                             (wanted - current counts 0 while creations wait for drains)
                  waiting > 0 -> Scheduled=False InsufficientGPU, with the numbers.
                Unscheduled pods are kept, never deleted and recreated (no churn).
    6. down     while current > wanted: extras = the least loaded current - wanted
                (replicas.drain_order). An unscheduled extra is deleted at once; the others
                start draining. A ready extra waits while a remaining replica still loads
                (one wave at a time); 5 and 6 never both act, as they need current < wanted
                and current > wanted.
    5-6 roll    instead of 5 and 6, while some current replica runs another pod template
                than the spec renders (or the spec's template failed): the rollout's step,
                halt or roll back (planner_rollout.py, with rollout.py's math).
    7. objects  the Service and the PodDisruptionBudget are ensured (in every case but 1).
    8. report   status (status.py), an event per action, events for condition transitions
                (conditions.py); look again in 5 s while drains run, 10 s while replicas
                load, 30 s while replicas wait for GPUs.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field

from llamaops.api.resource import LlamaDeployment
from llamaops.api.status import FailedCheckpoint
from llamaops.errors import SpecError
from llamaops.model_resolution import ResolvedModel, resolve_model
from llamaops.reconcile import reasons
from llamaops.reconcile.conditions import Facts, transition_events
from llamaops.reconcile.drift import drifted
from llamaops.reconcile.observed import Observed, ReplicaPod
from llamaops.reconcile.plan_types import (
    Action,
    CreatePod,
    DeletePod,
    EnsureObject,
    EventRecord,
    Plan,
    StartDrain,
)
from llamaops.reconcile.planner_rollout import Rollouts
from llamaops.reconcile.rendering import (
    checkpoint_id,
    deployment_template_hash,
    disruption_budget,
    owned_flag_conflicts,
    replica_pod,
    service,
)
from llamaops.reconcile.replicas import (
    ReplicaGroups,
    counted,
    drain_candidates,
    drain_finished,
    drain_outcome,
    group_replicas,
    in_flight,
    stalled,
)
from llamaops.reconcile.scheduling import (
    Scheduling,
    insufficient_gpu_message,
    layout,
    schedule,
)
from llamaops.reconcile.status import Progress, StatusInputs, build_status
from llamaops.reconcile.suffixes import suffixes_at, unused_name

DRAIN_POLL_SECONDS = 5.0  # in-flight counts change without any event to wake us
LOAD_POLL_SECONDS = 10.0
GPU_POLL_SECONDS = 30.0  # freed GPUs and new nodes wake no reconcile of this deployment


def plan(observed: Observed, suffixes: Iterator[str] | None = None) -> Plan:
    """The actions, status and events for this observation. `suffixes` names new pods
    (default: derived from observed.now, so that the same world gives the same names)."""
    groups = group_replicas(observed.pods)
    try:
        model = checked_model(observed.deployment)
    except SpecError as error:
        return _invalid_spec_plan(observed, groups, error)
    spec = observed.deployment.spec
    missing = max(0, spec.replicas - len(groups.current))
    scheduling = schedule(observed, model, missing + len(groups.unscheduled))
    draft = _Draft(observed, groups, model, scheduling)
    draft.ensure_objects()
    if scheduling.blocker is None:
        namer = suffixes if suffixes is not None else suffixes_at(observed.now)
        draft.remove_failed()
        draft.finish_drains()
        rollouts = Rollouts(draft)
        if rollouts.rolling():
            rollouts.roll(namer)
        else:
            draft.scale_up(namer)
            draft.scale_down()
    return draft.plan()


def checked_model(deployment: LlamaDeployment) -> ResolvedModel:
    """The model to size, or the SpecError that says which field is wrong and why."""
    model = resolve_model(deployment.spec.model)
    conflicts = owned_flag_conflicts(deployment.spec.engine.extra_args)
    if conflicts:
        them = "it" if len(conflicts) == 1 else "them"
        raise SpecError(
            "spec.engine.extraArgs",
            f"{', '.join(conflicts)}: llamaops sets {them} from the spec; remove {them}",
        )
    return model


def _invalid_spec_plan(observed: Observed, groups: ReplicaGroups, error: SpecError) -> Plan:
    message = f"{error.field}: {error.message}"
    scheduled = Facts(reasons.SCHEDULED, False, reasons.INVALID_SPEC, message)
    status = build_status(StatusInputs(observed, groups, scheduled, Progress(), spec_error=error))
    previous = observed.deployment.status.conditions if observed.deployment.status else []
    return Plan(actions=(), status=status, events=transition_events(previous, status.conditions))


@dataclass
class _Draft:
    """A plan being put together, step by step (see the module's step math)."""

    observed: Observed
    groups: ReplicaGroups
    model: ResolvedModel
    scheduling: Scheduling
    actions: list[Action] = field(default_factory=list)
    events: list[EventRecord] = field(default_factory=list)
    draining_left: int = 0
    created: int = 0
    held_for_drains: int = 0
    removed_extras: int = 0  # unscheduled extras, deleted at once
    waiting_for_gpus: int = 0
    pending_with_room: int = 0
    insufficient: str | None = None
    progressing: Facts | None = None
    failed_checkpoint: FailedCheckpoint | None = None
    analysis_note: str | None = None  # the canary's analysis, while it runs

    @property
    def deployment(self) -> LlamaDeployment:
        return self.observed.deployment

    def add(self, action: Action, reason: str, message: str) -> None:
        self.actions.append(action)
        self.events.append(EventRecord(reason, message, reasons.event_type(reason)))

    def ensure_objects(self) -> None:
        objects = (
            (service(self.deployment), self.observed.service),
            (disruption_budget(self.deployment), self.observed.disruption_budget),
        )
        for manifest, existing in objects:
            shown = f"{manifest['kind']} {manifest['metadata']['name']}"
            if existing is None:
                self.actions.append(EnsureObject(manifest, f"{shown} is missing"))
                self.events.append(EventRecord(reasons.CREATED, f"Created {shown}"))
            elif drifted(manifest, existing):
                reason = f"{shown} differs from what the spec renders"
                self.actions.append(EnsureObject(manifest, reason, exists=True))

    def remove_failed(self) -> None:
        for pod in self.groups.failed:
            where = f" on node {pod.node}" if pod.node else ""
            self.add(
                DeletePod(pod.name, f"Pod {pod.name} failed{where}"),
                reasons.REPLICA_FAILED,
                f"Deleted Pod {pod.name}: it failed{where}",
            )

    def finish_drains(self) -> None:
        timeout = self.deployment.spec.rollout.drain_timeout_seconds
        for pod in self.groups.draining:
            finished = drain_finished(pod, self.observed.now, timeout)
            if finished is not None:
                self._delete_drained(pod, finished, timeout)
                continue
            self.draining_left += 1
            if pod.drain_started is None or pod.serving:  # the drain's patch did not land
                self.add(
                    StartDrain(pod.name, f"Pod {pod.name} drains but is not marked so"),
                    reasons.DRAIN_STARTED,
                    f"Started draining Pod {pod.name} again: its drain was not recorded",
                )

    def scale_up(self, suffixes: Iterator[str]) -> None:
        wanted, current = self.deployment.spec.replicas, len(self.groups.current)
        unscheduled = len(self.groups.unscheduled)
        available = self.scheduling.replicas_available
        self.pending_with_room = min(unscheduled, available)
        missing = max(0, wanted - current)
        if self.draining_left:  # one wave at a time: creations wait for the drains
            self.held_for_drains = missing
            missing = 0
        room = max(0, available - unscheduled)
        for _ in range(min(missing, room)):
            self.create(self.fresh_name(suffixes), wanted)
        self.waiting_for_gpus = max(0, missing + unscheduled - available)
        if self.waiting_for_gpus:
            self.insufficient = insufficient_gpu_message(
                self.scheduling, missing + unscheduled, self.created, self.waiting_for_gpus
            )

    def scale_down(self) -> None:
        wanted = self.deployment.spec.replicas
        extras = drain_candidates(self.groups.current, len(self.groups.current) - wanted)
        staying = [pod for pod in self.groups.current if pod not in extras]
        timeout = self.deployment.spec.rollout.readiness_timeout_seconds
        loading = [
            pod
            for pod in staying
            if pod.scheduled and not pod.ready and not stalled(pod, self.observed.now, timeout)
        ]
        for pod in extras:
            if not pod.scheduled:
                self.removed_extras += 1
                self.add(
                    DeletePod(pod.name, f"Scaled down to {wanted}; never scheduled"),
                    reasons.DELETED,
                    f"Deleted Pod {pod.name}: never scheduled, and not needed at "
                    f"{counted(wanted, 'replica')}",
                )
            elif pod.ready and loading:
                continue  # its turn comes once the replicas that stay are ready
            else:
                self.draining_left += 1
                load = in_flight(pod)
                self.add(
                    StartDrain(pod.name, f"Scaled down to {wanted}; least loaded ({load})"),
                    reasons.DRAIN_STARTED,
                    f"Started draining Pod {pod.name} ({load} in flight): "
                    f"scaled down to {counted(wanted, 'replica')}",
                )

    def plan(self) -> Plan:
        spec = self.deployment.spec
        placement = self.scheduling.placement
        inputs = StatusInputs(
            observed=self.observed,
            groups=self.groups,
            scheduled=self._scheduled_facts(),
            progress=Progress(
                created=self.created,
                scaling_down=self.draining_left + self.removed_extras,
                held_for_drains=self.held_for_drains,
                waiting_for_gpus=self.waiting_for_gpus,
                pending_with_room=self.pending_with_room,
            ),
            placement=placement,
            template=deployment_template_hash(self.deployment, placement) if placement else None,
            checkpoint=checkpoint_id(spec),
            rollout=self.progressing,
            failed_checkpoint=self.failed_checkpoint,
            settled=placement is not None and Rollouts(self).settled(),
        )
        status = build_status(inputs)
        previous = self.deployment.status.conditions if self.deployment.status else []
        return Plan(
            actions=tuple(self.actions),
            status=status,
            events=(*self.events, *transition_events(previous, status.conditions)),
            requeue_after=self._requeue_after(),
            notes=self._notes(),
        )

    # --- the parts ----------------------------------------------------------------------

    def create(
        self, name: str, wanted: int, warm_up: bool = False, of: LlamaDeployment | None = None
    ) -> None:
        """A replica as the spec renders it (or as `of`, the spec rolled back, does)."""
        placement = self.scheduling.placement
        assert placement is not None  # scale_up runs only with a placement that can run
        deployment = of if of is not None else self.deployment
        manifest = replica_pod(deployment, self.model, placement, name, warm_up)
        self.created += 1
        self.add(
            CreatePod(manifest, f"{len(self.groups.current) + self.created} of {wanted} replicas"),
            reasons.CREATED,
            f"Created Pod {name} ({layout(placement)})",
        )

    def fresh_name(self, suffixes: Iterator[str], template: str | None = None) -> str:
        if template is None:
            placement = self.scheduling.placement
            assert placement is not None
            template = deployment_template_hash(self.deployment, placement)
        created = [a.manifest["metadata"]["name"] for a in self.actions if isinstance(a, CreatePod)]
        taken = {pod.name for pod in self.observed.pods}.union(created)
        return unused_name(suffixes, self.deployment.metadata.name, template, taken)

    def _delete_drained(self, pod: ReplicaPod, finished: str, timeout: int) -> None:
        why = drain_outcome(pod, finished, self.observed.now, timeout)
        self.add(DeletePod(pod.name, why), finished, f"Deleted Pod {pod.name}: {why}")

    def _scheduled_facts(self) -> Facts:
        blocker, message = self.scheduling.blocker, self.scheduling.message
        if blocker is not None:
            return Facts(reasons.SCHEDULED, False, blocker, message)
        if self.insufficient is not None:
            return Facts(reasons.SCHEDULED, False, reasons.INSUFFICIENT_GPU, self.insufficient)
        return Facts(reasons.SCHEDULED, True, reasons.SCHEDULED_OK, message)

    def _requeue_after(self) -> float | None:
        if self.draining_left or self.analysis_note:
            return DRAIN_POLL_SECONDS
        if self.created or self.groups.loading:
            return LOAD_POLL_SECONDS
        if self.waiting_for_gpus or self.groups.unscheduled:
            return GPU_POLL_SECONDS
        return None

    def _notes(self) -> tuple[str, ...]:
        ref = self.deployment.spec.model.hf_token_secret_ref
        if ref is not None and self.observed.hf_secret_found is False:
            return (f"Secret {ref.name} (spec.model.hfTokenSecretRef) was not found",)
        return ()
