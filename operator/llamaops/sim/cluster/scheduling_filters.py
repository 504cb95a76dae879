"""kube-scheduler's filter plugins for one pod on one node, on API JSON dicts.

Each filter returns the reasons it rejects the node for, in kube-scheduler's words (v1.32,
pkg/scheduler/framework/plugins/...), or [] when the node passes. `scheduling` runs them
in the default profile's order and stops at the first that rejects, as the framework does.
"""

import re
from collections.abc import Iterable, Mapping
from typing import Any

Obj = Mapping[str, Any]

# nodeunschedulable.ErrReasonUnschedulable
UNSCHEDULABLE = "node(s) were unschedulable"
# nodeaffinity.ErrReasonPod
AFFINITY_MISMATCH = "node(s) didn't match Pod's node affinity/selector"
# nodeaffinity.errReasonConflict: every term pins metadata.name and no name is left
AFFINITY_CONFLICT = "pod affinity terms conflict"
# the status schedulePod gives nodes a PreFilter result leaves out
AFFINITY_NAMES_LEFT_OUT = "node(s) didn't satisfy plugin(s) [NodeAffinity]"
# noderesources.fitsRequest
TOO_MANY_PODS = "Too many pods"

# v1.TaintNodeUnschedulable, TaintNodeNotReady, TaintNodeUnreachable
UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable"
NOT_READY_TAINT = "node.kubernetes.io/not-ready"
UNREACHABLE_TAINT = "node.kubernetes.io/unreachable"
DO_NOT_SCHEDULE = ("NoSchedule", "NoExecute")
NATIVE_RESOURCES = ("cpu", "memory", "ephemeral-storage")
_INT64 = re.compile(r"[+-]?\d+")


# --- NodeUnschedulable -------------------------------------------------------------------
def unschedulable_reasons(pod: Obj, node: Obj) -> list[str]:
    """A cordoned node takes only pods tolerating node.kubernetes.io/unschedulable:NoSchedule."""
    if not (node.get("spec") or {}).get("unschedulable"):
        return []
    cordon = {"key": UNSCHEDULABLE_TAINT, "effect": "NoSchedule"}
    return [] if tolerates(_tolerations(pod), cordon) else [UNSCHEDULABLE]


# --- TaintToleration ---------------------------------------------------------------------
def taint_reasons(pod: Obj, node: Obj) -> list[str]:
    """The first NoSchedule/NoExecute taint the pod does not tolerate, named as v1.32 names
    it (from kubernetes#134740, in 1.35 and cherry-picked to 1.34, it says only "taint(s)")."""
    tolerations = _tolerations(pod)
    for taint in effective_taints(node):
        if taint.get("effect") in DO_NOT_SCHEDULE and not tolerates(tolerations, taint):
            return [f"node(s) had untolerated taint {{{taint['key']}: {taint.get('value') or ''}}}"]
    return []


def effective_taints(node: Obj) -> list[Obj]:
    """The node's taints, plus the one the node lifecycle controller puts on a node that is
    not Ready (the TaintNodesByCondition admission puts not-ready on a node that has never
    reported): the scheduler itself no longer reads conditions, only these taints."""
    taints: list[Obj] = list((node.get("spec") or {}).get("taints") or [])
    ready = next(
        (c for c in (node.get("status") or {}).get("conditions") or [] if c.get("type") == "Ready"),
        None,
    )
    status = None if ready is None else ready.get("status")
    if status == "True":
        return taints
    key = UNREACHABLE_TAINT if status == "Unknown" else NOT_READY_TAINT
    if not any(t.get("key") == key and t.get("effect") == "NoSchedule" for t in taints):
        taints.append({"key": key, "effect": "NoSchedule"})
    return taints


def tolerates(tolerations: Iterable[Obj], taint: Obj) -> bool:
    """v1helper.TolerationsTolerateTaint: whether any of the tolerations tolerates the taint."""
    return any(toleration_matches(toleration, taint) for toleration in tolerations)


def toleration_matches(toleration: Obj, taint: Obj) -> bool:
    """v1.Toleration.ToleratesTaint: an empty effect or key matches all; "" means Equal."""
    effect, key = toleration.get("effect") or "", toleration.get("key") or ""
    if effect and effect != taint.get("effect"):
        return False
    if key and key != taint.get("key"):
        return False
    operator = toleration.get("operator") or "Equal"
    if operator == "Exists":
        return True
    return operator == "Equal" and (toleration.get("value") or "") == (taint.get("value") or "")


def _tolerations(pod: Obj) -> list[Obj]:
    return list((pod.get("spec") or {}).get("tolerations") or [])


