"""Apply: carry out a plan's actions, idempotently (AlreadyExists and NotFound are success)."""

import asyncio
from datetime import UTC, datetime

from llamaops.kube.client import Kube
from llamaops.reconcile import names
from llamaops.reconcile.plan_types import Action, CreatePod, DeletePod, EnsureObject, StartDrain


async def apply(kube: Kube, namespace: str, actions: tuple[Action, ...]) -> None:
    """Deletes and drains before creates, as KubeAI's plan.execute does."""
    first = [a for a in actions if isinstance(a, DeletePod | StartDrain)]
    then = [a for a in actions if not isinstance(a, DeletePod | StartDrain)]
    for action in (*first, *then):
        await asyncio.to_thread(_one, kube, namespace, action)


def _one(kube: Kube, namespace: str, action: Action) -> None:
    if isinstance(action, CreatePod):
        kube.create_pod(namespace, action.manifest)
    elif isinstance(action, DeletePod):
        kube.delete_pod(namespace, action.pod)
    elif isinstance(action, StartDrain):
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        kube.patch_pod_metadata(
            namespace,
            action.pod,
            {names.LABEL_SERVING: "false"},
            {names.ANNOTATION_DRAIN_STARTED: now},
        )
    elif isinstance(action, EnsureObject):
        kube.ensure(namespace, action.manifest)
