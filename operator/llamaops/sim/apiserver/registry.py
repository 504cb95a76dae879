"""Which resources the server serves: the built-ins, plus every established CRD's versions."""

from typing import Any

from llamaops.sim.apiserver.resources import BUILTINS, ResourceType

CORE_GROUP = ""


class Registry:
    """Resource types by (group, version, plural)."""

    def __init__(self) -> None:
        self._types: dict[tuple[str, str, str], ResourceType] = {}
        for resource in BUILTINS:
            self.add(resource)

    def add(self, resource: ResourceType) -> None:
        self._types[(resource.group, resource.version, resource.plural)] = resource

    def remove_group_resource(self, group: str, plural: str) -> None:
        for key in [k for k in self._types if k[0] == group and k[2] == plural]:
            del self._types[key]

    def find(self, group: str, version: str, plural: str) -> ResourceType | None:
        return self._types.get((group, version, plural))

    def by_kind(self, group: str, kind: str) -> ResourceType | None:
        return next((r for r in self._types.values() if r.group == group and r.kind == kind), None)

    def group_versions(self) -> dict[str, list[str]]:
        """Every non-core group and its versions, the preferred (storage) version first."""
        groups: dict[str, list[str]] = {}
        for resource in self._types.values():
            if resource.group != CORE_GROUP:
                versions = groups.setdefault(resource.group, [])
                if resource.version not in versions:
                    versions.append(resource.version)
        return dict(sorted(groups.items()))

    def in_group_version(self, group: str, version: str) -> list[ResourceType]:
        return sorted(
            (r for r in self._types.values() if (r.group, r.version) == (group, version)),
            key=lambda r: r.plural,
        )


def custom_resource_types(crd: dict[str, Any]) -> list[ResourceType]:
    """The served versions of a CustomResourceDefinition, as resource types."""
    spec = crd["spec"]
    names = spec["names"]
    types = []
    for version in spec["versions"]:
        if not version.get("served", True):
            continue
        subresources = version.get("subresources") or {}
        types.append(
            ResourceType(
                group=spec["group"],
                version=version["name"],
                kind=names["kind"],
                plural=names["plural"],
                namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                short_names=tuple(names.get("shortNames") or ()),
                categories=tuple(names.get("categories") or ()),
                subresources=tuple(s for s in ("status", "scale") if s in subresources),
                builtin=False,
                schema=(version.get("schema") or {}).get("openAPIV3Schema"),
                scale=subresources.get("scale"),
                printer_columns=tuple(version.get("additionalPrinterColumns") or ()),
                tracks_generation=True,
                list_kind=names.get("listKind", ""),
                singular=names.get("singular", ""),
            )
        )
    return types
