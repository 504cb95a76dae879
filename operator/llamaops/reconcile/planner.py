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
    7. objects  the Service and the PodDisruptionBudget are ensured (in every case but 1).
    8. report   status (status.py), an event per action, events for condition transitions
                (conditions.py); look again in 5 s while drains run, 10 s while replicas
                load, 30 s while replicas wait for GPUs.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC

from llamaops.api.resource import LlamaDeployment
from llamaops.api.spec import CanarySpec
from llamaops.api.status import FailedCheckpoint
from llamaops.errors import SpecError
from llamaops.model_resolution import ResolvedModel, resolve_model
from llamaops.reconcile import canary, names, reasons, rollout
from llamaops.reconcile.conditions import Facts, transition_events
from llamaops.reconcile.engine_stats import EngineStats
from llamaops.reconcile.observed import Observed, ReplicaPod
from llamaops.reconcile.plan_types import (
    Action,
    AnnotatePod,
    CreatePod,
    DeletePod,
    EnsureObject,
    EventRecord,
    Plan,
    StartDrain,
    WarmUp,
)
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
        if draft.rolling():
            draft.roll(namer)
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
            self.actions.append(EnsureObject(manifest, f"{shown} as the spec renders it"))
            if existing is None:
                self.events.append(EventRecord(reasons.CREATED, f"Created {shown}"))

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
            self._create(self._fresh_name(suffixes), wanted)
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

    def rolling(self) -> bool:
        """Some current replica runs another pod template than the spec renders, or the
        spec's template already failed (its rollout stays halted)."""
        target = self._target()
        self.failed_checkpoint = self._failed_before(target)
        if self.failed_checkpoint is not None:
            return True
        return any(pod.template_hash != target for pod in self.groups.current)

    def settled(self) -> bool:
        """Every current replica runs the spec's template, and it has not failed."""
        target = self._target()
        current = self.groups.current
        return self.failed_checkpoint is None and all(p.template_hash == target for p in current)

    def roll(self, suffixes: Iterator[str]) -> None:
        """One step of the rollout (rollout.py's math), or its halt, or its roll back."""
        target = self._target()
        new = tuple(p for p in self.groups.current if p.template_hash == target)
        old = tuple(p for p in self.groups.current if p.template_hash != target)
        if self.failed_checkpoint is not None:
            self._halted(new, old, suffixes)
            return
        analysing, regressed = self._analyse(new, old)
        if regressed is not None:
            self._fail(rollout.Step(failed=regressed, remove=new, new=len(new)), target)
            return
        step = self._step_toward(self.deployment, target, suffixes, analysing)
        if step.failed is not None:
            self._fail(step, target)

    def _step_toward(
        self,
        deployment: LlamaDeployment,
        target: str,
        suffixes: Iterator[str],
        analysing: bool = False,
        deleted: frozenset[str] = frozenset(),
    ) -> rollout.Step:
        """Create and drain toward the pods `deployment` renders (template `target`);
        pods `deleted` by this plan already are left out."""
        spec = deployment.spec
        current = [p for p in self.groups.current if p.name not in deleted]
        new = tuple(p for p in current if p.template_hash == target)
        old = tuple(p for p in current if p.template_hash != target)
        available = self.scheduling.replicas_available
        world = rollout.World(
            wanted=spec.replicas,
            bounds=rollout.bounds(
                spec.rollout.max_surge, spec.rollout.max_unavailable, spec.replicas
            ),
            old=old,
            new=new,
            leaving=len(self.groups.draining),
            room=max(0, available - len(self.groups.unscheduled)),
            readiness_timeout=spec.rollout.readiness_timeout_seconds,
            paused=spec.rollout.paused,
            analysing=analysing,
        )
        step = rollout.step(world, self.observed.now)
        if step.failed is not None:
            return step
        for pod in step.drain:
            self.draining_left += 1
            load = in_flight(pod)
            self.add(
                StartDrain(pod.name, f"Replaced by the rollout; least loaded ({load})"),
                reasons.DRAIN_STARTED,
                f"Started draining Pod {pod.name} ({load} in flight): replaced by the rollout",
            )
        for _ in range(step.create):
            name = self._fresh_name(suffixes, target)
            self._create(name, spec.replicas, warm_up=spec.rollout.warmup.enabled, of=deployment)
        self._warm_ups(new)
        self.progressing = self._rollout_facts(step, world, deployment)
        return step

    def _rollback(self) -> LlamaDeployment | None:
        """The spec on its last good checkpoint, when a failed rollout should return to it
        (rollout.autoRollback, and a checkpoint rolled out before that differs)."""
        spec, status = self.deployment.spec, self.deployment.status
        good = status.checkpoint.rolled_out if status and status.checkpoint else None
        if not spec.rollout.auto_rollback or good is None or good == spec.model.checkpoint:
            return None
        model = spec.model.model_copy(update={"checkpoint": good})
        return self.deployment.model_copy(update={"spec": spec.model_copy(update={"model": model})})

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
            settled=placement is not None and self.settled(),
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

    def _target(self) -> str:
        return self._target_of(self.deployment)

    def _target_of(self, deployment: LlamaDeployment) -> str:
        placement = self.scheduling.placement
        assert placement is not None  # only called with a placement that can run
        return deployment_template_hash(deployment, placement)

    def _failed_before(self, target: str) -> FailedCheckpoint | None:
        """The failure recorded for the spec's template, if any (one recorded for another
        template is over: the spec changed since)."""
        status = self.deployment.status
        failed = status.checkpoint.failed if status and status.checkpoint else None
        return failed if failed is not None and failed.template_hash == target else None

    def _halted(
        self, new: tuple[ReplicaPod, ...], old: tuple[ReplicaPod, ...], suffixes: Iterator[str]
    ) -> None:
        """The spec's template failed. Its replicas that serve nothing go at once. If some
        serve (the canary had passed) and rollout.autoRollback holds, they are rolled back
        to the last good checkpoint, step by step as any rollout; else all of them go and
        the old replicas stay as they are."""
        failed = self.failed_checkpoint
        assert failed is not None
        back = self._rollback()
        serving = [p for p in new if p.ready and p.serving]
        back_target = self._target_of(back) if back is not None else None
        rolling_back = back_target is not None and (
            serving or any(p.template_hash == back_target for p in old if not p.serving)
        )
        gone = frozenset(p.name for p in new if not (rolling_back and p in serving))
        for pod in new:
            if pod.name not in gone:
                continue
            self.add(
                DeletePod(pod.name, "its pod template failed to roll out"),
                reasons.DELETED,
                f"Deleted Pod {pod.name}: its checkpoint and pod template failed to roll out",
            )
        halted = f"Rollout to {_target_name(self.deployment)} halted: {failed.message}"
        if rolling_back and back is not None and back_target is not None:
            self._step_toward(back, back_target, suffixes, deleted=gone)
            message = f"{halted}; rolling back to {_target_name(back)}"
            self.progressing = Facts(reasons.PROGRESSING, False, failed.reason, message)
            return
        if back is not None and old and all(p.template_hash == back_target for p in old):
            where = f"rolled back to {_target_name(back)}"
        else:
            where = f"{counted(len(old), 'replica')} stay on the previous template"
        message = (
            f"{halted}; {where}. Change the spec (or revert it to the last good checkpoint) "
            "to go on"
        )
        self.progressing = Facts(reasons.PROGRESSING, False, failed.reason, message)

    def _fail(self, step: rollout.Step, target: str) -> None:
        assert step.failed is not None
        reason, message = step.failed
        checkpoint = self.deployment.spec.model.checkpoint
        self.failed_checkpoint = FailedCheckpoint(
            uri=checkpoint.uri if checkpoint else None,
            revision=checkpoint.revision if checkpoint else None,
            template_hash=target,
            reason=reason,
            message=message,
            time=self.observed.now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        back = self._rollback()
        kept = [p for p in step.remove if back is not None and p.ready and p.serving]
        gone = [p for p in step.remove if p not in kept]
        for pod in gone:
            self.actions.append(DeletePod(pod.name, f"the rollout halted: {message}"))
        halted = f"Rollout to {_target_name(self.deployment)} halted: {message}"
        if kept and back is not None:  # the canary had passed: roll those back, step by step
            then = f"rolling {counted(len(kept), 'replica')} back to {_target_name(back)}"
        else:
            old = len(self.groups.current) - len(step.remove)
            then = f"{counted(old, 'replica')} stay on the previous template"
        deleted = f"deleted {counted(len(gone), 'new replica')}"
        warning = reasons.event_type(reasons.ROLLOUT_FAILED)
        self.events.append(
            EventRecord(reasons.ROLLOUT_FAILED, f"{halted}; {deleted}; {then}", warning)
        )
        self.progressing = Facts(reasons.PROGRESSING, False, reason, f"{halted}; {then}")

    def _analyse(
        self, new: tuple[ReplicaPod, ...], old: tuple[ReplicaPod, ...]
    ) -> tuple[bool, tuple[str, str] | None]:
        """The canary's analysis (canary.py): (still analysing, (reason, message) when it
        regressed). Its baseline and its verdict are kept on the canary pod."""
        limits = self.deployment.spec.rollout.canary
        serving = [p for p in new if p.ready and p.serving]
        if limits.analysis_seconds == 0 or not serving:
            return False, None
        if any(p.canary == rollout.CANARY_PASSED for p in new):
            return False, None
        pod = min(serving, key=lambda p: (p.serving_since or p.created, p.name))
        stats = [p.stats for p in old]
        if pod.stats is None or any(s is None for s in stats):
            self.analysis_note = "canary analysis: waiting for every replica's metrics"
            return True, None
        now = sum((s for s in stats if s is not None), EngineStats())
        baseline = _baseline(pod)
        if baseline is None:
            self.analysis_note = "canary analysis: begins"
            self.actions.append(
                AnnotatePod(
                    pod.name,
                    {names.ANNOTATION_CANARY_BASELINE: now.to_text()},
                    f"Pod {pod.name}: the canary's analysis begins",
                )
            )
            return True, None
        since = pod.serving_since or pod.created
        elapsed = (self.observed.now - since).total_seconds()
        verdict = canary.judge(pod.stats, now - baseline, elapsed, _tolerances(limits))
        if verdict.state == canary.FAILED:
            return True, (reasons.CANARY_REGRESSED, f"Pod {pod.name} regressed: {verdict.message}")
        if verdict.state == canary.WAITING:
            self.analysis_note = verdict.message
            return True, None
        self.add(
            AnnotatePod(
                pod.name, {names.ANNOTATION_CANARY: rollout.CANARY_PASSED}, verdict.message
            ),
            reasons.CANARY_PASSED,
            f"Pod {pod.name}: {verdict.message}",
        )
        return False, None

    def _warm_ups(self, new: tuple[ReplicaPod, ...]) -> None:
        warmup = self.deployment.spec.rollout.warmup
        for pod in new:
            if pod.ready and pod.warmup == rollout.WARMUP_PENDING and pod.ip:
                self.actions.append(
                    WarmUp(
                        pod.name,
                        self.deployment.metadata.name,
                        pod.ip,
                        self.deployment.spec.model.name,
                        warmup.prompt,
                        warmup.max_tokens,
                        f"Pod {pod.name} is ready: its warm-up completion",
                        pod.created,
                    )
                )

    def _rollout_facts(
        self, step: rollout.Step, world: rollout.World, deployment: LlamaDeployment
    ) -> Facts:
        name = _target_name(deployment)
        if step.blocked:
            return Facts(reasons.PROGRESSING, False, reasons.ROLLOUT_BLOCKED, self._blocked())
        done = f"{step.serving} of {world.wanted} updated"
        gate = "canary passed" if step.canary_serving else "canary warming up"
        gate = self.analysis_note or gate
        if world.paused:
            return Facts(
                reasons.PROGRESSING,
                False,
                reasons.ROLLOUT_PAUSED,
                f"Rollout to {name} paused (rollout.paused): {done}",
            )
        return Facts(
            reasons.PROGRESSING, True, reasons.ROLLING_OUT, f"Rolling to {name}: {done}, {gate}"
        )

    def _blocked(self) -> str:
        placement = self.scheduling.placement
        assert placement is not None
        gpus = placement.gpus_per_replica
        free = self.scheduling.choice.free_gpus or 0
        return (
            f"a surge replica needs {gpus} free {placement.gpu_product} GPUs, {free} are free; "
            "set rollout.maxUnavailable to 1 to replace in place, or free GPUs"
        )

    def _create(
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

    def _fresh_name(self, suffixes: Iterator[str], template: str | None = None) -> str:
        template = template if template is not None else self._target()
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


def _target_name(deployment: LlamaDeployment) -> str:
    """The rollout's target as a person names it: "rev b41c", a URI, or "the new template"."""
    checkpoint = deployment.spec.model.checkpoint
    if checkpoint is not None and checkpoint.revision:
        return f"rev {checkpoint.revision}"
    if checkpoint is not None:
        return checkpoint.uri
    return "the new pod template"


def _baseline(pod: ReplicaPod) -> EngineStats | None:
    """The old replicas' counts when the canary's analysis began (None: not yet kept, or
    unreadable, and then kept afresh)."""
    if pod.canary_baseline is None:
        return None
    try:
        return EngineStats.from_text(pod.canary_baseline)
    except (ValueError, KeyError, TypeError):
        return None


def _tolerances(spec: CanarySpec) -> canary.Tolerances:
    return canary.Tolerances(
        analysis_seconds=spec.analysis_seconds,
        min_requests=spec.min_requests,
        max_error_rate_increase=spec.max_error_rate_increase,
        max_ttft_p90_ratio=spec.max_ttft_p90_ratio,
    )
