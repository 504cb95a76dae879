"""The API's object semantics: create, update, patch and delete with Kubernetes' rules.

- resourceVersion: one global counter; a write that changes nothing does not bump it.
- generation: set to 1 on create and bumped by changes outside metadata (and outside
  status when status is a subresource), and when deletion starts.
- status subresource: the main endpoint ignores status; `/status` changes only status.
- finalizers: DELETE marks deletionTimestamp; the object goes when the last one is removed,
  and no new finalizer may be added meanwhile.
- custom resources are defaulted, pruned and validated (schema and CEL) on every write.
Deletion, garbage collection and the lifecycles of namespaces and CRDs live in lifecycle.py.
"""

import copy
import datetime
import json
import random
import uuid
from collections.abc import Callable
from typing import Any

import yaml

from llamaops.schema import admit, unknown_fields
from llamaops.sim.apiserver import kinds
from llamaops.sim.apiserver.errors import (
    ApiError,
    already_exists,
    bad_request,
    conflict,
    forbidden,
    invalid,
    namespace_not_found,
    not_found,
)
from llamaops.sim.apiserver.meta import (
    SERVER_MANAGED,
    comparable,
    finalizers,
    generated_name,
    is_deleting,
    with_type,
    without_server_fields,
)
from llamaops.sim.apiserver.options import WriteOptions
from llamaops.sim.apiserver.patches import APPLY, PatchError, patch_object, server_side_apply
from llamaops.sim.apiserver.registry import Registry
from llamaops.sim.apiserver.resources import ResourceType
from llamaops.sim.apiserver.store import Obj, Store
from llamaops.sim.clock import Clock, timestamp

Listener = Callable[[ResourceType, Obj | None, Obj | None], None]
NO_NEW_FINALIZERS = (
    "Forbidden: no new finalizers can be added if the object is being deleted, "
    "found new finalizers "
)
MISMATCHED_NAMESPACE = (
    "the namespace of the provided object does not match the namespace sent on the request"
)
# The server's own writes (a binding, say) may change spec and status at once.
INTERNAL = "internal"


