"""How the cluster's own parts (scheduler, kubelets, controllers) reach the API objects.

They run on the emulator's event loop and use its object semantics directly, as
in-process components, instead of going through HTTP: the same rules apply (versions,
status subresource, finalizers, watch events for every outside client), at a fraction
of the cost, which is what lets 500 pods run on a small machine.
"""

import copy
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

from llamaops.sim.apiserver.errors import ApiError
from llamaops.sim.apiserver.objects import INTERNAL
from llamaops.sim.apiserver.resources import ResourceType
from llamaops.sim.apiserver.selectors import FieldSelector, LabelSelector, parse_field_selector
from llamaops.sim.apiserver.server import ApiServer
from llamaops.sim.apiserver.store import Watch
from llamaops.sim.clock import micro_timestamp, timestamp

Obj = dict[str, Any]
GROUPS = {
    "leases": ("coordination.k8s.io", "v1"),
    "endpointslices": ("discovery.k8s.io", "v1"),
    "poddisruptionbudgets": ("policy", "v1"),
}


class ClusterApi:
    """The emulator's objects, for the parts of the cluster that live beside it."""

    def __init__(self, server: ApiServer) -> None:
        self.server = server
        self.clock = server.clock

    def resource(self, plural: str) -> ResourceType:
        group, version = GROUPS.get(plural, ("", "v1"))
        found = self.server.registry.find(group, version, plural)
        if found is None:
            raise KeyError(plural)
        return found

    def get(self, plural: str, namespace: str, name: str) -> Obj | None:
        return self.server.store.get(self.resource(plural).key, namespace, name)

    def list(
        self,
        plural: str,
        namespace: str | None = None,
        labels: LabelSelector | None = None,
        fields: str | None = None,
    ) -> list[Obj]:
        selector = parse_field_selector(fields) if fields else None
        return self.server.store.list(self.resource(plural).key, namespace, labels, selector)

    def create(self, plural: str, namespace: str, body: Obj) -> Obj:
        return self.server.api.create(self.resource(plural), namespace, body)

    def update(
        self, plural: str, obj: Obj, change: Callable[[Obj], None], status: bool = False
    ) -> Obj | None:
        """Apply `change` to the latest copy of `obj` and write it (None if it is gone)."""
        meta = obj["metadata"]
        current = self.get(plural, meta.get("namespace", ""), meta["name"])
        if current is None or current["metadata"]["uid"] != meta["uid"]:
            return None
        new = copy.deepcopy(current)
        change(new)
        return self.server.api.commit_update(
            self.resource(plural), current, new, "status" if status else INTERNAL
        )

    def delete(self, plural: str, namespace: str, name: str, grace: int | None = None) -> None:
        options: dict[str, Any] = {} if grace is None else {"gracePeriodSeconds": grace}
        try:
            self.server.lifecycle.delete(self.resource(plural), namespace, name, options)
        except ApiError as error:
            if error.code != 404:
                raise

    def event(
        self,
        involved: Obj,
        reason: str,
        message: str,
        kind: str = "Normal",
        component: str = "kubelet",
    ) -> None:
        """Post a core/v1 Event about `involved`, as a component would."""
        meta = involved["metadata"]
        now = self.clock.now()
        namespace = meta.get("namespace") or "default"
        self.create(
            "events",
            namespace,
            {
                "metadata": {
                    "name": f"{meta['name']}.{uuid.uuid4().hex[:16]}",
                    "namespace": namespace,
                },
                "involvedObject": {
                    "kind": involved.get("kind", ""),
                    "name": meta["name"],
                    "namespace": meta.get("namespace", ""),
                    "uid": meta.get("uid", ""),
                    "apiVersion": involved.get("apiVersion", "v1"),
                    "resourceVersion": meta.get("resourceVersion", ""),
                },
                "reason": reason,
                "message": message,
                "type": kind,
                "source": {"component": component},
                "firstTimestamp": timestamp(now),
                "lastTimestamp": timestamp(now),
                "eventTime": micro_timestamp(now),
                "count": 1,
                "reportingComponent": component,
                "reportingInstance": component,
            },
        )

    async def watch(
        self, plural: str, fields: str | None = None, labels: LabelSelector | None = None
    ) -> AsyncIterator[tuple[str, Obj]]:
        """What exists (as ADDED), then every change, until the caller stops iterating."""
        resource = self.resource(plural)
        watch = Watch(
            resource.key,
            None,
            labels or LabelSelector(),
            parse_field_selector(fields) if fields else FieldSelector(),
        )
        store = self.server.store
        store.open_watch(watch, None)
        try:
            for obj in store.list(resource.key, None, watch.labels, watch.fields):
                yield "ADDED", obj
            while True:
                event = await watch.queue.get()
                if event is None or event[0] == "ERROR":
                    return
                yield event
        finally:
            store.close_watch(watch)
