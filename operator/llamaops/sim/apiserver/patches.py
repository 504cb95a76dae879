"""How a PATCH body changes a stored object, for the four patch types the apiserver accepts.

- Merge patch (RFC 7386), for every kind. kopf sends it for bodies and for status.
- JSON patch (RFC 6902, applied by `jsonpatch`). kopf adds and removes finalizers with it,
  guarded by a `test` of metadata.resourceVersion, and reads a 422 as "retry next cycle".
- Strategic merge patch, for built-in kinds only: the Python client sends it from every typed
  `patch_*` call, and a real server refuses it for custom resources with 415. The subset of
  directives and merge keys is described in `strategic.py`.
- Server-side apply, without field ownership: managedFields are neither computed nor kept from
  the body, no conflicts are reported, and a field a manager stops applying is not removed.
  Apply merges the applied object onto the live one, strategically for built-ins and as a merge
  patch for custom resources (maps merge, lists are replaced, null removes a key).

Everything here is pure: it takes the stored object and the body and returns a new object, or
raises `PatchError` with the HTTP status and Status reason the server answers with.
"""

import copy
import json
from collections.abc import Mapping
from typing import Any

import jsonpatch
import jsonpointer
import yaml

from llamaops.sim.apiserver.strategic import StrategicMergeError, strategic_merge

MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"

# In the apiserver's order, which its 415 message lists them in.
BUILTIN_PATCH_TYPES = (JSON_PATCH, MERGE, STRATEGIC, APPLY)
CUSTOM_RESOURCE_PATCH_TYPES = (JSON_PATCH, MERGE, APPLY)


class PatchError(Exception):
    """A patch the server refuses: `code` is the HTTP status, `reason` the Status reason."""

    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message


def patch_object(
    content_type: str, original: dict[str, Any], body: bytes, *, builtin: bool
) -> dict[str, Any]:
    """The object after the PATCH request; `original` is not changed.

    An apply that creates its object can pass `{}` as the original.
    """
    media_type = content_type.split(";", 1)[0].strip().lower()
    accepted = BUILTIN_PATCH_TYPES if builtin else CUSTOM_RESOURCE_PATCH_TYPES
    if media_type not in accepted:
        raise PatchError(
            415,
            "UnsupportedMediaType",
            "the body of the request was in an unknown format - accepted media types include: "
            + ", ".join(accepted),
        )
    if media_type == JSON_PATCH:
        operations = _read_json(body)
        if not isinstance(operations, list):
            raise PatchError(400, "BadRequest", "a JSON patch must be a list of operations")
        return json_patch(original, operations)
    if media_type == APPLY:
        return server_side_apply(original, _read_apply(body), builtin=builtin)
    patch = _read_json(body)
    if not isinstance(patch, dict):
        raise PatchError(400, "BadRequest", f"the patch must be a JSON object, not {patch!r}")
    if media_type == STRATEGIC:
        return strategic_merge_patch(original, patch)
    merged: dict[str, Any] = merge_patch(original, patch)
    return merged


def merge_patch(original: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, null removes a key, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(original) if isinstance(original, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def json_patch(original: dict[str, Any], operations: list[Any]) -> dict[str, Any]:
    """RFC 6902, one operation at a time so that a refusal names the operation that failed."""
    document: Any = copy.deepcopy(original)
    for index, operation in enumerate(operations):
        if not isinstance(operation, dict):
            # The apiserver cannot decode such a patch at all, hence 400 rather than 422.
            raise PatchError(400, "BadRequest", f"JSON patch operation {index} is not an object")
        try:
            # A copy, so that the values an add puts in the result are not the caller's.
            step = jsonpatch.JsonPatch([copy.deepcopy(operation)])
            document = step.apply(document, in_place=True)
        except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as error:
            raise PatchError(
                422, "Invalid", f"JSON patch operation {index} {_compact(operation)}: {error}"
            ) from error
    if not isinstance(document, dict):
        raise PatchError(422, "Invalid", "a JSON patch must leave an object")
    return document


def strategic_merge_patch(original: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Kubernetes' strategic merge patch for built-in kinds (the subset in `strategic.py`)."""
    try:
        return strategic_merge(original, patch)
    except StrategicMergeError as error:
        raise PatchError(400, "BadRequest", str(error)) from error


def server_side_apply(
    original: dict[str, Any] | None, applied: dict[str, Any], *, builtin: bool
) -> dict[str, Any]:
    """The applied object merged onto the live one, with no field ownership (see above)."""
    applied = _without_managed_fields(applied)
    if original is None:
        created: dict[str, Any] = merge_patch({}, applied)
        return created
    if builtin:
        return strategic_merge_patch(original, applied)
    merged: dict[str, Any] = merge_patch(original, applied)
    return merged


def _without_managed_fields(applied: Mapping[str, Any]) -> dict[str, Any]:
    metadata = applied.get("metadata")
    if not isinstance(metadata, dict) or "managedFields" not in metadata:
        return dict(applied)
    kept = {key: value for key, value in metadata.items() if key != "managedFields"}
    return {**applied, "metadata": kept}


def _read_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError as error:
        raise PatchError(400, "BadRequest", f"the body is not valid JSON: {error}") from error


class _YamlAsJson(yaml.SafeLoader):
    """YAML as the apiserver reads it (sigs.k8s.io/yaml): timestamps stay strings."""


_YamlAsJson.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _read_apply(body: bytes) -> dict[str, Any]:
    """An apply body: JSON (what the Python client sends) or YAML (what kubectl may send)."""
    try:
        applied = json.loads(body)
    except ValueError:
        try:
            applied = yaml.load(body, Loader=_YamlAsJson)
        except (yaml.YAMLError, ValueError) as error:
            raise PatchError(400, "BadRequest", f"error decoding YAML: {error}") from error
    if not isinstance(applied, dict):
        raise PatchError(400, "BadRequest", f"an apply body must be an object, not {applied!r}")
    return applied


def _compact(operation: Mapping[str, Any]) -> str:
    return json.dumps(operation, separators=(",", ":"), default=str)
