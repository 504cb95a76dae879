"""OpenAPI v3 documents, enough for kubectl: `explain` reads field descriptions from them,
and `apply` learns from them that the server validates fields itself (the
`fieldValidation` parameter), so it sends `fieldValidation=Strict` instead of validating
client-side. Custom resources carry their CRD's schema; built-ins get an open schema.
"""

import copy
import hashlib
import json
from typing import Any

from llamaops.sim.apiserver.registry import Registry
from llamaops.sim.apiserver.resources import ResourceType

OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
QUERY_PARAMETERS = ("fieldValidation", "fieldManager", "dryRun", "force")
OBJECT_META_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Standard object's metadata.",
    "properties": {
        "name": {"type": "string", "description": "Name must be unique within a namespace."},
        "namespace": {
            "type": "string",
            "description": "Namespace defines the space within which each name must be unique.",
        },
        "labels": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "Map of string keys and values for organizing objects.",
        },
        "annotations": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "Unstructured key value map stored with a resource.",
        },
        "generateName": {"type": "string", "description": "Prefix for a server-generated name."},
        "uid": {"type": "string", "description": "Unique in time and space value for this object."},
        "resourceVersion": {
            "type": "string",
            "description": "Version of this object, for concurrency control.",
        },
        "generation": {
            "type": "integer",
            "format": "int64",
            "description": "Sequence number of the desired state.",
        },
        "creationTimestamp": {
            "type": "string",
            "format": "date-time",
            "description": "When this object was created.",
        },
        "deletionTimestamp": {
            "type": "string",
            "format": "date-time",
            "description": "When this object will be deleted.",
        },
        "finalizers": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Must be empty before the object is deleted.",
        },
        "ownerReferences": {
            "type": "array",
            "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            "description": "Objects depended by this object.",
        },
    },
}


def root(registry: Registry) -> dict[str, Any]:
    paths = {}
    for path in _group_version_paths(registry):
        document = group_version_document(registry, path)
        digest = (
            hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:32].upper()
        )
        paths[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"}
    return {"paths": paths}


def group_version_document(registry: Registry, path: str) -> dict[str, Any] | None:
    parts = path.strip("/").split("/")
    if parts[:2] == ["api", "v1"] and len(parts) == 2:
        group, version = "", "v1"
    elif len(parts) == 3 and parts[0] == "apis":
        group, version = parts[1], parts[2]
    else:
        return None
    resources = registry.in_group_version(group, version)
    if not resources:
        return None
    schemas: dict[str, Any] = {OBJECT_META: OBJECT_META_SCHEMA}
    paths: dict[str, Any] = {}
    for resource in resources:
        schemas[_schema_name(resource)] = _kind_schema(resource)
        paths.update(_paths(resource))
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.0"},
        "paths": paths,
        "components": {"schemas": schemas},
    }


def _group_version_paths(registry: Registry) -> list[str]:
    paths = ["api/v1"]
    for group, versions in registry.group_versions().items():
        paths += [f"apis/{group}/{version}" for version in versions]
    return paths


def _gvk(resource: ResourceType) -> list[dict[str, str]]:
    return [{"group": resource.group, "kind": resource.kind, "version": resource.version}]


def _schema_name(resource: ResourceType) -> str:
    if not resource.group:
        return f"io.k8s.api.core.v1.{resource.kind}"
    reversed_group = ".".join(reversed(resource.group.split(".")))
    return f"{reversed_group}.{resource.version}.{resource.kind}"


def _kind_schema(resource: ResourceType) -> dict[str, Any]:
    if resource.schema is not None:
        schema: dict[str, Any] = copy.deepcopy(resource.schema)
    else:
        schema = {
            "type": "object",
            "description": f"{resource.kind} (schema not published by the local cluster).",
            "properties": {
                "apiVersion": {"type": "string", "description": "APIVersion of this object."},
                "kind": {"type": "string", "description": "Kind of this object."},
                "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            },
            "x-kubernetes-preserve-unknown-fields": True,
        }
    properties = schema.setdefault("properties", {})
    description = (properties.get("metadata") or {}).get(
        "description", "Standard object's metadata."
    )
    properties["metadata"] = {
        "allOf": [{"$ref": f"#/components/schemas/{OBJECT_META}"}],
        "description": description,
        "default": {},
    }
    schema["x-kubernetes-group-version-kind"] = _gvk(resource)
    return schema


def _paths(resource: ResourceType) -> dict[str, Any]:
    prefix = f"/apis/{resource.group}/{resource.version}" if resource.group else "/api/v1"
    scope = "/namespaces/{namespace}" if resource.namespaced else ""
    collection = f"{prefix}{scope}/{resource.plural}"
    item = f"{collection}/{{name}}"
    ref = {"$ref": f"#/components/schemas/{_schema_name(resource)}"}
    parameters = [
        {"name": name, "in": "query", "schema": {"type": "string"}} for name in QUERY_PARAMETERS
    ]

    def operation(verb: str, action: str) -> dict[str, Any]:
        return {
            "operationId": f"{verb}{resource.kind}",
            "parameters": parameters,
            "responses": {"200": {"content": {"application/json": {"schema": ref}}}},
            "x-kubernetes-action": action,
            "x-kubernetes-group-version-kind": _gvk(resource)[0],
        }

    return {
        collection: {"post": operation("create", "post"), "get": operation("list", "list")},
        item: {
            "get": operation("read", "get"),
            "put": operation("replace", "put"),
            "patch": operation("patch", "patch"),
            "delete": operation("delete", "delete"),
        },
    }
