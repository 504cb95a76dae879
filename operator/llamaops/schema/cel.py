"""CEL rules (`x-kubernetes-validations`) checked with cel-python, `self` bound as in Kubernetes.

A rule that cannot be compiled is reported by `rule_compile_errors` so that a CRD carrying
it is refused when it is created, rather than its rule being skipped.
"""

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import celpy
from celpy import celtypes
from celpy.adapter import json_to_cel

Schema = dict[str, Any]
RULES = "x-kubernetes-validations"


@lru_cache(maxsize=512)
def _program(rule: str) -> Any:
    env = celpy.Environment()
    return env.program(env.compile(rule))


def rule_compile_errors(schema: Schema, path: str = "") -> list[str]:
    """Every rule in the schema that CEL cannot compile, with where it is."""
    errors = []
    for where, node in _nodes(schema, path):
        for entry in node.get(RULES, []):
            try:
                _program(entry["rule"])
            except Exception as error:  # cel-python raises several unrelated types
                errors.append(f"{where or '<root>'}: rule {entry['rule']!r}: {error}")
    return errors


def rule_violations(
    schema: Schema, value: Any, old: Any = None, path: str = ""
) -> list[tuple[str, Any, str]]:
    """(field path, value, message) for each broken rule; absent values are not checked."""
    found: list[tuple[str, Any, str]] = []
    for entry in schema.get(RULES, []):
        rule = entry["rule"]
        if "oldSelf" in rule and old is None:
            continue
        message = entry.get("message", rule)
        try:
            holds = _holds(rule, value, old)
        except Exception as error:  # an evaluation error fails the rule, as in Kubernetes
            holds, message = False, f"{error} evaluating rule: {rule}"
        if not holds:
            found.append((path + entry.get("fieldPath", ""), value, message))
    for name, prop in schema.get("properties", {}).items():
        if isinstance(value, dict) and name in value:
            old_child = old.get(name) if isinstance(old, dict) else None
            found += rule_violations(prop, value[name], old_child, _join(path, name))
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            found += rule_violations(schema["items"], item, None, f"{path}[{index}]")
    return found


def _holds(rule: str, value: Any, old: Any) -> bool:
    activation = {"self": json_to_cel(value)}
    if old is not None:
        activation["oldSelf"] = json_to_cel(old)
    result = _program(rule).evaluate(activation)
    return isinstance(result, celtypes.BoolType) and bool(result)


def _nodes(schema: Schema, path: str) -> Iterator[tuple[str, Schema]]:
    yield path, schema
    for name, prop in schema.get("properties", {}).items():
        yield from _nodes(prop, _join(path, name))
    if "items" in schema:
        yield from _nodes(schema["items"], path + "[*]")
    if isinstance(schema.get("additionalProperties"), dict):
        yield from _nodes(schema["additionalProperties"], path + "[*]")


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
