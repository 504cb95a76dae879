"""The autoscaler's loop: every `metricsIntervalSeconds`, read each ready replica's
/metrics, decide (llamaops.autoscaling.decision) and, when the replicas change, write
spec.replicas through the scale subresource, as a HorizontalPodAutoscaler does.

It runs beside the reconcile, never inside it: it writes only the scale subresource and
`status.autoscaler`, and the reconcile that the new spec.replicas wakes does the rest
(creating replicas, draining the least loaded). Its window lives in status, so a
restarted operator neither forgets it nor scales twice for the same queue.
"""

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

import kopf

from llamaops.api.status import AutoscalerStatus
from llamaops.autoscaling.decision import Decision, Replicas, decide
from llamaops.autoscaling.outcome import events_of, status_after, window_of
from llamaops.autoscaling.policy import policy_of
from llamaops.errors import SpecError
from llamaops.kube.client import Kube
from llamaops.reconcile.observed import Observed
from llamaops.reconcile.planner import checked_model
from llamaops.reconcile.replicas import group_replicas, stalled
from llamaops.reconcile.scheduling import schedule
from llamaops.runtime import metrics
from llamaops.runtime.cache import Cache
from llamaops.runtime.observe import observe
from llamaops.runtime.scrapes import Scrapes

log = logging.getLogger("llamaops")


def enabled(spec: Any) -> bool:
    return bool((spec.get("autoscaling") or {}).get("enabled"))


def interval_of(spec: Any) -> float:
    return float((spec.get("autoscaling") or {}).get("metricsIntervalSeconds") or 5)


async def tick(kube: Kube, cache: Cache, scrapes: Scrapes, namespace: str, name: str) -> None:
    """One reading and decision for one LlamaDeployment, from the cache and a reading of
    each replica no older than this interval (a reconcile's since the last tick will do)."""
    body = cache.get("LlamaDeployment", namespace, name)  # as kopf's watch last showed it
    if body is None or body["metadata"].get("deletionTimestamp") or not enabled(body["spec"]):
        return
    fresh = max(0.5, interval_of(body["spec"]) - 0.5)
    observed = await observe(cache, kube, body, scrapes, max_age=fresh)
    decision = decided(observed)
    if decision is None:
        return
    previous = observed.deployment.status.autoscaler if observed.deployment.status else None
    if decision.direction is not None:
        await asyncio.to_thread(kube.scale, namespace, name, decision.desired)
        log.info(
            "%s/%s: %s to %d: %s",
            namespace,
            name,
            decision.direction,
            decision.desired,
            decision.reason,
        )
        metrics.AUTOSCALER_SCALE_EVENTS.labels(
            namespace=namespace, deployment=name, direction=decision.direction
        ).inc()
    status = status_after(previous, decision, datetime.now(UTC))
    if previous is None or status.to_wire() != previous.to_wire():
        written = await asyncio.to_thread(
            kube.patch_status, namespace, name, {"autoscaler": _replacing(status)}
        )
        if written is not None:
            cache.absorb(written)
    involved: Any = body  # kopf reads the object reference from any mapping
    for event in events_of(previous, decision):
        kopf.event(involved, type=event.type, reason=event.reason, message=event.message)
    _gauges(namespace, name, decision, status.capped_by)


async def forget(kube: Kube, cache: Cache, namespace: str, name: str) -> None:
    """Autoscaling was turned off: the replicas are the user's again, and status.autoscaler
    (its reading, reason and window) goes, so that nothing stale is shown."""
    metrics.forget_autoscaler(namespace, name)
    written = await asyncio.to_thread(kube.patch_status, namespace, name, {"autoscaler": None})
    if written is not None:
        cache.absorb(written)
    log.info("%s/%s: autoscaling is off; spec.replicas is left to the user", namespace, name)


def decided(observed: Observed) -> Decision | None:
    """The decision for this observation; None when the spec cannot be sized (the
    reconcile reports why)."""
    deployment = observed.deployment
    spec = deployment.spec
    try:
        model = checked_model(deployment)
    except SpecError:
        return None
    groups = group_replicas(observed.pods)
    missing = max(0, spec.replicas - len(groups.current))
    scheduling = schedule(observed, model, missing + len(groups.unscheduled))
    room = scheduling.replicas_available if scheduling.blocker is None else 0
    timeout = spec.rollout.readiness_timeout_seconds
    replicas = Replicas(
        current=spec.replicas,
        ready=tuple(pod.reading for pod in groups.ready),
        loading=len(groups.loading),
        pending=len(groups.unscheduled),
        stalled=sum(stalled(pod, observed.now, timeout) for pod in groups.loading),
        draining=len(groups.draining),
    )
    previous = deployment.status.autoscaler if deployment.status else None
    return decide(policy_of(spec), window_of(previous), replicas, room, observed.now.timestamp())


def _replacing(status: AutoscalerStatus) -> dict[str, Any]:
    """A merge patch that replaces status.autoscaler: fields now unset become null."""
    wire = status.to_wire()
    fields = AutoscalerStatus.model_fields.values()
    return {field.alias or "": wire.get(field.alias or "") for field in fields}


def _gauges(namespace: str, name: str, decision: Decision, capped_by: str | None) -> None:
    labels = {"namespace": namespace, "deployment": name}
    metrics.AUTOSCALER_DESIRED.labels(**labels).set(decision.desired)
    for limit in metrics.CAP_LIMITS:
        metrics.AUTOSCALER_CAPPED.labels(**labels, limit=limit).set(int(capped_by == limit))
    if decision.load is not None:
        metrics.AUTOSCALER_QUEUE.labels(**labels).set(decision.load.queue)
