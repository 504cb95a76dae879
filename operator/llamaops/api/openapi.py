"""Turns pydantic's JSON Schema into a Kubernetes structural schema.

Kubernetes wants every node typed and inline (no `$ref`), OpenAPI v3.0 keywords, no
`additionalProperties: false`, and extensions for what JSON Schema cannot say:
int-or-string, preserved unknown fields. Optional fields become plain optional
properties; a nested object whose fields all have defaults gets `default: {}` so the API
server fills its defaults in even when the user leaves the whole object out.
"""

from typing import Any

Schema = dict[str, Any]

DROPPED_KEYS = {"title", "$defs"}
INT_OR_STRING_TYPES = [{"type": "integer"}, {"type": "string"}]


FIRST_KEYS = ("type", "description", "default")


def structural_schema(schema: Schema) -> Schema:
    """The structural form of a pydantic model's `model_json_schema(by_alias=True)`."""
    ordered: Schema = _ordered(_convert(schema, schema.get("$defs", {})))
    return ordered


def _ordered(node: Any) -> Any:
    """Type and description first, the rest sorted: a stable, readable CRD file."""
    if isinstance(node, list):
        return [_ordered(item) for item in node]
    if not isinstance(node, dict):
        return node
    keys = [k for k in FIRST_KEYS if k in node] + sorted(k for k in node if k not in FIRST_KEYS)
    if "properties" in node:  # property names keep the models' order
        return {
            k: (_ordered_props(node[k]) if k == "properties" else _ordered(node[k])) for k in keys
        }
    return {k: _ordered(node[k]) for k in keys}


def _ordered_props(props: Schema) -> Schema:
    return {name: _ordered(prop) for name, prop in props.items()}


def _convert(node: Schema, defs: Schema) -> Schema:
    node = _resolve(node, defs)
    if _is_optional(node):
        node = _without_null(node, defs)
    if _is_int_or_string(node):
        return _int_or_string(node)
    out: Schema = {}
    for key, value in node.items():
        if key in DROPPED_KEYS:
            continue
        if key == "properties":
            out[key] = _properties(value, defs, set(node.get("required", [])))
        elif key == "items":
            out[key] = _convert(value, defs)
        elif key == "additionalProperties":
            _additional_properties(out, value, defs)
        elif key == "anyOf":
            raise ValueError(f"cannot make a structural schema of anyOf {value!r}")
        else:
            out[key] = value
    return out


def _properties(props: Schema, defs: Schema, required: set[str]) -> Schema:
    converted = {}
    for name, prop in props.items():
        child = _convert(prop, defs)
        if _wants_empty_default(prop, child, defs, name in required):
            child["default"] = {}
        converted[name] = child
    return converted


def _wants_empty_default(raw: Schema, child: Schema, defs: Schema, required: bool) -> bool:
    if required or "default" in child or child.get("type") != "object":
        return False
    if _is_optional(_resolve(raw, defs)) or "properties" not in child:
        return False
    return not child.get("required")


def _additional_properties(out: Schema, value: Any, defs: Schema) -> None:
    if value is True:
        out["x-kubernetes-preserve-unknown-fields"] = True
    elif isinstance(value, dict):
        out["additionalProperties"] = _convert(value, defs)


def _resolve(node: Schema, defs: Schema) -> Schema:
    """Inline a `$ref`, letting the referring node's keys (its description) win."""
    if "$ref" not in node:
        return node
    target = defs[node["$ref"].rsplit("/", 1)[-1]]
    merged = {**_resolve(target, defs), **{k: v for k, v in node.items() if k != "$ref"}}
    return merged


def _is_optional(node: Schema) -> bool:
    return any(branch == {"type": "null"} for branch in node.get("anyOf", []))


def _without_null(node: Schema, defs: Schema) -> Schema:
    branches = [b for b in node["anyOf"] if b != {"type": "null"}]
    outer = {k: v for k, v in node.items() if k != "anyOf" and not (k == "default" and v is None)}
    if len(branches) == 1:
        return {**_resolve(branches[0], defs), **outer}
    return {**outer, "anyOf": branches}


def _is_int_or_string(node: Schema) -> bool:
    types = sorted(branch.get("type", "") for branch in node.get("anyOf", []))
    return types == ["integer", "string"]


def _int_or_string(node: Schema) -> Schema:
    """Kubernetes' int-or-string: bare types in anyOf, value checks hoisted beside them."""
    out: Schema = {k: v for k, v in node.items() if k not in DROPPED_KEYS and k != "anyOf"}
    for branch in node["anyOf"]:
        out.update({k: v for k, v in branch.items() if k not in ("type", "title")})
    out["anyOf"] = [dict(t) for t in INT_OR_STRING_TYPES]
    out["x-kubernetes-int-or-string"] = True
    return out
