"""Defaulting and pruning of an object by a structural schema, as the API server does."""

import copy
from typing import Any

Schema = dict[str, Any]

PRESERVE = "x-kubernetes-preserve-unknown-fields"
# Kept at the root of every object whether or not the schema declares them.
ROOT_FIELDS = ("apiVersion", "kind", "metadata")


def apply_defaults(schema: Schema, value: Any) -> Any:
    """A copy of `value` with every missing property that has a default filled in, recursively."""
    if isinstance(value, dict) and "properties" in schema:
        out = dict(value)
        for name, prop in schema["properties"].items():
            if name not in out and "default" in prop:
                out[name] = copy.deepcopy(prop["default"])
            if name in out:
                out[name] = apply_defaults(prop, out[name])
        return out
    if isinstance(value, dict) and isinstance(schema.get("additionalProperties"), dict):
        return {k: apply_defaults(schema["additionalProperties"], v) for k, v in value.items()}
    if isinstance(value, list) and "items" in schema:
        return [apply_defaults(schema["items"], item) for item in value]
    return value


def prune(schema: Schema, value: Any, is_root: bool = False) -> Any:
    """A copy of `value` without fields the schema does not declare (unless it keeps them)."""
    if isinstance(value, dict):
        if schema.get(PRESERVE) and "properties" not in schema:
            return copy.deepcopy(value)
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        out = {}
        for name, item in value.items():
            if item is None and not props.get(name, {}).get("nullable"):
                continue  # null in a non-nullable field is dropped, then defaulted
            if name in props:
                out[name] = item if is_root and name == "metadata" else prune(props[name], item)
            elif isinstance(extra, dict):
                out[name] = prune(extra, item)
            elif schema.get(PRESERVE) or (is_root and name in ROOT_FIELDS):
                out[name] = copy.deepcopy(item)
        return out
    if isinstance(value, list) and "items" in schema:
        return [prune(schema["items"], item) for item in value]
    return value


def unknown_fields(schema: Schema, value: Any, path: str = "", is_root: bool = False) -> list[str]:
    """Paths of the fields `prune` would drop: what strict field validation refuses."""
    found: list[str] = []
    if isinstance(value, dict):
        if schema.get(PRESERVE) and "properties" not in schema:
            return found
        props, extra = schema.get("properties", {}), schema.get("additionalProperties")
        for name, item in value.items():
            where = f"{path}.{name}" if path else name
            if name in props:
                if not (is_root and name == "metadata"):
                    found += unknown_fields(props[name], item, where)
            elif isinstance(extra, dict):
                found += unknown_fields(extra, item, where)
            elif not (schema.get(PRESERVE) or (is_root and name in ROOT_FIELDS)):
                found.append(where)
    elif isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            found += unknown_fields(schema["items"], item, f"{path}[{index}]")
    return found
