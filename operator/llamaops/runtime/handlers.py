"""kopf handlers: every trigger runs the same reconcile; deletion drains first.

Creation, update, resume, a periodic resync (`resync_every`) and changes of owned pods
(the cache's pod informer) all call `Reconciler.reconcile`; nothing depends on which one
fired. Handler
progress is kept in annotations, never in status, which belongs to the reconcile's report.
kopf's watches of LlamaDeployments, and of the Services and PodDisruptionBudgets llamaops
renders, feed the cache (`on.event`), so a reconcile reads them from memory.
"""

import asyncio
import contextvars
import logging
import os
from typing import Any

import kopf

from llamaops.api.resource import GROUP, PLURAL, VERSION
from llamaops.kube.client import operator_client
from llamaops.reconcile import names
from llamaops.reconcile.plan_types import DeletePod, StartDrain
from llamaops.runtime import autoscaler, metrics
from llamaops.runtime.apply import apply
from llamaops.runtime.observe import observe
from llamaops.runtime.reconciler import Reconciler

log = logging.getLogger("llamaops")
DELETE_POLL_SECONDS = 1.0
state: dict[str, Any] = {}


def reconciler() -> Reconciler:
    found: Reconciler = state["reconciler"]
    return found


@kopf.on.startup()
async def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(
        prefix="serving.llamaops.io"
    )
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix="serving.llamaops.io", key="last-handled-configuration"
    )
    settings.persistence.finalizer = names.FINALIZER
    settings.watching.server_timeout = 300
    settings.posting.reporting_component = names.MANAGER  # Events say "llamaops", not "kopf"
    kube = operator_client(os.environ.get("KUBECONFIG"))
    kube.on_error = metrics.api_error
    state["reconciler"] = Reconciler(kube)
    reconciler().watch()


@kopf.on.cleanup()
async def close(**_: Any) -> None:
    if "reconciler" in state:
        await reconciler().close()


@kopf.on.login()
def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
    """In-cluster credentials when running in a pod, else the kubeconfig."""
    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        return kopf.login_with_service_account(**kwargs)
    return kopf.login_with_kubeconfig(**kwargs)


@kopf.on.resume(GROUP, VERSION, PLURAL)
@kopf.on.create(GROUP, VERSION, PLURAL)
@kopf.on.update(GROUP, VERSION, PLURAL)
async def changed(*, namespace: str | None, name: str, **_: Any) -> None:
    await reconciler().reconcile(namespace or "default", name)


def resync_every(seconds: float) -> None:
    """Reconcile every deployment every `seconds` as well (kopf's timer; see
    `llamaops run --resync-seconds`)."""
    kopf.timer(GROUP, VERSION, PLURAL, interval=seconds)(resync)


async def resync(*, namespace: str | None, name: str, meta: Any, **_: Any) -> None:
    if not meta.get("deletionTimestamp"):
        await reconciler().reconcile(namespace or "default", name)


@kopf.daemon(
    GROUP,
    VERSION,
    PLURAL,
    when=lambda spec, **_: autoscaler.enabled(spec),
    cancellation_backoff=3.0,  # time to finish a tick and say goodbye (forget) first
    cancellation_timeout=5.0,
)
async def autoscale(
    *,
    namespace: str | None,
    name: str,
    spec: Any,
    body: Any,
    stopped: kopf.DaemonStopped,
    **_: Any,
) -> None:
    """The autoscaler's own loop, one per LlamaDeployment with autoscaling on; kopf stops
    it when autoscaling is turned off or the object is deleted. A tick that fails is
    logged, and said once in a Warning Event (again only when the error changes)."""
    namespace = namespace or "default"
    failing: str | None = None
    while not stopped:
        try:
            await autoscaler.tick(
                reconciler().kube, reconciler().cache, reconciler().scrapes(), namespace, name
            )
            failing = None
        except Exception as error:
            log.exception("Autoscaling of LlamaDeployment %s/%s failed", namespace, name)
            if str(error) != failing:
                failing = str(error)
                message = f"Autoscaling failed; retrying every tick: {failing}"[:1000]
                kopf.event(body, type="Warning", reason="AutoscalingFailed", message=message)
        await stopped.wait(autoscaler.interval_of(spec))
    reason = stopped.reason or kopf.DaemonStoppingReason(0)
    if kopf.DaemonStoppingReason.FILTERS_MISMATCH in reason:
        await autoscaler.forget(
            reconciler().kube, reconciler().cache, namespace, name
        )  # turned off
    elif kopf.DaemonStoppingReason.RESOURCE_DELETED in reason:
        metrics.forget_autoscaler(namespace, name)


