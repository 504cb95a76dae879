"""Admission of a custom resource: default, prune, validate the schema, then the CEL rules.

Errors read like the API server's ("spec.replicas: Invalid value: -1: spec.replicas in body
should be greater than or equal to 0"), one per failing field.
"""

import json
from dataclasses import dataclass
from typing import Any

import jsonschema

from llamaops.schema.cel import rule_violations
from llamaops.schema.structural import apply_defaults, prune

Schema = dict[str, Any]


@dataclass(frozen=True)
class FieldError:
    """One failing field, as an API server's `Status.details.causes[]` entry names it."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def admit(
    schema: Schema, obj: dict[str, Any], old: dict[str, Any] | None = None
) -> tuple[dict[str, Any], list[FieldError]]:
    """The object as it would be stored, and what is wrong with it (empty when admitted)."""
    stored = apply_defaults(schema, prune(schema, obj, is_root=True))
    errors = _schema_errors(schema, stored) + _duplicate_keys(schema, stored)
    if not errors:
        errors = [
            FieldError(field, f"Invalid value: {_shown(value)}: {message}")
            for field, value, message in rule_violations(schema, stored, old)
        ]
    return stored, errors


def admit_spec_of(
    crd: dict[str, Any], obj: dict[str, Any]
) -> tuple[dict[str, Any], list[FieldError]]:
    """`admit` against the storage version's schema of a CRD document."""
    version = next(v for v in crd["spec"]["versions"] if v.get("storage"))
    return admit(version["schema"]["openAPIV3Schema"], obj)


def _schema_errors(schema: Schema, obj: dict[str, Any]) -> list[FieldError]:
    validator = jsonschema.Draft4Validator(_json_schema(schema))
    errors = sorted(validator.iter_errors(obj), key=lambda e: [str(p) for p in e.absolute_path])
    return [_field_error(error) for error in errors]


def _duplicate_keys(schema: Schema, value: Any, path: str = "") -> list[FieldError]:
    """Lists of `x-kubernetes-list-type: map` may hold each key once."""
    found: list[FieldError] = []
    if isinstance(value, dict):
        for name, prop in (schema.get("properties") or {}).items():
            if name in value:
                found += _duplicate_keys(prop, value[name], _join(path, name))
    elif isinstance(value, list):
        keys = schema.get("x-kubernetes-list-map-keys") or []
        seen: set[str] = set()
        for index, item in enumerate(value):
            if schema.get("x-kubernetes-list-type") == "map" and isinstance(item, dict):
                key = json.dumps({k: item.get(k) for k in keys}, sort_keys=True)
                if key in seen:
                    found.append(FieldError(f"{path}[{index}]", f"Duplicate value: {key}"))
                seen.add(key)
            found += _duplicate_keys(schema.get("items") or {}, item, f"{path}[{index}]")
    return found


def _json_schema(node: Any) -> Any:
    """OpenAPI v3.0 as JSON Schema draft 4: `nullable` spelled out, extensions dropped."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: _json_schema(v) for k, v in node.items() if not k.startswith("x-kubernetes-")}
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    return out


def _field_error(error: jsonschema.ValidationError) -> FieldError:
    path = _path(error.absolute_path)
    kind, expected, value = str(error.validator), error.validator_value, error.instance
    if kind == "required":
        missing = error.message.split("'")[1]
        return FieldError(_join(path, missing), "Required value")
    if kind == "enum":
        values = expected if isinstance(expected, list) else []
        supported = ", ".join(f'"{v}"' for v in values)
        return FieldError(
            path, f"Unsupported value: {_shown(value)}: supported values: {supported}"
        )
    if kind == "type":
        return FieldError(
            path, f"Invalid value: {_shown(value)}: {path} in body must be of type {expected}"
        )
    return FieldError(
        path, f"Invalid value: {_shown(value)}: {path} in body {_should(kind, expected)}"
    )


def _should(kind: str, expected: Any) -> str:
    phrases = {
        "minimum": f"should be greater than or equal to {expected}",
        "maximum": f"should be less than or equal to {expected}",
        "pattern": f"should match '{expected}'",
        "minLength": f"should be at least {expected} chars long",
        "maxLength": f"may not be more than {expected} chars long",
        "minItems": f"should have at least {expected} items",
        "maxItems": f"must have at most {expected} items",
        "format": f"must be of format {expected}",
    }
    return phrases.get(kind, f"fails {kind} {expected!r}")


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return '"object"'
    if isinstance(value, list):
        return '"array"'
    if isinstance(value, str):
        return f'"{value}"'
    if value is None:
        return "null"
    return str(value).lower() if isinstance(value, bool) else str(value)


def _path(parts: Any) -> str:
    out = ""
    for part in parts:
        out = f"{out}[{part}]" if isinstance(part, int) else _join(out, str(part))
    return out or "<root>"


def _join(path: str, name: str) -> str:
    return name if path in ("", "<root>") else f"{path}.{name}"