# --- NodeAffinity ------------------------------------------------------------------------
def required_node_names(pod: Obj) -> set[str] | None:
    """NodeAffinity's PreFilter: when every required term pins metadata.name with In, only
    those nodes are filtered at all; None when any node may do."""
    terms = _required_terms(pod)
    if not terms:
        return None
    names: set[str] = set()
    for term in terms:
        pinned = [
            set(r.get("values") or [])
            for r in term.get("matchFields") or []
            if r.get("key") == "metadata.name" and r.get("operator") == "In"
        ]
        if not pinned:
            return None
        names |= set.intersection(*pinned)
    return names


def affinity_reasons(pod: Obj, node: Obj) -> list[str]:
    """nodeSelector and required node affinity (terms ORed, requirements ANDed)."""
    spec = pod.get("spec") or {}
    labels: Mapping[str, str] = (node.get("metadata") or {}).get("labels") or {}
    selector: Mapping[str, str] = spec.get("nodeSelector") or {}
    matches = all(key in labels and labels[key] == value for key, value in selector.items())
    terms = _required_terms(pod)
    if matches and terms is not None:
        name = (node.get("metadata") or {}).get("name", "")
        matches = any(_term_matches(term, labels, name) for term in terms)
    return [] if matches else [AFFINITY_MISMATCH]


def _required_terms(pod: Obj) -> list[Obj] | None:
    affinity = ((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {}
    required = affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
    return None if required is None else list(required.get("nodeSelectorTerms") or [])


def _term_matches(term: Obj, labels: Mapping[str, str], name: str) -> bool:
    """A term with nothing in it, or one that does not parse (None), matches no node."""
    expressions, fields = term.get("matchExpressions") or [], term.get("matchFields") or []
    if not expressions and not fields:
        return False
    results = [_label_requirement(r, labels) for r in expressions]
    results += [_field_requirement(r, name) for r in fields]
    return all(results)


def _label_requirement(requirement: Obj, labels: Mapping[str, str]) -> bool | None:
    """labels.Requirement.Matches; None where labels.NewRequirement would refuse it."""
    key, operator, values = _parts(requirement)
    present, value = key in labels, labels.get(key, "")
    if operator in ("In", "NotIn"):
        return (present and value in values) == (operator == "In") if values else None
    if operator in ("Exists", "DoesNotExist"):
        return None if values else present == (operator == "Exists")
    if operator in ("Gt", "Lt"):
        bound = _int64(values[0]) if len(values) == 1 else None
        if bound is None:
            return None
        actual = _int64(value) if present else None
        if actual is None:
            return False
        return actual > bound if operator == "Gt" else actual < bound
    return None


def _field_requirement(requirement: Obj, name: str) -> bool | None:
    """matchFields know only metadata.name, with In or NotIn and exactly one value."""
    key, operator, values = _parts(requirement)
    if key != "metadata.name" or len(values) != 1 or operator not in ("In", "NotIn"):
        return None
    return (name == values[0]) == (operator == "In")


def _parts(requirement: Obj) -> tuple[str, str, list[str]]:
    values = [str(value) for value in requirement.get("values") or []]
    return str(requirement.get("key") or ""), str(requirement.get("operator") or ""), values


def _int64(text: str) -> int | None:
    """strconv.ParseInt(text, 10, 64)."""
    if not _INT64.fullmatch(text):
        return None
    number = int(text)
    return number if -(2**63) <= number < 2**63 else None


# --- NodeResourcesFit --------------------------------------------------------------------
def fit_reasons(
    requests: Mapping[str, int],
    allocatable: Mapping[str, int],
    requested: Mapping[str, int],
    pods_on_node: int,
) -> list[str]:
    """Every resource the node is short of: pods first, then cpu, memory, ephemeral-storage,
    then extended resources (which are whole numbers, so GPUs are never overcommitted)."""
    reasons = [TOO_MANY_PODS] if pods_on_node + 1 > allocatable.get("pods", 0) else []
    extended = sorted(name for name in requests if is_scalar_resource(name))
    for name in [*NATIVE_RESOURCES, *extended]:
        amount = requests.get(name, 0)
        if amount > 0 and amount > allocatable.get(name, 0) - requested.get(name, 0):
            reasons.append(f"Insufficient {name}")
    return reasons


def is_scalar_resource(name: str) -> bool:
    """Extended resources (a domain-qualified name such as nvidia.com/gpu) and hugepages;
    names that are neither, and not cpu, memory or ephemeral-storage, the scheduler ignores."""
    return "/" in name or name.startswith("hugepages-")
