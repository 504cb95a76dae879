"""Label and field selectors, parsed once per request and matched against objects.

Label selectors: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a` (exists), `!a`.
Field selectors: `path=value`, `path==value`, `path!=value` on any dotted field path
(metadata.name, metadata.namespace, spec.nodeName, status.phase, involvedObject.uid, ...);
the real server accepts a fixed list per kind, this one accepts any path.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from llamaops.sim.apiserver.errors import ApiError, bad_request

_SET_TERM = re.compile(r"^\s*(!?)([A-Za-z0-9._/-]+)\s*(?:(notin|in)\s*\(([^)]*)\))?\s*$")
_EQ_TERM = re.compile(r"^\s*([A-Za-z0-9._/-]+)\s*(==|!=|=)\s*([A-Za-z0-9._-]*)\s*$")


@dataclass(frozen=True)
class Requirement:
    """One term of a label selector."""

    key: str
    operator: str  # "in", "notin", "exists", "!exists"
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        if self.operator == "exists":
            return present
        if self.operator == "!exists":
            return not present
        if self.operator == "in":
            return present and labels[self.key] in self.values
        return not present or labels[self.key] not in self.values


@dataclass(frozen=True)
class LabelSelector:
    """All requirements must hold; an empty selector matches everything."""

    requirements: tuple[Requirement, ...] = ()

    def matches(self, obj: Mapping[str, Any]) -> bool:
        labels = obj.get("metadata", {}).get("labels") or {}
        return all(r.matches(labels) for r in self.requirements)


@dataclass(frozen=True)
class FieldSelector:
    """Equality terms on field paths."""

    terms: tuple[tuple[str, bool, str], ...] = ()  # (path, equal?, value)

    def matches(self, obj: Mapping[str, Any]) -> bool:
        return all((field_value(obj, path) == value) == equal for path, equal, value in self.terms)


def parse_label_selector(text: str | None) -> LabelSelector:
    if not text:
        return LabelSelector()
    return LabelSelector(tuple(_label_term(term) for term in _split_terms(text)))


def parse_field_selector(text: str | None, supported: tuple[str, ...] = ()) -> FieldSelector:
    """Terms on the `supported` field paths (any path when none are given)."""
    if not text:
        return FieldSelector()
    terms = []
    for term in text.split(","):
        match = _EQ_TERM.match(term)
        if match is None:
            raise bad_request(f'invalid field selector: "{term}"')
        path, op, value = match.groups()
        if supported and path not in supported:
            raise bad_request(f"field label not supported: {path}")
        terms.append((path, op != "!=", value))
    return FieldSelector(tuple(terms))


def selector_from_match_labels(selector: Mapping[str, Any] | None) -> LabelSelector:
    """A LabelSelector object ({matchLabels, matchExpressions}) as used by PDBs and Services."""
    if not selector:
        return LabelSelector()
    requirements = [
        Requirement(key, "in", frozenset([value]))
        for key, value in (selector.get("matchLabels") or {}).items()
    ]
    operators = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!exists"}
    for expression in selector.get("matchExpressions") or []:
        operator = operators[expression["operator"]]
        requirements.append(
            Requirement(expression["key"], operator, frozenset(expression.get("values") or []))
        )
    return LabelSelector(tuple(requirements))


def field_value(obj: Mapping[str, Any], path: str) -> str:
    node: Any = obj
    for part in path.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    if node is None:
        return ""
    return str(node).lower() if isinstance(node, bool) else str(node)


def _split_terms(text: str) -> list[str]:
    """Split on commas outside parentheses."""
    terms, depth, current = [], 0, ""
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += char
    terms.append(current)
    return [t for t in terms if t.strip()]


def _label_term(term: str) -> Requirement:
    equality = _EQ_TERM.match(term)
    if equality is not None:
        key, op, value = equality.groups()
        return Requirement(key, "notin" if op == "!=" else "in", frozenset([value]))
    match = _SET_TERM.match(term)
    if match is None:
        raise _invalid(term)
    negated, key, operator, values = match.groups()
    if operator is None:
        return Requirement(key, "!exists" if negated else "exists")
    if negated:
        raise _invalid(term)
    return Requirement(key, operator, frozenset(v.strip() for v in values.split(",") if v.strip()))


def _invalid(term: str) -> ApiError:
    return bad_request(f'unable to parse requirement: invalid label selector "{term.strip()}"')
