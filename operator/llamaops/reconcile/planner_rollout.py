"""The planner's rollout part: it turns rollout.py's step math and canary.py's verdict into
the actions of one plan (create, warm up, drain, halt, roll back), on the plan's draft.

    roll        the spec's template differs from some current replica's: one step of the
                rollout (rollout.step), after the canary's analysis when one is asked for
    halt        a new replica failed (or the canary regressed): status.checkpoint.failed is
                written, the new pods that serve nothing go, and the rollout stops there
    roll back   it failed after the canary passed (rollout.autoRollback): the spec with its
                last good checkpoint (status.checkpoint.rolledOut) becomes the target of
                the same step math, so the replicas already replaced come back carefully
"""

from collections.abc import Iterator
from typing import Protocol

from llamaops.api.resource import LlamaDeployment
from llamaops.api.rollout_spec import CanarySpec
from llamaops.api.status import FailedCheckpoint
from llamaops.model_resolution import ResolvedModel
from llamaops.reconcile import canary, names, reasons, rollout
from llamaops.reconcile.conditions import Facts, timestamp
from llamaops.reconcile.engine_stats import EngineStats
from llamaops.reconcile.observed import Observed, ReplicaPod
from llamaops.reconcile.plan_types import (
    Action,
    AnnotatePod,
    DeletePod,
    EventRecord,
    StartDrain,
    WarmUp,
)
from llamaops.reconcile.rendering import deployment_template_hash
from llamaops.reconcile.replicas import ReplicaGroups, counted, in_flight
from llamaops.reconcile.scheduling import Scheduling


class Draft(Protocol):
    """What of the plan being drafted the rollout reads and adds to (planner._Draft)."""

    observed: Observed
    groups: ReplicaGroups
    model: ResolvedModel
    scheduling: Scheduling
    actions: list[Action]
    events: list[EventRecord]
    draining_left: int
    failed_checkpoint: FailedCheckpoint | None
    progressing: Facts | None
    analysis_note: str | None

    @property
    def deployment(self) -> LlamaDeployment: ...

    def add(self, action: Action, reason: str, message: str) -> None: ...

    def create(
        self, name: str, wanted: int, warm_up: bool = False, of: LlamaDeployment | None = None
    ) -> None: ...

    def fresh_name(self, suffixes: Iterator[str], template: str | None = None) -> str: ...


