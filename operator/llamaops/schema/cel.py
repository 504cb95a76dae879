"""CEL rules (`x-kubernetes-validations`) checked with cel-python, `self` bound as in Kubernetes.

Rules are checked before a CRD is accepted in cel_check.py.
"""

from functools import lru_cache
from typing import Any

import celpy
from celpy import celtypes
from celpy.adapter import json_to_cel

Schema = dict[str, Any]
RULES = "x-kubernetes-validations"


@lru_cache(maxsize=512)
def compiled(rule: str) -> Any:
    """The rule, compiled once; raises when it does not parse."""
    env = celpy.Environment()
    return env.program(env.compile(rule))


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


def evaluate(rule: str, value: Any, old: Any = None) -> Any:
    """The rule's result with `self` (and `oldSelf`) bound; raises on compile or type errors."""
    activation = {"self": json_to_cel(value)}
    if old is not None:
        activation["oldSelf"] = json_to_cel(old)
    return compiled(rule).evaluate(activation)


def _holds(rule: str, value: Any, old: Any) -> bool:
    result = evaluate(rule, value, old)
    return isinstance(result, celtypes.BoolType) and bool(result)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
