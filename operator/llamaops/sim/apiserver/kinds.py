"""What the server itself sets on particular kinds: status on create, cluster IPs, CRD
acceptance. Field defaults of built-ins (what the real API server's defaulting fills in)
live in completion.py."""

import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from llamaops.schema import rule_compile_errors
from llamaops.sim.apiserver.completion import complete as complete_builtin
from llamaops.sim.apiserver.errors import invalid
from llamaops.sim.apiserver.resources import ResourceType

if TYPE_CHECKING:
    from llamaops.sim.apiserver.objects import Objects

Obj = dict[str, Any]
SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")
# Kinds whose status a client may not set on create (the real strategies reset it).
STATUS_RESET_ON_CREATE = {"Pod", "Service", "PodDisruptionBudget", "CustomResourceDefinition"}


@dataclass
class ServerState:
    """Allocations the server keeps: cluster IPs in use."""

    cluster_ips: set[str] = field(default_factory=set)

    def allocate_ip(self) -> str:
        for address in SERVICE_CIDR.hosts():
            text = str(address)
            if text.endswith(".1") and text == "10.96.0.1":
                continue  # the kubernetes Service's address
            if text not in self.cluster_ips:
                self.cluster_ips.add(text)
                return text
        raise RuntimeError("service CIDR exhausted")


def prepare_create(resource: ResourceType, obj: Obj, api: "Objects") -> Obj:
    if resource.kind in STATUS_RESET_ON_CREATE or (
        not resource.builtin and resource.status_is_subresource
    ):
        obj.pop("status", None)
    if resource.kind == "Service" and resource.builtin:
        spec = obj.setdefault("spec", {})
        if spec.get("type", "ClusterIP") != "ExternalName" and not spec.get("clusterIP"):
            spec["clusterIP"] = api.state.allocate_ip()
            spec["clusterIPs"] = [spec["clusterIP"]]
    if resource.kind == "CustomResourceDefinition" and resource.builtin:
        check_crd(resource, obj)
        obj["status"] = crd_status(obj)
    return obj


def prepare_update(resource: ResourceType, old: Obj, new: Obj, api: "Objects") -> Obj:
    if resource.kind == "Service" and resource.builtin:
        spec = new.setdefault("spec", {})
        for key in ("clusterIP", "clusterIPs"):
            if key in old.get("spec", {}) and not spec.get(key):
                spec[key] = old["spec"][key]
    if resource.kind == "CustomResourceDefinition" and resource.builtin:
        check_crd(resource, new)
    return new


def holds_removal(resource: ResourceType, obj: Obj) -> bool:
    """Whether a finalizer still holds an object being deleted: metadata.finalizers, and
    for namespaces spec.finalizers too (the namespace controller empties them)."""
    if obj["metadata"].get("finalizers"):
        return True
    return (
        resource.builtin
        and resource.kind == "Namespace"
        and bool((obj.get("spec") or {}).get("finalizers"))
    )


def complete(resource: ResourceType, obj: Obj) -> Obj:
    return complete_builtin(resource, obj) if resource.builtin else obj


def check_crd(resource: ResourceType, crd: Obj) -> None:
    """Refuse a CRD the server could not serve faithfully, naming the field."""
    name = crd["metadata"].get("name", "")
    spec = crd.get("spec") or {}
    causes: list[tuple[str, str]] = []
    names = spec.get("names") or {}
    if name != f"{names.get('plural')}.{spec.get('group')}":
        causes.append(
            ("metadata.name", f'Invalid value: "{name}": must be spec.names.plural+"."+spec.group')
        )
    versions = spec.get("versions") or []
    if sum(1 for v in versions if v.get("storage")) != 1:
        causes.append(
            (
                "spec.versions",
                "Invalid value: must have exactly one version marked as storage version",
            )
        )
    for index, version in enumerate(versions):
        schema = (version.get("schema") or {}).get("openAPIV3Schema")
        if schema is None:
            causes.append(
                (
                    f"spec.versions[{index}].schema.openAPIV3Schema",
                    "Required value: schemas are required",
                )
            )
            continue
        for error in rule_compile_errors(schema):
            causes.append(
                (
                    f"spec.versions[{index}].schema.openAPIV3Schema",
                    f"Invalid value: compilation failed: {error}",
                )
            )
    if causes:
        raise invalid(resource, name, causes)


def crd_status(crd: Obj) -> Obj:
    names = crd["spec"]["names"]
    accepted = {
        "kind": names["kind"],
        "listKind": names.get("listKind", names["kind"] + "List"),
        "plural": names["plural"],
        "singular": names.get("singular", names["kind"].lower()),
    }
    for key in ("shortNames", "categories"):
        if names.get(key):
            accepted[key] = names[key]
    created = crd["metadata"].get("creationTimestamp")
    conditions = [
        {
            "type": kind,
            "status": "True",
            "reason": reason,
            "message": message,
            "lastTransitionTime": created,
        }
        for kind, reason, message in (
            ("NamesAccepted", "NoConflicts", "no conflicts found"),
            ("Established", "InitialNamesAccepted", "the initial names have been accepted"),
        )
    ]
    storage = [v["name"] for v in crd["spec"]["versions"] if v.get("storage")]
    return {"acceptedNames": accepted, "conditions": conditions, "storedVersions": storage}
