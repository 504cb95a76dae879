"""Observe: the deployment's pods, the nodes and their GPU use, read into a frozen snapshot."""

import asyncio
from datetime import UTC, datetime
from typing import Any

import aiohttp

from llamaops.api.resource import LlamaDeployment
from llamaops.autoscaling.decision import Reading
from llamaops.autoscaling.exposition import ExpositionError, reading_of
from llamaops.inventory import replica_tolerations, take_inventory
from llamaops.kube.client import Kube
from llamaops.reconcile import names
from llamaops.reconcile.engine_stats import EngineStats, stats_of
from llamaops.reconcile.observed import Observed, ReplicaPod

Obj = dict[str, Any]
METRICS_TIMEOUT = 2.0


async def observe(kube: Kube, body: Obj, session: aiohttp.ClientSession) -> Observed:
    deployment = LlamaDeployment.model_validate(body)
    meta = body["metadata"]
    namespace, name = meta["namespace"], meta["name"]
    selector = names.selector_string(name)
    pods, nodes, all_pods, service, budget = await asyncio.gather(
        asyncio.to_thread(kube.list_pods, namespace, selector),
        asyncio.to_thread(kube.list_nodes),
        asyncio.to_thread(kube.list_all_pods),
        asyncio.to_thread(kube.get_object, "Service", namespace, name),
        asyncio.to_thread(kube.get_object, "PodDisruptionBudget", namespace, name),
    )
    scheduling = deployment.spec.scheduling
    inventory = take_inventory(
        nodes, all_pods, replica_tolerations(scheduling.tolerations), scheduling.node_selector
    )
    ready_nodes = {n["metadata"]["name"] for n in nodes if _node_ready(n)}
    scraped = await asyncio.gather(*(scrape(session, pod) for pod in pods))
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


async def scrape(
    session: aiohttp.ClientSession, pod: Obj
) -> tuple[Reading | None, EngineStats | None]:
    """The pod's vLLM gauges and request counts from its /metrics; None when it does not
    answer in time or answers something else (unknown, never zero)."""
    ip = (pod.get("status") or {}).get("podIP")
    if not ip or pod["metadata"].get("deletionTimestamp"):
        return None, None
    try:
        async with session.get(
            f"http://{ip}:{names.ENGINE_PORT}/metrics",
            timeout=aiohttp.ClientTimeout(total=METRICS_TIMEOUT),
        ) as answer:
            if answer.status != 200:
                return None, None
            text = await answer.text()
    except (aiohttp.ClientError, OSError, TimeoutError):
        return None, None
    try:
        reading: Reading | None = reading_of(text)
    except ExpositionError:
        reading = None
    return reading, stats_of(text)


def _node_ready(node: Obj) -> bool:
    conditions = (node.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _time(text: Any) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(str(text).replace("Z", "+00:00"))
