"""The scale, binding and eviction subresources."""

import copy
import json
import math
from datetime import timedelta
from typing import Any

from llamaops.sim.apiserver.errors import ApiError, bad_request, conflict, too_many_requests
from llamaops.sim.apiserver.lifecycle import Lifecycle
from llamaops.sim.apiserver.objects import INTERNAL, Objects
from llamaops.sim.apiserver.patches import PatchError, patch_object
from llamaops.sim.apiserver.resources import ResourceType
from llamaops.sim.apiserver.selectors import selector_from_match_labels
from llamaops.sim.apiserver.store import Obj
from llamaops.sim.clock import timestamp

PDBS = ("policy", "poddisruptionbudgets")


def _path_get(obj: Obj, path: str) -> Any:
    node: Any = obj
    for part in path.strip(".").split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _path_set(obj: Obj, path: str, value: Any) -> None:
    parts = path.strip(".").split(".")
    node = obj
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def scale_of(resource: ResourceType, obj: Obj) -> Obj:
    """The autoscaling/v1 Scale view of an object with a scale subresource."""
    paths = resource.scale or {}
    meta = obj["metadata"]
    status: dict[str, Any] = {
        "replicas": _path_get(obj, paths.get("statusReplicasPath", ".status.replicas")) or 0
    }
    selector = (
        _path_get(obj, paths["labelSelectorPath"]) if paths.get("labelSelectorPath") else None
    )
    if selector:
        status["selector"] = selector
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            k: meta[k]
            for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
            if k in meta
        },
        "spec": {"replicas": _path_get(obj, paths.get("specReplicasPath", ".spec.replicas")) or 0},
        "status": status,
    }


def write_scale(api: Objects, resource: ResourceType, obj: Obj, scale: Obj) -> Obj:
    replicas = (scale.get("spec") or {}).get("replicas")
    if not isinstance(replicas, int) or isinstance(replicas, bool):
        raise bad_request("spec.replicas of the Scale must be an integer")
    wanted_rv = (scale.get("metadata") or {}).get("resourceVersion")
    if wanted_rv and wanted_rv != obj["metadata"]["resourceVersion"]:
        raise conflict(resource, obj["metadata"]["name"])
    new = copy.deepcopy(obj)
    _path_set(new, (resource.scale or {}).get("specReplicasPath", ".spec.replicas"), replicas)
    return scale_of(resource, api.commit_update(resource, obj, new))


def patch_scale(
    api: Objects, resource: ResourceType, obj: Obj, content_type: str, raw: bytes
) -> Obj:
    try:
        patched = patch_object(content_type, scale_of(resource, obj), raw, builtin=True)
    except PatchError as error:
        raise ApiError(error.code, error.reason, error.message) from None
    return write_scale(api, resource, obj, patched)


def bind(api: Objects, resource: ResourceType, pod: Obj, binding: Obj) -> Obj:
    target = (binding.get("target") or {}).get("name")
    if not target:
        raise bad_request("binding target name is required")
    current = pod.get("spec", {}).get("nodeName")
    if current:
        raise conflict(
            resource,
            f"{pod['metadata']['name']}",
            f'pod {pod["metadata"]["name"]} is already assigned to node "{current}"',
        )
    new = copy.deepcopy(pod)
    new.setdefault("spec", {})["nodeName"] = target
    conditions = [
        c
        for c in new.setdefault("status", {}).get("conditions", [])
        if c.get("type") != "PodScheduled"
    ]
    conditions.append(
        {
            "type": "PodScheduled",
            "status": "True",
            "lastProbeTime": None,
            "lastTransitionTime": timestamp(api.clock.now()),
        }
    )
    new["status"]["conditions"] = conditions
    api.commit_update(resource, pod, new, INTERNAL)
    return success(resource, pod)


def token_request(api: Objects, account: Obj, request: Obj, token: str) -> Obj:
    """A TokenRequest answered (authentication.k8s.io/v1), as `kubectl create token` reads
    it. The token is opaque and does not expire while the server runs (auth.py)."""
    spec = dict(request.get("spec") or {})
    seconds = int(spec.get("expirationSeconds") or 3600)
    spec["expirationSeconds"] = seconds
    meta = account["metadata"]
    expires = api.clock.now() + timedelta(seconds=seconds)
    return {
        "kind": "TokenRequest",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"name": meta["name"], "namespace": meta["namespace"]},
        "spec": spec,
        "status": {"token": token, "expirationTimestamp": timestamp(expires)},
    }


def evict(
    api: Objects, lifecycle: Lifecycle, resource: ResourceType, pod: Obj, eviction: Obj
) -> Obj:
    """Evict a pod unless a PodDisruptionBudget that selects it allows no disruption."""
    namespace = pod["metadata"]["namespace"]
    if _is_healthy(pod):
        for pdb in api.store.list(PDBS, namespace):
            blocked = _blocked_by(api, pdb, pod)
            if blocked is not None:
                raise too_many_requests_with_cause(blocked)
    options = eviction.get("deleteOptions") or {}
    lifecycle.delete(resource, namespace, pod["metadata"]["name"], options)
    return success(resource, pod)


def too_many_requests_with_cause(message: str) -> ApiError:
    error = too_many_requests("Cannot evict pod as it would violate the pod's disruption budget.")
    error.details = {"causes": [{"reason": "DisruptionBudget", "message": message}]}
    return error


def _blocked_by(api: Objects, pdb: Obj, pod: Obj) -> str | None:
    selector = selector_from_match_labels((pdb.get("spec") or {}).get("selector"))
    if not selector.requirements or not selector.matches(pod):
        return None
    pods = [p for p in api.store.list(("", "pods"), pod["metadata"]["namespace"], selector)]
    expected = len(pods)
    healthy = sum(1 for p in pods if _is_healthy(p))
    desired = _desired_healthy(pdb.get("spec") or {}, expected)
    if healthy - 1 >= desired:
        return None
    name = pdb["metadata"]["name"]
    return f"The disruption budget {name} needs {desired} healthy pods and has {healthy} currently"


def _desired_healthy(spec: Obj, expected: int) -> int:
    if spec.get("minAvailable") is not None:
        return _scaled(spec["minAvailable"], expected, round_up=True)
    if spec.get("maxUnavailable") is not None:
        return expected - _scaled(spec["maxUnavailable"], expected, round_up=True)
    return expected


def _scaled(value: Any, total: int, round_up: bool) -> int:
    if isinstance(value, str) and value.endswith("%"):
        share = int(value[:-1]) * total / 100
        return math.ceil(share) if round_up else math.floor(share)
    return int(value)


def _is_healthy(pod: Obj) -> bool:
    if pod["metadata"].get("deletionTimestamp"):
        return False
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def success(resource: ResourceType, obj: Obj) -> Obj:
    details: dict[str, Any] = {
        "name": obj["metadata"]["name"],
        "kind": resource.plural,
        "uid": obj["metadata"].get("uid"),
    }
    if resource.group:
        details["group"] = resource.group
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    }


def load_json(raw: bytes) -> Obj:
    try:
        body = json.loads(raw or b"{}")
    except ValueError as error:
        raise bad_request(f"invalid JSON: {error}") from None
    if not isinstance(body, dict):
        raise bad_request("the request body must be a JSON object")
    return body
