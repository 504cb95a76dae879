"""kopf handlers: every trigger runs the same reconcile; deletion drains first.

Creation, update, resume, a periodic timer and changes of owned pods all call
`Reconciler.reconcile`; nothing depends on which one fired. Handler progress is kept in
annotations, never in status, which belongs to the reconcile's report.
"""

import asyncio
import logging
import os
from typing import Any

import aiohttp
import kopf

from llamaops.api.resource import GROUP, PLURAL, VERSION
from llamaops.kube.client import Kube, operator_client
from llamaops.reconcile import names
from llamaops.reconcile.plan_types import DeletePod, StartDrain
from llamaops.runtime import autoscaler, metrics
from llamaops.runtime.apply import apply
from llamaops.runtime.observe import observe
from llamaops.runtime.reconciler import Reconciler

log = logging.getLogger("llamaops")
RESYNC_SECONDS = 15.0
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


@kopf.timer(GROUP, VERSION, PLURAL, interval=RESYNC_SECONDS)
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
            await autoscaler.tick(reconciler().kube, reconciler().http(), namespace, name)
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
        await autoscaler.forget(reconciler().kube, namespace, name)  # autoscaling turned off
    elif kopf.DaemonStoppingReason.RESOURCE_DELETED in reason:
        metrics.forget_autoscaler(namespace, name)


@kopf.on.event("v1", "pods", labels={names.LABEL_MANAGED_BY: names.MANAGER})
async def replica_changed(*, namespace: str | None, labels: Any, **_: Any) -> None:
    owner = labels.get(names.LABEL_DEPLOYMENT)
    if owner and namespace:
        reconciler().soon(namespace, owner, 0.2)


@kopf.on.delete(GROUP, VERSION, PLURAL)
async def deleting(*, namespace: str | None, name: str, spec: Any, body: Any, **_: Any) -> None:
    """Drain every replica (bounded by the drain timeout), then delete them."""
    namespace = namespace or "default"
    kube = reconciler().kube
    drain = float(((spec.get("rollout") or {}).get("drainTimeoutSeconds")) or 120)
    selector = names.selector_string(name)
    pods = await asyncio.to_thread(kube.list_pods, namespace, selector)
    why = f"Deleting {name}"
    drains = tuple(StartDrain(p["metadata"]["name"], why) for p in pods)
    await apply(kube, namespace, drains, reconciler().http())
    kopf.info(body, reason="Draining", message=f"Draining {len(pods)} replicas before deletion")
    deadline = asyncio.get_running_loop().time() + drain
    async with aiohttp.ClientSession() as session:
        while asyncio.get_running_loop().time() < deadline and await _busy(kube, body, session):
            await asyncio.sleep(DELETE_POLL_SECONDS)
    async with reconciler().lock(namespace, name):  # no reconcile may create pods meanwhile
        pods = await asyncio.to_thread(kube.list_pods, namespace, selector)
        deletes = tuple(DeletePod(p["metadata"]["name"], why) for p in pods)
        await apply(kube, namespace, deletes, reconciler().http())
    kopf.info(body, reason="Deleted", message=f"Deleted the replicas of {name}")
    metrics.forget_deployment(namespace, name)


async def _busy(kube: Kube, body: Any, session: aiohttp.ClientSession) -> bool:
    """Whether any replica still has requests running or waiting."""
    observed = await observe(kube, dict(body), session)
    return any((p.in_flight or 0) > 0 for p in observed.pods if not p.terminating)
