"""Resource URLs: /api/v1/... and /apis/GROUP/VERSION/..., namespaced or not, with subresources."""

from dataclasses import dataclass

from llamaops.sim.apiserver.errors import page_not_found
from llamaops.sim.apiserver.registry import Registry
from llamaops.sim.apiserver.resources import ResourceType

NAMESPACE_SUBRESOURCES = ("status", "finalize")


@dataclass(frozen=True)
class Target:
    """What a request addresses: a collection (name None) or one object, maybe a subresource."""

    resource: ResourceType
    namespace: str | None
    name: str | None
    subresource: str | None


def parse(path: str, registry: Registry) -> Target:
    parts = [p for p in path.split("/") if p]
    if parts[:2] == ["api", "v1"]:
        group, version, rest = "", "v1", parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        raise page_not_found()
    namespace = None
    if len(rest) >= 3 and rest[0] == "namespaces" and rest[2] not in NAMESPACE_SUBRESOURCES:
        namespace, rest = rest[1], rest[2:]
    if not rest or len(rest) > 3:
        raise page_not_found()
    resource = registry.find(group, version, rest[0])
    if resource is None:
        raise page_not_found()
    if namespace is not None and not resource.namespaced:
        raise page_not_found()
    name = rest[1] if len(rest) > 1 else None
    subresource = rest[2] if len(rest) > 2 else None
    namespace_finalize = resource.kind == "Namespace" and subresource == "finalize"
    if (
        subresource is not None
        and subresource not in resource.subresources
        and not namespace_finalize
    ):
        raise page_not_found()
    return Target(resource, namespace, name, subresource)
