"""Report: write status only when it changed, emit the plan's events, update the metrics."""

import asyncio
from typing import Any

import kopf

from llamaops.kube.client import Kube
from llamaops.reconcile import reasons
from llamaops.reconcile.observed import Observed
from llamaops.reconcile.plan_types import Plan
from llamaops.runtime import metrics
from llamaops.runtime.autoscaler import enabled as autoscaling_enabled
from llamaops.runtime.cache import Cache

Obj = dict[str, Any]
AUTOSCALER = "autoscaler"


async def report(kube: Kube, cache: Cache, body: Obj, observed: Observed, plan: Plan) -> bool:
    """Whether status was written (it changed)."""
    meta = body["metadata"]
    # status.autoscaler is the autoscaler loop's: writing back what this reconcile read
    # would undo a decision made meanwhile.
    new = {k: v for k, v in plan.status.to_wire().items() if k != AUTOSCALER}
    old = {k: v for k, v in (body.get("status") or {}).items() if k != AUTOSCALER}
    # Autoscaling turned off while no operator watched: its reading and window go.
    stale = AUTOSCALER in (body.get("status") or {}) and not autoscaling_enabled(body["spec"])
    changed = new != old or stale
    if changed:
        patch = merge_patch(old, new)
        if stale:
            patch[AUTOSCALER] = None
        written = await asyncio.to_thread(kube.patch_status, meta["namespace"], meta["name"], patch)
        if written is not None:
            cache.absorb(written)
    for event in plan.events:
        involved: Any = body  # kopf reads the object reference from any mapping
        kopf.event(involved, type=event.type, reason=event.reason, message=event.message)
    _gauges(meta["namespace"], meta["name"], observed, plan)
    return changed


def merge_patch(old: Obj, new: Obj) -> Obj:
    """The JSON merge patch (RFC 7386) from `old` to `new`: a key gone is null, at any
    depth (status.checkpoint.failed cleared must not survive inside checkpoint)."""
    patch: Obj = {key: None for key in old if key not in new}
    for key, value in new.items():
        before = old.get(key)
        if isinstance(value, dict) and isinstance(before, dict):
            patch[key] = merge_patch(before, value)
        else:
            patch[key] = value
    return patch


def _gauges(namespace: str, name: str, observed: Observed, plan: Plan) -> None:
    pods = observed.pods
    states = {
        "ready": sum(1 for p in pods if p.ready and not p.terminating),
        "starting": sum(1 for p in pods if not p.ready and not p.terminating and p.scheduled),
        "pending": sum(1 for p in pods if not p.scheduled and not p.terminating),
        "draining": sum(1 for p in pods if not p.serving and not p.terminating),
        "terminating": sum(1 for p in pods if p.terminating),
    }
    for state, count in states.items():
        metrics.REPLICAS.labels(namespace=namespace, deployment=name, state=state).set(count)
    labels = {"namespace": namespace, "deployment": name}
    metrics.DESIRED.labels(**labels).set(plan.status.desired_replicas or 0)
    current = {c.type: c.status for c in plan.status.conditions}
    for condition in reasons.CONDITION_TYPES:
        for status in metrics.CONDITION_STATUSES:
            on = current.get(condition, "Unknown") == status
            metrics.CONDITION.labels(**labels, condition=condition, status=status).set(int(on))
    progressing = [c for c in plan.status.conditions if c.type == "Progressing"]
    rolling = bool(progressing) and progressing[0].reason == reasons.ROLLING_OUT
    metrics.ROLLOUT_IN_PROGRESS.labels(**labels).set(1 if rolling else 0)
    metrics.ROLLOUT_UPDATED.labels(**labels).set(plan.status.updated_replicas or 0)
    checkpoint = plan.status.checkpoint
    halted = checkpoint is not None and checkpoint.failed is not None
    metrics.ROLLOUT_HALTED.labels(**labels).set(int(halted))
    for event in plan.events:
        if event.reason == reasons.ROLLOUT_FAILED:
            metrics.ROLLOUT_FAILED.labels(**labels).inc()
    placement = plan.status.placement
    if placement is not None:
        metrics.TENSOR_PARALLEL.labels(namespace=namespace, deployment=name).set(
            placement.tensor_parallel_size
        )
        held = sum(1 for p in pods if p.scheduled and not p.terminating)
        metrics.GPUS_ALLOCATED.labels(namespace=namespace, deployment=name).set(
            held * placement.gpus_per_replica
        )
