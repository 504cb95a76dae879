"""Observe: the deployment's pods, the nodes and their GPU use, read into a frozen snapshot
from the operator's cache (cache.py), and each replica's /metrics (scrapes.py)."""

import asyncio
from datetime import UTC, datetime
from typing import Any

from llamaops.api.resource import LlamaDeployment
from llamaops.autoscaling.decision import Reading
from llamaops.inventory import replica_tolerations
from llamaops.kube.client import Kube
from llamaops.reconcile import names
from llamaops.reconcile.engine_stats import EngineStats
from llamaops.reconcile.observed import Observed, ReplicaPod
from llamaops.runtime.cache import Cache
from llamaops.runtime.scrapes import Scrapes

Obj = dict[str, Any]
FRESH_SECONDS = 1.0  # a reconcile accepts a replica's /metrics read this long ago


async def observe(
    cache: Cache,
    kube: Kube,
    body: Obj,
    scrapes: Scrapes,
    max_age: float = FRESH_SECONDS,
) -> Observed:
    deployment = LlamaDeployment.model_validate(body)
    meta = body["metadata"]
    namespace, name = meta["namespace"], meta["name"]
    await cache.synced()
    service, budget = await asyncio.gather(
        known_object(cache, kube, "Service", namespace, name),
        known_object(cache, kube, "PodDisruptionBudget", namespace, name),
    )
    pods = cache.replica_pods(namespace, name)
    scheduling = deployment.spec.scheduling
    inventory = cache.inventory(
        replica_tolerations(scheduling.tolerations), scheduling.node_selector
    )
    ready_nodes = cache.ready_nodes()
    scraped = await asyncio.gather(*(scrapes.read(pod, max_age) for pod in pods))
    replicas = tuple(
        replica_pod(pod, ready_nodes, *read) for pod, read in zip(pods, scraped, strict=True)
    )
    return Observed(
        deployment=deployment,
        pods=replicas,
        inventory=inventory,
        now=datetime.now(UTC),
        service=service,
        disruption_budget=budget,
    )


async def known_object(
    cache: Cache, kube: Kube, kind: str, namespace: str, name: str
) -> Obj | None:
    """A Service or PodDisruptionBudget llamaops renders, from the cache; read once from
    the API when the cache has not heard of it yet (after a restart)."""
    if not cache.known(kind, namespace, name):
        found = await asyncio.to_thread(kube.get_object, kind, namespace, name)
        if found is None:
            cache.absent(kind, namespace, name)
        else:
            cache.absorb(found)
    return cache.get(kind, namespace, name)


def replica_pod(
    pod: Obj, ready_nodes: set[str], reading: Reading | None, stats: EngineStats | None = None
) -> ReplicaPod:
    meta, spec = pod["metadata"], pod.get("spec") or {}
    status = pod.get("status") or {}
    labels, annotations = meta.get("labels") or {}, meta.get("annotations") or {}
    conditions = {c.get("type"): c for c in status.get("conditions") or []}
    node = spec.get("nodeName")
    scheduled = conditions.get("PodScheduled", {})
    states = [
        (c.get("state") or {}).get("waiting") or {} for c in status.get("containerStatuses") or []
    ]
    waiting = [state.get("reason") for state in states]
    config_errors = [
        str(state.get("message") or state.get("reason"))
        for state in states
        if state.get("reason") == "CreateContainerConfigError"
    ]
    lost = bool(node) and node not in ready_nodes and bool(conditions)
    return ReplicaPod(
        name=meta["name"],
        uid=meta.get("uid", ""),
        created=_time(meta.get("creationTimestamp")) or datetime.now(UTC),
        template_hash=labels.get(names.LABEL_TEMPLATE_HASH, ""),
        checkpoint=labels.get(names.LABEL_CHECKPOINT, ""),
        serving=labels.get(names.LABEL_SERVING) == "true",
        ready=conditions.get("Ready", {}).get("status") == "True",
        terminating=bool(meta.get("deletionTimestamp")),
        failed=status.get("phase") == "Failed" or lost,
        scheduled=bool(node),
        node=node,
        unschedulable_message=(
            scheduled.get("message") if scheduled.get("status") == "False" else None
        ),
        crash_looping="CrashLoopBackOff" in waiting,
        config_error=config_errors[0] if config_errors else None,
        restarts=sum(int(c.get("restartCount", 0)) for c in status.get("containerStatuses") or []),
        drain_started=_time(annotations.get(names.ANNOTATION_DRAIN_STARTED)),
        warmup=annotations.get(names.ANNOTATION_WARMUP),
        serving_since=_time(annotations.get(names.ANNOTATION_SERVING_SINCE)),
        canary=annotations.get(names.ANNOTATION_CANARY),
        canary_baseline=annotations.get(names.ANNOTATION_CANARY_BASELINE),
        stats=stats,
        ip=status.get("podIP"),
        in_flight=None if reading is None else round(reading.running + reading.waiting),
        reading=reading,
    )


def _time(text: Any) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(str(text).replace("Z", "+00:00"))
