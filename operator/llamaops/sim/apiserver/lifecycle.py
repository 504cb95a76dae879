"""Deletion and what follows it: finalizers, garbage collection of owned objects
(background, foreground, orphan), namespaces emptied before they go, and CRDs that take
their custom resources with them. Like the real controllers, the follow-up work runs
just after the request that caused it, not inside it.
"""

import asyncio
import contextlib
import copy
from collections.abc import Callable
from typing import Any

from llamaops.sim.apiserver.errors import conflict
from llamaops.sim.apiserver.meta import finalizers, is_deleting, owner_uids
from llamaops.sim.apiserver.objects import INTERNAL, Objects
from llamaops.sim.apiserver.registry import custom_resource_types
from llamaops.sim.apiserver.resources import ResourceType
from llamaops.sim.apiserver.store import Obj

FOREGROUND = "foregroundDeletion"
CRD_CLEANUP = "customresourcecleanup.apiextensions.k8s.io"
NAMESPACE_FINALIZER = "kubernetes"
DEFAULT_POD_GRACE = 30


class Lifecycle:
    """Deletes objects the way the API server and its controllers do."""

    def __init__(self, api: Objects) -> None:
        self.api = api
        self._pending = False
        api.listeners.append(self._on_change)

    # --- the DELETE verb ---------------------------------------------------------------
    def delete(
        self, resource: ResourceType, namespace: str, name: str, options: dict[str, Any]
    ) -> tuple[Obj, bool]:
        """Delete or start deleting; returns the object and whether it is gone already."""
        obj = self.api.get(resource, namespace, name)
        self._check_preconditions(resource, obj, options.get("preconditions") or {})
        if "All" in (options.get("dryRun") or []):
            return obj, False
        policy = options.get("propagationPolicy") or "Background"
        grace = options.get("gracePeriodSeconds")
        if policy == "Orphan":
            self._orphan_dependents(obj["metadata"]["uid"])
        extra = [FOREGROUND] if policy == "Foreground" else []
        if resource.kind == "CustomResourceDefinition" and resource.builtin:
            extra.append(CRD_CLEANUP)
        if resource.kind == "Namespace" and resource.builtin:
            return self._start_namespace_deletion(resource, obj), False
        if resource.kind == "Pod" and resource.builtin and self._graceful(obj, grace):
            pod_grace = grace if grace is not None else _pod_grace(obj)
            return self.api.mark_deleting(resource, obj, int(pod_grace), extra), False
        if finalizers(obj) or extra:
            marked = self.api.mark_deleting(resource, obj, 0, extra)
            self._schedule()
            return marked, False
        return self.api.remove(resource, obj), True

    def delete_collection(
        self, resource: ResourceType, objects: list[Obj], options: dict[str, Any]
    ) -> None:
        for obj in objects:
            meta = obj["metadata"]
            if (
                self.api.store.get(resource.key, meta.get("namespace", ""), meta["name"])
                is not None
            ):
                self.delete(resource, meta.get("namespace", ""), meta["name"], options)

    # --- follow-up work ----------------------------------------------------------------
    def _on_change(self, resource: ResourceType, old: Obj | None, new: Obj | None) -> None:
        if resource.kind == "CustomResourceDefinition" and resource.builtin:
            self._sync_crd(old, new)
        if new is None or is_deleting(new):
            self._schedule()

    def _schedule(self) -> None:
        if self._pending:
            return
        self._pending = True
        _soon(self._collect)

    def _collect(self) -> None:
        """One pass of the garbage collector and the namespace and CRD cleaners."""
        self._pending = False
        live = self._all_objects()
        uids = {obj["metadata"]["uid"] for _, obj in live}
        for resource, obj in live:
            self._collect_one(resource, obj, uids, live)

    def _collect_one(
        self, resource: ResourceType, obj: Obj, uids: set[str], live: list[tuple[ResourceType, Obj]]
    ) -> None:
        meta = obj["metadata"]
        current = self.api.store.get(resource.key, meta.get("namespace", ""), meta["name"])
        if current is None or current["metadata"]["uid"] != meta["uid"]:
            return
        owners = owner_uids(current)
        if owners and not any(uid in uids for uid in owners) and not is_deleting(current):
            self.delete(resource, meta.get("namespace", ""), meta["name"], {})
            return
        if is_deleting(current):
            self._finish_deleting(resource, current, live)

    def _finish_deleting(
        self, resource: ResourceType, obj: Obj, live: list[tuple[ResourceType, Obj]]
    ) -> None:
        uid = obj["metadata"]["uid"]
        dependents = [(r, o) for r, o in live if uid in owner_uids(o)]
        if FOREGROUND in finalizers(obj):
            for dep_resource, dep in dependents:
                if not is_deleting(dep):
                    self.delete(
                        dep_resource,
                        dep["metadata"].get("namespace", ""),
                        dep["metadata"]["name"],
                        {},
                    )
            if not any(self._exists(r, o) for r, o in dependents):
                self._drop_finalizer(resource, obj, FOREGROUND)
        if resource.builtin and resource.kind == "Namespace":
            self._empty_namespace(resource, obj, live)
        if (
            resource.builtin
            and resource.kind == "CustomResourceDefinition"
            and CRD_CLEANUP in finalizers(obj)
        ):
            self._empty_crd(resource, obj)

    def _start_namespace_deletion(self, resource: ResourceType, ns: Obj) -> Obj:
        marked = self.api.mark_deleting(resource, ns, 0, [])
        if (marked.get("status") or {}).get("phase") != "Terminating":
            terminating = copy.deepcopy(marked)
            terminating.setdefault("status", {})["phase"] = "Terminating"
            marked = self.api.commit_update(resource, marked, terminating, "status")
        self._schedule()
        return marked

    def _empty_namespace(
        self, resource: ResourceType, ns: Obj, live: list[tuple[ResourceType, Obj]]
    ) -> None:
        name = ns["metadata"]["name"]
        contents = [
            (r, o) for r, o in live if r.namespaced and o["metadata"].get("namespace") == name
        ]
        for content_resource, obj in contents:
            if not is_deleting(obj):
                self.delete(
                    content_resource, name, obj["metadata"]["name"], {"gracePeriodSeconds": 0}
                )
        if any(self._exists(r, o) for r, o in contents):
            _later(self._schedule)
            return
        spec_finalizers = (ns.get("spec") or {}).get("finalizers") or []
        if NAMESPACE_FINALIZER in spec_finalizers:  # what the namespace controller's /finalize does
            finalized = copy.deepcopy(ns)
            finalized["spec"]["finalizers"] = [
                f for f in spec_finalizers if f != NAMESPACE_FINALIZER
            ]
            self.api.commit_update(resource, ns, finalized, INTERNAL)
        elif not finalizers(ns):
            self.api.remove(resource, ns)

    def _empty_crd(self, resource: ResourceType, crd: Obj) -> None:
        group, plural = crd["spec"]["group"], crd["spec"]["names"]["plural"]
        types = custom_resource_types(crd)
        remaining = self.api.store.list((group, plural))
        for obj in remaining:
            if not is_deleting(obj) and types:
                self.delete(
                    types[0], obj["metadata"].get("namespace", ""), obj["metadata"]["name"], {}
                )
        if self.api.store.list((group, plural)):
            _later(self._schedule)
            return
        self._drop_finalizer(resource, crd, CRD_CLEANUP)

    def _sync_crd(self, old: Obj | None, new: Obj | None) -> None:
        registry = self.api.registry
        if old is not None:
            registry.remove_group_resource(old["spec"]["group"], old["spec"]["names"]["plural"])
        if new is not None:
            for custom in custom_resource_types(new):
                registry.add(custom)
        elif old is not None:
            self.api.store.drop_resource((old["spec"]["group"], old["spec"]["names"]["plural"]))

    # --- helpers -----------------------------------------------------------------------
    def _orphan_dependents(self, uid: str) -> None:
        for resource, obj in self._all_objects():
            refs = obj["metadata"].get("ownerReferences") or []
            if any(ref.get("uid") == uid for ref in refs):
                new = copy.deepcopy(obj)
                new["metadata"]["ownerReferences"] = [r for r in refs if r.get("uid") != uid]
                self.api.commit_update(resource, obj, new)

    def _drop_finalizer(self, resource: ResourceType, obj: Obj, finalizer: str) -> None:
        new = copy.deepcopy(obj)
        new["metadata"]["finalizers"] = [f for f in finalizers(obj) if f != finalizer]
        self.api.commit_update(resource, obj, new)

    def _exists(self, resource: ResourceType, obj: Obj) -> bool:
        meta = obj["metadata"]
        current = self.api.store.get(resource.key, meta.get("namespace", ""), meta["name"])
        return current is not None and current["metadata"]["uid"] == meta["uid"]

    def _all_objects(self) -> list[tuple[ResourceType, Obj]]:
        seen: dict[tuple[str, str], ResourceType] = {}
        for group, versions in [("", ["v1"]), *self.api.registry.group_versions().items()]:
            for version in versions:
                for resource in self.api.registry.in_group_version(group, version):
                    seen.setdefault(resource.key, resource)
        return [(r, obj) for r in seen.values() for obj in self.api.store.list(r.key)]

    def _graceful(self, pod: Obj, grace: Any) -> bool:
        return bool(pod.get("spec", {}).get("nodeName")) and grace != 0

    def _check_preconditions(
        self, resource: ResourceType, obj: Obj, preconditions: dict[str, Any]
    ) -> None:
        meta = obj["metadata"]
        for field in ("uid", "resourceVersion"):
            wanted = preconditions.get(field)
            if wanted and wanted != meta.get(field):
                actual = meta.get(field)
                why = f"Precondition failed: {field}: {wanted}, {field} in object meta: {actual}"
                raise conflict(resource, meta["name"], why)


def _pod_grace(pod: Obj) -> int:
    return int(pod.get("spec", {}).get("terminationGracePeriodSeconds", DEFAULT_POD_GRACE))


def _soon(callback: Callable[[], None]) -> None:
    try:
        asyncio.get_running_loop().call_soon(callback)
    except RuntimeError:  # no loop (a unit test driving the objects directly): run now
        callback()


def _later(callback: Callable[[], None]) -> None:
    with contextlib.suppress(RuntimeError):  # no loop: nothing runs later
        asyncio.get_running_loop().call_later(0.05, callback)
