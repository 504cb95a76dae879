"""Report: write status only when it changed, emit the plan's events, update the metrics."""

import asyncio
from typing import Any

import kopf

from llamaops.kube.client import Kube
from llamaops.reconcile.observed import Observed
from llamaops.reconcile.plan_types import Plan
from llamaops.runtime import metrics
from llamaops.runtime.autoscaler import enabled as autoscaling_enabled

Obj = dict[str, Any]
AUTOSCALER = "autoscaler"


async def report(kube: Kube, body: Obj, observed: Observed, plan: Plan) -> None:
    meta = body["metadata"]
    # status.autoscaler is the autoscaler loop's: writing back what this reconcile read
    # would undo a decision made meanwhile.
    new = {k: v for k, v in plan.status.to_wire().items() if k != AUTOSCALER}
    old = {k: v for k, v in (body.get("status") or {}).items() if k != AUTOSCALER}
    # Autoscaling turned off while no operator watched: its reading and window go.
    stale = AUTOSCALER in (body.get("status") or {}) and not autoscaling_enabled(body["spec"])
    if new != old or stale:
        removed = {key: None for key in old if key not in new}  # merge patch: null removes
        if stale:
            removed[AUTOSCALER] = None
        await asyncio.to_thread(
            kube.patch_status, meta["namespace"], meta["name"], {**removed, **new}
        )
    for event in plan.events:
        involved: Any = body  # kopf reads the object reference from any mapping
        kopf.event(involved, type=event.type, reason=event.reason, message=event.message)
    _gauges(meta["namespace"], meta["name"], observed, plan)


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
    placement = plan.status.placement
    if placement is not None:
        metrics.TENSOR_PARALLEL.labels(namespace=namespace, deployment=name).set(
            placement.tensor_parallel_size
        )
        held = sum(1 for p in pods if p.scheduled and not p.terminating)
        metrics.GPUS_ALLOCATED.labels(namespace=namespace, deployment=name).set(
            held * placement.gpus_per_replica
        )