class Rollouts:
    """The rollout's share of one plan."""

    def __init__(self, draft: Draft) -> None:
        self.draft = draft

    def rolling(self) -> bool:
        """Some current replica runs another pod template than the spec renders, or the
        spec's template already failed (its rollout stays halted)."""
        target = self._target()
        self.draft.failed_checkpoint = self._failed_before(target)
        if self.draft.failed_checkpoint is not None:
            return True
        return any(pod.template_hash != target for pod in self.draft.groups.current)

    def settled(self) -> bool:
        """Every current replica runs the spec's template, and it has not failed."""
        target = self._target()
        current = self.draft.groups.current
        return self.draft.failed_checkpoint is None and all(
            p.template_hash == target for p in current
        )

    def roll(self, suffixes: Iterator[str]) -> None:
        """One step of the rollout (rollout.py's math), or its halt, or its roll back."""
        target = self._target()
        new = tuple(p for p in self.draft.groups.current if p.template_hash == target)
        old = tuple(p for p in self.draft.groups.current if p.template_hash != target)
        if self.draft.failed_checkpoint is not None:
            self._halted(new, old, suffixes)
            return
        analysing, regressed = self._analyse(new, old)
        if regressed is not None:
            self._fail(rollout.Step(failed=regressed, remove=new, new=len(new)), target)
            return
        step = self._step_toward(self.draft.deployment, target, suffixes, analysing=analysing)
        if step.failed is not None:
            self._fail(step, target)

    def _step_toward(
        self,
        deployment: LlamaDeployment,
        target: str,
        suffixes: Iterator[str],
        *,
        analysing: bool = False,
        deleted: frozenset[str] = frozenset(),
        why: str = "replaced by the rollout",
    ) -> rollout.Step:
        """Create and drain toward the pods `deployment` renders (template `target`);
        pods `deleted` by this plan already are left out. Each drain says `why`."""
        spec = deployment.spec
        current = [p for p in self.draft.groups.current if p.name not in deleted]
        new = tuple(p for p in current if p.template_hash == target)
        old = tuple(p for p in current if p.template_hash != target)
        available = self.draft.scheduling.replicas_available
        world = rollout.World(
            wanted=spec.replicas,
            bounds=rollout.bounds(
                spec.rollout.max_surge, spec.rollout.max_unavailable, spec.replicas
            ),
            old=old,
            new=new,
            leaving=len(self.draft.groups.draining),
            room=max(0, available - len(self.draft.groups.unscheduled)),
            readiness_timeout=spec.rollout.readiness_timeout_seconds,
            paused=spec.rollout.paused,
            analysing=analysing,
        )
        step = rollout.step(world, self.draft.observed.now)
        if step.failed is not None:
            return step
        for pod in step.drain:
            self.draft.draining_left += 1
            load = in_flight(pod)
            self.draft.add(
                StartDrain(pod.name, f"{why[:1].upper()}{why[1:]}; least loaded ({load})"),
                reasons.DRAIN_STARTED,
                f"Started draining Pod {pod.name} ({load} in flight): {why}",
            )
        for _ in range(step.create):
            name = self.draft.fresh_name(suffixes, target)
            self.draft.create(
                name, spec.replicas, warm_up=spec.rollout.warmup.enabled, of=deployment
            )
        self._warm_ups(new)
        self.draft.progressing = self._rollout_facts(step, world, deployment)
        return step

    def _rollback(self) -> LlamaDeployment | None:
        """The spec on its last good checkpoint, when a failed rollout should return to it
        (rollout.autoRollback, and a checkpoint rolled out before that differs)."""
        spec, status = self.draft.deployment.spec, self.draft.deployment.status
        good = status.checkpoint.rolled_out if status and status.checkpoint else None
        if not spec.rollout.auto_rollback or good is None or good == spec.model.checkpoint:
            return None
        model = spec.model.model_copy(update={"checkpoint": good})
        return self.draft.deployment.model_copy(
            update={"spec": spec.model_copy(update={"model": model})}
        )

    def _target(self) -> str:
        return self._target_of(self.draft.deployment)

    def _target_of(self, deployment: LlamaDeployment) -> str:
        placement = self.draft.scheduling.placement
        assert placement is not None  # only called with a placement that can run
        return deployment_template_hash(deployment, placement)

    def _failed_before(self, target: str) -> FailedCheckpoint | None:
        """The failure recorded for the spec's template, if any (one recorded for another
        template is over: the spec changed since)."""
        status = self.draft.deployment.status
        failed = status.checkpoint.failed if status and status.checkpoint else None
        return failed if failed is not None and failed.template_hash == target else None

    def _halted(
        self, new: tuple[ReplicaPod, ...], old: tuple[ReplicaPod, ...], suffixes: Iterator[str]
    ) -> None:
        """The spec's template failed. Its replicas that serve nothing go at once. If some
        serve (the canary had passed) and rollout.autoRollback holds, they are rolled back
        to the last good checkpoint, step by step as any rollout; else all of them go and
        the old replicas stay as they are."""
        failed = self.draft.failed_checkpoint
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
            self.draft.add(
                DeletePod(pod.name, "its pod template failed to roll out"),
                reasons.DELETED,
                f"Deleted Pod {pod.name}: its checkpoint and pod template failed to roll out",
            )
        halted = f"Rollout to {_target_name(self.draft.deployment)} halted: {failed.message}"
        if rolling_back and back is not None and back_target is not None:
            back_to = _target_name(back)
            self._step_toward(
                back, back_target, suffixes, deleted=gone, why=f"rolled back to {back_to}"
            )
            message = f"{halted}; rolling back to {back_to}"
            self.draft.progressing = Facts(reasons.PROGRESSING, False, failed.reason, message)
            return
        if back is not None and old and all(p.template_hash == back_target for p in old):
            where = f"rolled back to {_target_name(back)}"
        else:
            where = f"{counted(len(old), 'replica')} stay on the previous template"
        message = (
            f"{halted}; {where}. Change the spec (or revert it to the last good checkpoint) "
            "to go on"
        )
        self.draft.progressing = Facts(reasons.PROGRESSING, False, failed.reason, message)

    def _fail(self, step: rollout.Step, target: str) -> None:
        assert step.failed is not None
        reason, message = step.failed
        checkpoint = self.draft.deployment.spec.model.checkpoint
        self.draft.failed_checkpoint = FailedCheckpoint(
            uri=checkpoint.uri if checkpoint else None,
            revision=checkpoint.revision if checkpoint else None,
            template_hash=target,
            reason=reason,
            message=message,
            time=timestamp(self.draft.observed.now),
        )
        back = self._rollback()
        kept = [p for p in step.remove if back is not None and p.ready and p.serving]
        gone = [p for p in step.remove if p not in kept]
        for pod in gone:
            self.draft.actions.append(DeletePod(pod.name, f"the rollout halted: {message}"))
        halted = f"Rollout to {_target_name(self.draft.deployment)} halted: {message}"
        if kept and back is not None:  # the canary had passed: roll those back, step by step
            then = f"rolling {counted(len(kept), 'replica')} back to {_target_name(back)}"
        else:
            old = len(self.draft.groups.current) - len(step.remove)
            then = f"{counted(old, 'replica')} stay on the previous template"
        deleted = f"deleted {counted(len(gone), 'new replica')}"
        warning = reasons.event_type(reasons.ROLLOUT_FAILED)
        self.draft.events.append(
            EventRecord(reasons.ROLLOUT_FAILED, f"{halted}; {deleted}; {then}", warning)
        )
        self.draft.progressing = Facts(reasons.PROGRESSING, False, reason, f"{halted}; {then}")

    def _analyse(
        self, new: tuple[ReplicaPod, ...], old: tuple[ReplicaPod, ...]
    ) -> tuple[bool, tuple[str, str] | None]:
        """The canary's analysis (canary.py): (still analysing, (reason, message) when it
        regressed). Its baseline and its verdict are kept on the canary pod."""
        limits = self.draft.deployment.spec.rollout.canary
        serving = [p for p in new if p.ready and p.serving]
        if limits.analysis_seconds == 0 or not serving:
            return False, None
        if any(p.canary == rollout.CANARY_PASSED for p in new):
            return False, None
        pod = min(serving, key=lambda p: (p.serving_since or p.created, p.name))
        stats = [p.stats for p in old]
        if pod.stats is None or any(s is None for s in stats):
            self.draft.analysis_note = "canary analysis: waiting for every replica's metrics"
            return True, None
        now = sum((s for s in stats if s is not None), EngineStats())
        baseline = _baseline(pod)
        if baseline is None:
            self.draft.analysis_note = "canary analysis: begins"
            self.draft.actions.append(
                AnnotatePod(
                    pod.name,
                    {names.ANNOTATION_CANARY_BASELINE: canary.Baseline(now, pod.stats).to_text()},
                    f"Pod {pod.name}: the canary's analysis begins",
                )
            )
            return True, None
        since = pod.serving_since or pod.created
        elapsed = (self.draft.observed.now - since).total_seconds()
        served = pod.stats - baseline.canary
        verdict = canary.judge(served, now - baseline.old, elapsed, _tolerances(limits))
        if verdict.state == canary.FAILED:
            return True, (reasons.CANARY_REGRESSED, f"Pod {pod.name} regressed: {verdict.message}")
        if verdict.state == canary.WAITING:
            self.draft.analysis_note = verdict.message
            return True, None
        self.draft.add(
            AnnotatePod(
                pod.name, {names.ANNOTATION_CANARY: rollout.CANARY_PASSED}, verdict.message
            ),
            reasons.CANARY_PASSED,
            f"Pod {pod.name}: {verdict.message}",
        )
        return False, None

    def _warm_ups(self, new: tuple[ReplicaPod, ...]) -> None:
        warmup = self.draft.deployment.spec.rollout.warmup
        for pod in new:
            if pod.ready and pod.warmup == rollout.WARMUP_PENDING and pod.ip:
                self.draft.actions.append(
                    WarmUp(
                        pod.name,
                        self.draft.deployment.metadata.name,
                        pod.ip,
                        self.draft.deployment.spec.model.name,
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
        gate = self.draft.analysis_note or gate
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
        placement = self.draft.scheduling.placement
        assert placement is not None
        gpus = placement.gpus_per_replica
        free = self.draft.scheduling.choice.free_gpus or 0
        return (
            f"a surge replica needs {gpus} free {placement.gpu_product} GPUs, {free} are free; "
            "set rollout.maxUnavailable to 1 to replace in place, or free GPUs"
        )


def _target_name(deployment: LlamaDeployment) -> str:
    """The rollout's target as a person names it: "rev b41c", a URI, or "the new template"."""
    checkpoint = deployment.spec.model.checkpoint
    if checkpoint is not None and checkpoint.revision:
        return f"rev {checkpoint.revision}"
    if checkpoint is not None:
        return checkpoint.uri
    return "the new pod template"


def _baseline(pod: ReplicaPod) -> canary.Baseline | None:
    """Both sides' counts when the canary's analysis began (None: not yet kept, or
    unreadable, and then kept afresh)."""
    if pod.canary_baseline is None:
        return None
    try:
        return canary.Baseline.from_text(pod.canary_baseline)
    except (ValueError, KeyError, TypeError):
        return None


def _tolerances(spec: CanarySpec) -> canary.Tolerances:
    return canary.Tolerances(
        analysis_seconds=spec.analysis_seconds,
        min_requests=spec.min_requests,
        max_error_rate_increase=spec.max_error_rate_increase,
        max_ttft_p90_ratio=spec.max_ttft_p90_ratio,
        min_ttft_p90_increase=spec.min_ttft_p90_increase_seconds,
    )
