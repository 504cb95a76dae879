"""A small, ordinary kopf operator for a test `Widget` kind (group test.llamaops.io).

test_kopf.py runs it with an unmodified `kopf run` against the API emulator, so that
every request kopf makes goes over HTTP exactly as it would to a real cluster. Each
handler leaves an effect the test can read back from the API:

- create: status written both by return value and by `patch.status`, a `WidgetCreated`
  event, and a child ConfigMap adopted by the Widget;
- update of `spec.size`: the new size recorded in status;
- delete (behind kopf's finalizer): the deletion recorded on the ledger ConfigMap while
  the Widget still exists;
- timer: a tick counter in status; daemon: a heartbeat counter in status, written with
  the kubernetes client rather than kopf (neither runs on Widgets labelled QUIET, so that
  only the test writes to those once they are created);
- ConfigMaps labelled WATCHED, a built-in kind: an event on create, and the deletion
  recorded on the ledger (behind kopf's finalizer).
"""

import asyncio
import logging
import os
from typing import Any

import kopf
import kubernetes

# kopf puts this file's directory on sys.path before it loads it.
from widget_kind import (
    CHUNK_SIZE,
    CREATED,
    GROUP,
    INITIAL_STREAMING,
    LEDGER,
    PLURAL,
    QUIET,
    SEEN,
    VERSION,
    WATCHED,
    child_name,
    deletion_key,
)

TIMER_INTERVAL = 0.5
HEARTBEAT_INTERVAL = 0.2


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
    # If a PATCH response's resourceVersion never comes back in a watch event, kopf holds
    # every later change handler for this long: far past the test's waits, so it shows.
    settings.persistence.consistency_timeout = 60
    # Watch requests of a second, so that every test also resumes watches from the last
    # resourceVersion (or bookmark) a few times, as kopf does against a real cluster.
    settings.watching.server_timeout = 1
    settings.watching.client_timeout = 5
    settings.watching.connect_timeout = 5
    settings.watching.initial_streaming = os.environ.get(INITIAL_STREAMING) == "1"
    settings.watching.chunk_size = int(os.environ.get(CHUNK_SIZE) or 0) or None
    settings.posting.level = logging.INFO
    # The handlers' own client reads the same KUBECONFIG as kopf's fallback login.
    kubernetes.config.load_kube_config()


@kopf.on.create(GROUP, VERSION, PLURAL)
def create_widget(
    spec: kopf.Spec, name: str, namespace: str, body: kopf.Body, patch: kopf.Patch, **_: Any
) -> dict[str, Any]:
    child: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": child_name(name)},
        "data": {"size": str(spec.get("size", 0))},
    }
    kopf.adopt(child)
    kubernetes.client.CoreV1Api().create_namespaced_config_map(namespace, child)
    patch.status["phase"] = "Created"
    kopf.info(body, reason=CREATED, message=f"Created ConfigMap {child_name(name)}")
    return {"child": child_name(name)}


@kopf.on.update(GROUP, VERSION, PLURAL, field="spec.size")
def resize_widget(new: Any, patch: kopf.Patch, **_: Any) -> dict[str, Any]:
    patch.status["observedSize"] = new
    return {"size": new}


@kopf.on.delete(GROUP, VERSION, PLURAL)
def record_deletion(name: str, namespace: str, meta: kopf.Meta, **_: Any) -> None:
    _record_on_ledger(namespace, deletion_key("Widget", name), meta)


@kopf.timer(GROUP, VERSION, PLURAL, interval=TIMER_INTERVAL, labels={QUIET: kopf.ABSENT})
def tick(status: kopf.Status, patch: kopf.Patch, **_: Any) -> None:
    patch.status["ticks"] = int(status.get("ticks", 0)) + 1


@kopf.daemon(GROUP, VERSION, PLURAL, labels={QUIET: kopf.ABSENT})
async def heartbeat(name: str, namespace: str, stopped: kopf.DaemonStopped, **_: Any) -> None:
    beats = 0
    while not stopped:
        beats += 1
        await asyncio.to_thread(_write_heartbeat, namespace, name, beats)
        # Not asyncio.sleep: kopf would wait for it before releasing the finalizer.
        await stopped.wait(HEARTBEAT_INTERVAL)


def _write_heartbeat(namespace: str, name: str, beats: int) -> None:
    kubernetes.client.CustomObjectsApi().patch_namespaced_custom_object_status(
        GROUP, VERSION, namespace, PLURAL, name, {"status": {"heartbeats": beats}}
    )


@kopf.on.create("configmaps", labels=WATCHED)
def greet_config_map(name: str, body: kopf.Body, **_: Any) -> None:
    kopf.info(body, reason=SEEN, message=f"Saw ConfigMap {name}")


@kopf.on.delete("configmaps", labels=WATCHED)
def record_config_map_deletion(name: str, namespace: str, meta: kopf.Meta, **_: Any) -> None:
    _record_on_ledger(namespace, deletion_key("ConfigMap", name), meta)


def _record_on_ledger(namespace: str, key: str, meta: kopf.Meta) -> None:
    # The deletionTimestamp proves the object was still there, held by kopf's finalizer.
    annotations = {key: str(meta.get("deletionTimestamp"))}
    kubernetes.client.CoreV1Api().patch_namespaced_config_map(
        LEDGER, namespace, {"metadata": {"annotations": annotations}}
    )
