"""Apply: carry out a plan's actions, idempotently (AlreadyExists and NotFound are success).
Each write's answer goes into the cache at once, so the next reconcile sees it."""

import asyncio
from datetime import UTC, datetime
from typing import Any

import aiohttp

from llamaops.kube.client import Kube
from llamaops.reconcile import names
from llamaops.reconcile.conditions import timestamp
from llamaops.reconcile.plan_types import (
    Action,
    AnnotatePod,
    CreatePod,
    DeletePod,
    EnsureObject,
    StartDrain,
    WarmUp,
)
from llamaops.runtime import metrics
from llamaops.runtime.cache import Cache
from llamaops.runtime.warmup import warm_up

Obj = dict[str, Any]


async def apply(
    kube: Kube,
    cache: Cache,
    namespace: str,
    actions: tuple[Action, ...],
    session: aiohttp.ClientSession,
) -> None:
    """Deletes and drains before creates, as KubeAI's plan.execute does; warm-ups (each a
    completion sent to one replica) run together, last."""
    first = [a for a in actions if isinstance(a, DeletePod | StartDrain)]
    then = [a for a in actions if not isinstance(a, DeletePod | StartDrain | WarmUp)]
    for action in (*first, *then):
        written = await asyncio.to_thread(_one, kube, namespace, action)
        if written is not None:
            cache.absorb(written)
    warmups = [a for a in actions if isinstance(a, WarmUp)]
    await asyncio.gather(*(_warm_up(kube, cache, namespace, a, session) for a in warmups))


async def _warm_up(
    kube: Kube, cache: Cache, namespace: str, action: WarmUp, session: aiohttp.ClientSession
) -> None:
    failure = await warm_up(session, action)
    if failure is None:
        labels, outcome = {names.LABEL_SERVING: "true"}, "passed"
        since = {names.ANNOTATION_SERVING_SINCE: timestamp(datetime.now(UTC))}
        took = (datetime.now(UTC) - action.created).total_seconds()
        metrics.ROLLOUT_STEP.labels(namespace=namespace, deployment=action.deployment).observe(took)
    else:
        labels, outcome, since = {}, f"failed: {failure}", {}
    annotations = {names.ANNOTATION_WARMUP: outcome, **since}
    written = await asyncio.to_thread(
        kube.patch_pod_metadata, namespace, action.pod, labels, annotations
    )
    if written is not None:
        cache.absorb(written)


def _one(kube: Kube, namespace: str, action: Action) -> Obj | None:
    """The object as the API answered the write (None: nothing to keep)."""
    if isinstance(action, CreatePod):
        return kube.create_pod(namespace, action.manifest)
    if isinstance(action, DeletePod):
        return kube.delete_pod(namespace, action.pod)
    if isinstance(action, StartDrain):
        now = timestamp(datetime.now(UTC))
        return kube.patch_pod_metadata(
            namespace,
            action.pod,
            {names.LABEL_SERVING: "false"},
            {names.ANNOTATION_DRAIN_STARTED: now},
        )
    if isinstance(action, EnsureObject):
        return kube.ensure(namespace, action.manifest, action.exists)
    if isinstance(action, AnnotatePod):
        return kube.patch_pod_metadata(namespace, action.pod, {}, action.annotations)
    return None