@kopf.on.event(GROUP, VERSION, PLURAL)
@kopf.on.event("v1", "services")
@kopf.on.event("policy", "v1", "poddisruptionbudgets")
async def seen(*, event: Any, **_: Any) -> None:
    """Every version kopf's watches see of a LlamaDeployment, or of a Service or budget
    llamaops renders, goes into the cache (before kopf's other handlers of the same event
    run). A change to one of those children wakes its deployment's reconcile, which puts
    back what someone changed. (No label filter: a label someone removed is such a change.)"""
    obj = event.get("object")
    if not isinstance(obj, dict) or "reconciler" not in state:
        return
    found = reconciler()
    meta = obj["metadata"]
    namespace, name = meta.get("namespace", ""), meta["name"]
    ours = obj.get("kind") == "LlamaDeployment"
    before = _restarted_at(found.cache.get("LlamaDeployment", namespace, name) if ours else None)
    if ours:
        if found.kopf_context is None:
            found.kopf_context = contextvars.copy_context()
    elif not found.cache.renders(obj):
        return  # not ours, or its deployment is gone (the cache forgot its children then)
    if event.get("type") == "DELETED":
        found.cache.deleted(obj)
    else:
        found.cache.absorb(obj)
    # kopf's update handler sees spec changes, not llamaops' own annotations: the restart
    # annotation (`kubectl annotate llama NAME serving.llamaops.io/restartedAt=...`) is
    # seen here.
    if not ours or before != _restarted_at(obj):
        found.soon(namespace, name, 0.2)


def _restarted_at(deployment: Any) -> str | None:
    if not deployment:
        return None
    found: str | None = (deployment["metadata"].get("annotations") or {}).get(
        names.ANNOTATION_RESTARTED_AT
    )
    return found


@kopf.on.delete(GROUP, VERSION, PLURAL)
async def deleting(*, namespace: str | None, name: str, spec: Any, body: Any, **_: Any) -> None:
    """Drain every replica (bounded by the drain timeout), then delete them."""
    namespace = namespace or "default"
    kube, cache = reconciler().kube, reconciler().cache
    drain = float(((spec.get("rollout") or {}).get("drainTimeoutSeconds")) or 120)
    await cache.synced()
    pods = cache.replica_pods(namespace, name)
    why = f"Deleting {name}"
    drains = tuple(StartDrain(p["metadata"]["name"], why) for p in pods)
    await apply(kube, cache, namespace, drains, reconciler().http())
    kopf.info(body, reason="Draining", message=f"Draining {len(pods)} replicas before deletion")
    deadline = asyncio.get_running_loop().time() + drain
    while asyncio.get_running_loop().time() < deadline and await _busy(body):
        await asyncio.sleep(DELETE_POLL_SECONDS)
    async with reconciler().lock(namespace, name):  # no reconcile may create pods meanwhile
        pods = cache.replica_pods(namespace, name)
        deletes = tuple(
            DeletePod(p["metadata"]["name"], why)
            for p in pods
            if not p["metadata"].get("deletionTimestamp")
        )
        await apply(kube, cache, namespace, deletes, reconciler().http())
    kopf.info(body, reason="Deleted", message=f"Deleted the replicas of {name}")
    metrics.forget_deployment(namespace, name)


async def _busy(body: Any) -> bool:
    """Whether any replica still has requests running or waiting."""
    found = reconciler()
    observed = await observe(found.cache, found.kube, dict(body), found.scrapes())
    return any((p.in_flight or 0) > 0 for p in observed.pods if not p.terminating)
