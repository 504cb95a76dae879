"""Apply: carry out a plan's actions, idempotently (AlreadyExists and NotFound are success)."""

import asyncio
from datetime import UTC, datetime

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
from llamaops.runtime.warmup import warm_up


async def apply(
    kube: Kube, namespace: str, actions: tuple[Action, ...], session: aiohttp.ClientSession
) -> None:
    """Deletes and drains before creates, as KubeAI's plan.execute does; warm-ups (each a
    completion sent to one replica) run together, last."""
    first = [a for a in actions if isinstance(a, DeletePod | StartDrain)]
    then = [a for a in actions if not isinstance(a, DeletePod | StartDrain | WarmUp)]
    for action in (*first, *then):
        await asyncio.to_thread(_one, kube, namespace, action)
    warmups = [a for a in actions if isinstance(a, WarmUp)]
    await asyncio.gather(*(_warm_up(kube, namespace, a, session) for a in warmups))


async def _warm_up(
    kube: Kube, namespace: str, action: WarmUp, session: aiohttp.ClientSession
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
    await asyncio.to_thread(kube.patch_pod_metadata, namespace, action.pod, labels, annotations)


def _one(kube: Kube, namespace: str, action: Action) -> None:
    if isinstance(action, CreatePod):
        kube.create_pod(namespace, action.manifest)
    elif isinstance(action, DeletePod):
        kube.delete_pod(namespace, action.pod)
    elif isinstance(action, StartDrain):
        now = timestamp(datetime.now(UTC))
        kube.patch_pod_metadata(
            namespace,
            action.pod,
            {names.LABEL_SERVING: "false"},
            {names.ANNOTATION_DRAIN_STARTED: now},
        )
    elif isinstance(action, EnsureObject):
        kube.ensure(namespace, action.manifest)
    elif isinstance(action, AnnotatePod):
        kube.patch_pod_metadata(namespace, action.pod, {}, action.annotations)
