"""The rollout's step math: which replicas to create and which to drain, when the pods do
not all run the pod template the spec renders. Pure; derived from the observed pods every
time (their template-hash labels, readiness, warm-up and drains), never from a counter.

    N        spec.replicas
    S, U     rollout.maxSurge, rollout.maxUnavailable against N (a percentage: S rounds
             up, U rounds down, as a Deployment's do)
    new      current pods on the spec's template (its hash covers the checkpoint)
    old      current pods on any other template
    serving  new pods ready and past their warm-up (serving label true)
    leaving  pods draining: they still hold GPUs and count toward the surge

1. Fail.   A new pod crash-looping, not ready `readinessTimeoutSeconds` after creation, or
           failing its warm-up fails the target: every new pod is deleted, the old ones
           keep serving, and the caller records the template in status.checkpoint.failed
           so it is not tried again until the spec changes.
2. Canary. Until one new replica serves (and, with rollout.canary.analysisSeconds > 0,
           passed its analysis: canary.py), at most one new replica exists: the canary.
           A canary whose analysis failed fails the target as in 1 (CanaryRegressed).
3. Create  c = min(N - |new|, S + N - |old| - |new| - |leaving|), 1 - |new| while there is
           no canary yet; then bounded by the free GPUs (the caller's room).
4. Drain   old replicas, least loaded first:
             d = min(|old|, |old| + |new| - (N - U) - (|new| - |serving|))
           so the replicas ready to serve never fall below N - U (old ready ones count,
           new ones only once they serve). Before the canary serves, no old replica is
           replaced: d is at most the extras, |old| + max(|new|, 1) - (N + S) (a
           scale-down during the rollout; the canary's place kept), or 1 when U ≥ 1 and
           no GPUs are free: room for the canary.
5. Blocked c > 0 wanted, no free GPU for it, U = 0 and nothing draining: the rollout
           cannot move; the caller says so (RolloutBlocked) with the two ways out.
   Paused  rollout.paused: no step is taken (failures are still acted on).
"""

import math
from dataclasses import dataclass
from datetime import datetime

from llamaops.api.rollout_spec import IntOrPercent
from llamaops.reconcile import reasons
from llamaops.reconcile.observed import ReplicaPod
from llamaops.reconcile.replicas import drain_candidates, stalled

WARMUP_PENDING = "pending"
WARMUP_PASSED = "passed"
WARMUP_FAILED = "failed"
CANARY_PASSED = "passed"
CANARY_FAILED = "failed"


@dataclass(frozen=True)
class Bounds:
    surge: int
    unavailable: int


def bounds(max_surge: IntOrPercent, max_unavailable: IntOrPercent, wanted: int) -> Bounds:
    """maxSurge and maxUnavailable as replica counts (both 0 cannot happen: the CRD refuses
    it; a percentage that rounds both to 0 leaves one unavailable, as a Deployment does)."""
    surge = _count(max_surge, wanted, up=True)
    unavailable = _count(max_unavailable, wanted, up=False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return Bounds(surge, unavailable)


def _count(value: IntOrPercent, wanted: int, *, up: bool) -> int:
    if isinstance(value, int):
        return value
    share = wanted * int(value.rstrip("%")) / 100
    return math.ceil(share) if up else math.floor(share)


@dataclass(frozen=True)
class Step:
    create: int = 0
    drain: tuple[ReplicaPod, ...] = ()
    failed: tuple[str, str] | None = None  # (reason, message) when the target failed now
    remove: tuple[ReplicaPod, ...] = ()  # new pods deleted because the target failed
    blocked: bool = False  # create wanted, no GPU for it, no unavailability allowed
    canary_serving: bool = False
    new: int = 0
    serving: int = 0


@dataclass(frozen=True)
class World:
    """What one reconcile sees of the rollout."""

    wanted: int
    bounds: Bounds
    old: tuple[ReplicaPod, ...]
    new: tuple[ReplicaPod, ...]
    leaving: int  # draining pods
    room: int  # further replicas the free GPUs hold now
    readiness_timeout: int
    paused: bool = False
    analysing: bool = False  # the canary serves, and its analysis has not passed yet


def failure(pod: ReplicaPod, world: World, now: datetime) -> tuple[str, str] | None:
    """(reason, message) when a new pod fails the target, else None."""
    if pod.crash_looping:
        return (
            reasons.REPLICA_CRASH_LOOPING,
            f"Pod {pod.name} crash-loops ({pod.restarts} restarts)",
        )
    if stalled(pod, now, world.readiness_timeout):
        return (
            reasons.PROGRESS_DEADLINE_EXCEEDED,
            f"Pod {pod.name} not ready {world.readiness_timeout} s after creation "
            "(rollout.readinessTimeoutSeconds)",
        )
    if pod.warmup is not None and pod.warmup.startswith(WARMUP_FAILED):
        detail = pod.warmup[len(WARMUP_FAILED) :].lstrip(": ")
        return reasons.WARMUP_FAILED, f"Pod {pod.name} failed its warm-up completion: {detail}"
    if pod.canary is not None and pod.canary.startswith(CANARY_FAILED):
        detail = pod.canary[len(CANARY_FAILED) :].lstrip(": ")
        return reasons.CANARY_REGRESSED, f"Pod {pod.name} regressed: {detail}"
    return None


def step(world: World, now: datetime) -> Step:
    for pod in world.new:
        why = failure(pod, world, now)
        if why is not None:
            return Step(failed=why, remove=world.new, new=len(world.new))
    serving = [pod for pod in world.new if pod.ready and pod.serving]
    canary = bool(serving) and not world.analysing
    if world.paused:
        return Step(canary_serving=canary, new=len(world.new), serving=len(serving))
    n, old, new = world.wanted, len(world.old), len(world.new)
    surge, unavailable = world.bounds.surge, world.bounds.unavailable
    wanted_new = max(0, min(n - new, surge + n - old - new - world.leaving))
    if not canary:
        wanted_new = min(wanted_new, max(0, 1 - new))
    create = min(wanted_new, max(0, world.room))
    drain = min(old, max(0, old + new - (n - unavailable) - (new - len(serving))))
    if not canary:  # no replacement yet: only extras beyond N go, or one to make room
        excess = max(0, old + max(new, 1) - (n + surge))  # leaves room for the canary
        needs_room = new == 0 and create == 0 and world.room <= 0
        drain = min(drain, max(excess, 1 if needs_room and unavailable >= 1 else 0))
    blocked = wanted_new > 0 and create == 0 and unavailable == 0 and world.leaving == 0
    return Step(
        create=create,
        drain=drain_candidates(world.old, drain),
        blocked=blocked,
        canary_serving=canary,
        new=new,
        serving=len(serving),
    )
