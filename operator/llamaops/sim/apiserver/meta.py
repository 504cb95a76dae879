"""Small helpers on object metadata shared by the write paths."""

import copy
import random
from typing import Any

from llamaops.sim.apiserver.resources import ResourceType

Obj = dict[str, Any]

# Kubernetes' name generator alphabet (no vowels, no confusable digits).
_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
SERVER_MANAGED = (
    "uid",
    "creationTimestamp",
    "generation",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "resourceVersion",
    "managedFields",
    "selfLink",
)


def generated_name(prefix: str, rng: random.Random) -> str:
    return prefix + "".join(rng.choice(_ALPHABET) for _ in range(5))


def name_of(obj: Obj) -> str:
    return str(obj.get("metadata", {}).get("name", ""))


def namespace_of(obj: Obj) -> str:
    return str(obj.get("metadata", {}).get("namespace", ""))


def is_deleting(obj: Obj) -> bool:
    return bool(obj["metadata"].get("deletionTimestamp"))


def finalizers(obj: Obj) -> list[str]:
    return list(obj["metadata"].get("finalizers") or [])


def without_server_fields(obj: Obj, status_separate: bool) -> Obj:
    """The part of an object whose change bumps `generation`: all but metadata (and status
    when status is a subresource)."""
    return {
        k: v
        for k, v in obj.items()
        if k not in ("metadata", "apiVersion", "kind") and not (status_separate and k == "status")
    }


def comparable(obj: Obj) -> Obj:
    """The object minus what changes on every write, to tell a no-op write from a real one."""
    meta = {
        k: v for k, v in obj["metadata"].items() if k not in ("resourceVersion", "managedFields")
    }
    return {**obj, "metadata": meta}


def with_type(resource: ResourceType, obj: Obj) -> Obj:
    out = copy.deepcopy(obj)
    out["apiVersion"] = resource.api_version
    out["kind"] = resource.kind
    return out


def owner_uids(obj: Obj) -> list[str]:
    return [ref.get("uid", "") for ref in obj["metadata"].get("ownerReferences") or []]
