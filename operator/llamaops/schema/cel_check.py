"""Checks a CRD's CEL rules before the CRD is accepted, as kube-apiserver's type checker does.

cel-python is dynamic, so the checks are made in two ways: every `self.a.b` (and
`oldSelf...`) chain must name fields the schema declares, and each rule is evaluated
against a sample value built from the schema, with every declared field present, so
that a comparison of an integer with a string fails here ("no such overload") instead
of on a user's object. A rule that fails either check is refused, never skipped.
"""

import re
from collections.abc import Iterator
from typing import Any

from llamaops.schema.cel import RULES, compiled, evaluate

Schema = dict[str, Any]
FIELD_CHAIN = re.compile(r"\b(?:self|oldSelf)((?:\.[A-Za-z_][A-Za-z0-9_]*)+)(\s*\()?")
TYPE_ERRORS = ("no such overload", "no matching overload")
SAMPLES = {"integer": 0, "number": 0.0, "string": "", "boolean": False}


def rule_compile_errors(schema: Schema, path: str = "") -> list[str]:
    """Every rule in the schema that does not compile or does not type-check, with where."""
    errors = []
    for where, node in _nodes(schema, path):
        for entry in node.get(RULES, []):
            problem = _problem(entry["rule"], node)
            if problem is not None:
                errors.append(f"{where or '<root>'}: rule {entry['rule']!r}: {problem}")
    return errors


def _problem(rule: str, node: Schema) -> str | None:
    try:
        compiled(rule)
    except Exception as error:  # cel-python raises several unrelated types
        return str(error).splitlines()[0]
    undeclared = _undeclared(rule, node)
    if undeclared is not None:
        return undeclared
    try:
        evaluate(rule, sample(node), sample(node) if "oldSelf" in rule else None)
    except Exception as error:  # only type errors count: a sample may trip value checks
        text = str(error)
        if any(marker in text for marker in TYPE_ERRORS):
            return text.splitlines()[0]
    return None


def _undeclared(rule: str, node: Schema) -> str | None:
    for match in FIELD_CHAIN.finditer(rule):
        names = match.group(1).strip(".").split(".")
        if match.group(2):  # the last name is a method call: self.name.startsWith(...)
            names = names[:-1]
        current = node
        for name in names:
            props = current.get("properties")
            if props is None or current.get("x-kubernetes-preserve-unknown-fields"):
                break  # a map or free-form object: any key may exist
            if name not in props:
                return f"undefined field '{name}'"
            current = props[name]
    return None


def sample(node: Schema) -> Any:
    """A value of the schema's type with every declared field present."""
    if node.get("x-kubernetes-int-or-string"):
        return 0
    kind = node.get("type")
    if kind == "object" or "properties" in node:
        value = {name: sample(prop) for name, prop in (node.get("properties") or {}).items()}
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            value["key"] = sample(extra)
        return value
    if kind == "array":
        return [sample(node.get("items") or {})]
    if node.get("enum"):
        return node["enum"][0]
    return SAMPLES.get(str(kind), "")


def _nodes(schema: Schema, path: str) -> Iterator[tuple[str, Schema]]:
    yield path, schema
    for name, prop in schema.get("properties", {}).items():
        yield from _nodes(prop, f"{path}.{name}" if path else name)
    if "items" in schema:
        yield from _nodes(schema["items"], path + "[*]")
    if isinstance(schema.get("additionalProperties"), dict):
        yield from _nodes(schema["additionalProperties"], path + "[*]")