class Objects:
    """Reads and writes with Kubernetes' semantics, over a Store."""

    def __init__(self, store: Store, registry: Registry, clock: Clock, seed: int = 0) -> None:
        self.store = store
        self.registry = registry
        self.clock = clock
        self.rng = random.Random(seed)
        self.state = kinds.ServerState()
        self.listeners: list[Listener] = []

    # --- reads -------------------------------------------------------------------------
    def get(self, resource: ResourceType, namespace: str, name: str) -> Obj:
        obj = self.store.get(resource.key, namespace, name)
        if obj is None:
            raise not_found(resource, name)
        return obj

    # --- create ------------------------------------------------------------------------
    def create(
        self, resource: ResourceType, namespace: str, body: Obj, options: WriteOptions | None = None
    ) -> Obj:
        options = options or WriteOptions()
        obj = self._typed_body(resource, body)
        meta = obj.setdefault("metadata", {})
        self._check_namespace(resource, namespace, meta)
        if not meta.get("name"):
            if not meta.get("generateName"):
                raise invalid(
                    resource,
                    "",
                    [("metadata.name", "Required value: name or generateName is required")],
                )
            meta["name"] = self._free_name(resource, namespace, meta["generateName"])
        if self.store.get(resource.key, namespace, meta["name"]) is not None:
            raise already_exists(resource, meta["name"])
        for field in SERVER_MANAGED:
            meta.pop(field, None)
        meta["uid"] = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        meta["creationTimestamp"] = timestamp(self.clock.now())
        if resource.tracks_generation:
            meta["generation"] = 1
        obj = kinds.prepare_create(resource, obj, self)
        obj = self._admit(resource, obj, None, options)
        if options.dry_run:
            return obj
        created = self.store.write(resource.key, obj, None)
        self._notify(resource, None, created)
        return created

    # --- update and patch --------------------------------------------------------------
    def replace(
        self,
        resource: ResourceType,
        namespace: str,
        name: str,
        body: Obj,
        *,
        subresource: str | None = None,
        options: WriteOptions | None = None,
    ) -> Obj:
        old = self.get(resource, namespace, name)
        new = self._typed_body(resource, body)
        self._check_identity(resource, name, namespace, new)
        return self.commit_update(resource, old, new, subresource, options)

    def patch(
        self,
        resource: ResourceType,
        namespace: str,
        name: str,
        content_type: str,
        raw: bytes,
        *,
        subresource: str | None = None,
        options: WriteOptions | None = None,
    ) -> Obj:
        old = self.store.get(resource.key, namespace, name)
        if old is None:
            if content_type.split(";", 1)[0].strip() == APPLY:
                return self.create(
                    resource,
                    namespace,
                    server_side_apply(None, _load(raw), builtin=resource.builtin),
                    options,
                )
            raise not_found(resource, name)
        try:
            new = patch_object(content_type, old, raw, builtin=resource.builtin)
        except PatchError as error:
            raise ApiError(error.code, error.reason, error.message) from None
        self._check_identity(resource, name, namespace, new)
        return self.commit_update(resource, old, with_type(resource, new), subresource, options)

    def commit_update(
        self,
        resource: ResourceType,
        old: Obj,
        new: Obj,
        subresource: str | None = None,
        options: WriteOptions | None = None,
    ) -> Obj:
        """The checks every update shares, then the write (or nothing, for a no-op)."""
        options = options or WriteOptions()
        name = old["metadata"]["name"]
        wanted_rv = new.get("metadata", {}).get("resourceVersion")
        if wanted_rv and wanted_rv != old["metadata"]["resourceVersion"]:
            raise conflict(resource, name)
        new = self._merge_server_fields(resource, old, new, subresource)
        added = set(finalizers(new)) - set(finalizers(old))
        if is_deleting(old) and added:
            raise invalid(
                resource,
                name,
                [("metadata.finalizers", NO_NEW_FINALIZERS + str(sorted(added)))],
            )
        new = self._admit(resource, new, old, options)
        if resource.tracks_generation and without_server_fields(
            new, resource.status_is_subresource
        ) != without_server_fields(old, resource.status_is_subresource):
            new["metadata"]["generation"] = int(old["metadata"].get("generation", 1)) + 1
        if comparable(new) == comparable(old):
            return old
        if options.dry_run:
            return new
        if is_deleting(old) and not kinds.holds_removal(resource, new):
            # The last finalizer went: the object is deleted without a last write, and the
            # DELETED event shows it as last stored (finalizer included), as etcd reports it.
            gone = self.remove(resource, old)
            new["metadata"]["resourceVersion"] = gone["metadata"]["resourceVersion"]
            return new
        written = self.store.write(resource.key, new, old)
        self._notify(resource, old, written)
        if is_deleting(written) and not kinds.holds_removal(resource, written):
            self.remove(resource, written)
        return written

    # --- removal (deletion policy is in lifecycle.py) -----------------------------------
    def remove(self, resource: ResourceType, obj: Obj) -> Obj:
        gone = self.store.remove(resource.key, obj)
        self._notify(resource, obj, None)
        return gone

    def mark_deleting(
        self, resource: ResourceType, obj: Obj, grace: int, extra_finalizers: list[str]
    ) -> Obj:
        new = copy.deepcopy(obj)
        meta = new["metadata"]
        if not meta.get("deletionTimestamp"):
            # As kube-apiserver: the time by which the object should be gone.
            deadline = self.clock.now() + datetime.timedelta(seconds=grace)
            meta["deletionTimestamp"] = timestamp(deadline)
            meta["deletionGracePeriodSeconds"] = grace
            if resource.tracks_generation:
                meta["generation"] = int(meta.get("generation", 1)) + 1
        for finalizer in extra_finalizers:
            if finalizer not in finalizers(new):
                meta.setdefault("finalizers", []).append(finalizer)
        if comparable(new) == comparable(obj):
            return obj
        written = self.store.write(resource.key, new, obj)
        self._notify(resource, obj, written)
        return written

    # --- internals ---------------------------------------------------------------------
    def _typed_body(self, resource: ResourceType, body: Any) -> Obj:
        if not isinstance(body, dict):
            raise bad_request("the request body must be a JSON object")
        api_version, kind = body.get("apiVersion"), body.get("kind")
        if (api_version and api_version != resource.api_version) or (
            kind and kind != resource.kind
        ):
            raise bad_request(
                f"the API version in the data ({api_version}) does not match the expected API "
                f"version ({resource.api_version})"
                if api_version != resource.api_version
                else f"the kind in the data ({kind}) does not match the expected kind "
                f"({resource.kind})"
            )
        return with_type(resource, body)

    def _check_namespace(self, resource: ResourceType, namespace: str, meta: Obj) -> None:
        if not resource.namespaced:
            meta.pop("namespace", None)
            return
        if meta.get("namespace", namespace) != namespace:
            raise bad_request(MISMATCHED_NAMESPACE)
        meta["namespace"] = namespace
        ns = self.store.get(("", "namespaces"), "", namespace)
        if ns is None:
            raise namespace_not_found(namespace)
        if is_deleting(ns):
            shown = meta.get("name") or meta.get("generateName", "")
            raise forbidden(
                f'{resource.kind.lower()} "{shown}" is forbidden: unable to create new content in '
                f"namespace {namespace} because it is being terminated",
                {"name": meta.get("name", ""), "kind": resource.plural},
            )

    def _check_identity(self, resource: ResourceType, name: str, namespace: str, new: Obj) -> None:
        meta = new.get("metadata") or {}
        if meta.get("name", name) != name:
            raise bad_request(
                f"the name of the object ({meta.get('name')}) does not match the name on the URL "
                f"({name})"
            )
        if resource.namespaced and meta.get("namespace", namespace) != namespace:
            raise bad_request(MISMATCHED_NAMESPACE)

    def _merge_server_fields(
        self, resource: ResourceType, old: Obj, new: Obj, subresource: str | None
    ) -> Obj:
        if subresource == "status":
            merged = copy.deepcopy(old)
            if "status" in new:
                merged["status"] = new["status"]
            else:
                merged.pop("status", None)
            return merged
        meta = new.setdefault("metadata", {})
        for field in SERVER_MANAGED:
            if field in old["metadata"]:
                meta[field] = old["metadata"][field]
            else:
                meta.pop(field, None)
        meta["name"] = old["metadata"]["name"]
        if resource.namespaced:
            meta["namespace"] = old["metadata"]["namespace"]
        if resource.status_is_subresource and subresource != INTERNAL:
            if "status" in old:
                new["status"] = old["status"]
            else:
                new.pop("status", None)
        return kinds.prepare_update(resource, old, new, self)

    def _admit(
        self, resource: ResourceType, obj: Obj, old: Obj | None, options: WriteOptions
    ) -> Obj:
        if resource.schema is None:
            return kinds.complete(resource, obj)
        name = obj["metadata"].get("name", "")
        unknown = unknown_fields(resource.schema, obj, is_root=True)
        if unknown and options.field_validation == "Warn":
            options.warnings += [f'unknown field "{field}"' for field in unknown]
        if unknown and options.field_validation == "Strict":
            fields = ", ".join(f'unknown field "{f}"' for f in unknown)
            kind, version = resource.kind, resource.version
            raise bad_request(
                f'{kind} in version "{version}" cannot be handled as a {kind}: '
                f"strict decoding error: {fields}"
            )
        stored, errors = admit(resource.schema, obj, old)
        if errors:
            raise invalid(resource, name, [(e.field, e.message) for e in errors])
        return stored

    def _free_name(self, resource: ResourceType, namespace: str, prefix: str) -> str:
        for _ in range(100):
            name = generated_name(prefix, self.rng)
            if self.store.get(resource.key, namespace, name) is None:
                return name
        raise ApiError(500, "InternalError", "could not generate a unique name")

    def _notify(self, resource: ResourceType, old: Obj | None, new: Obj | None) -> None:
        for listener in self.listeners:
            listener(resource, old, new)


def _load(raw: bytes) -> Obj:
    try:
        loaded = json.loads(raw)
    except ValueError:
        try:
            loaded = yaml.safe_load(raw)
        except yaml.YAMLError as error:
            raise bad_request(f"invalid apply body: {error}") from None
    if not isinstance(loaded, dict):
        raise bad_request("the apply body must be an object")
    return loaded
