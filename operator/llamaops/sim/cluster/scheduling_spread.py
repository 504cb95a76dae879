"""kube-scheduler's InterPodAffinity score, for preferred pod anti-affinity only. Pure.

For each `preferredDuringSchedulingIgnoredDuringExecution` term of the pod's
podAntiAffinity (weight w, a labelSelector and a topologyKey), every feasible node loses
w for each pod already running in the node's topology domain (the nodes that share its
value of topologyKey) whose labels the selector matches. The raw scores are then
normalized over the feasible nodes as upstream's NormalizeScore does:
100 × (score - min) / (max - min), 0 for all when they are equal. The default profile
weighs this plugin 2 against NodeResourcesFit's 1.

Only `matchLabels` and the `In`, `NotIn`, `Exists` and `DoesNotExist` expressions are read;
required anti-affinity, pod affinity and namespaces other than the pod's own are not
played (the local cluster's pods need none of them).
"""

from collections.abc import Mapping, Sequence
from typing import Any

Obj = Mapping[str, Any]
MAX_NODE_SCORE = 100
WEIGHT = 2  # the default profile's weight of InterPodAffinity
TERMINAL_PHASES = ("Succeeded", "Failed")


def anti_affinity_scores(
    pod: Obj, feasible: Sequence[Obj], nodes: Sequence[Obj], pods: Sequence[Obj]
) -> dict[str, int]:
    """Feasible node name -> normalized score (0..100) of `pod`'s preferred anti-affinity;
    `nodes` are all the cluster's (pods on full nodes count toward their domains too)."""
    names = [n["metadata"]["name"] for n in feasible]
    terms = _preferred_terms(pod)
    if not terms:
        return dict.fromkeys(names, 0)
    labels = {n["metadata"]["name"]: n["metadata"].get("labels") or {} for n in nodes}
    namespace = pod["metadata"].get("namespace")
    others = [
        p
        for p in pods
        if (p.get("spec") or {}).get("nodeName")
        and (p.get("status") or {}).get("phase") not in TERMINAL_PHASES
        and p["metadata"].get("namespace") == namespace
        and p["metadata"].get("name") != pod["metadata"].get("name")
    ]
    # Per term, how many matching pods each topology domain holds: one pass over the pods.
    held: list[tuple[int, str, dict[str, int]]] = []
    for weight, selector, key in terms:
        domains: dict[str, int] = {}
        for other in others:
            if matches(selector, other["metadata"].get("labels") or {}):
                domain = labels.get(other["spec"]["nodeName"], {}).get(key)
                if domain is not None:
                    domains[domain] = domains.get(domain, 0) + 1
        held.append((weight, key, domains))
    raw = {}
    for node in names:
        score = 0
        for weight, key, domains in held:
            domain = labels[node].get(key)
            if domain is not None:
                score -= weight * domains.get(domain, 0)
        raw[node] = score
    low, high = min(raw.values()), max(raw.values())
    if high == low:
        return dict.fromkeys(names, 0)
    return {n: MAX_NODE_SCORE * (raw[n] - low) // (high - low) for n in names}


def _preferred_terms(pod: Obj) -> list[tuple[int, Obj, str]]:
    anti = ((pod.get("spec") or {}).get("affinity") or {}).get("podAntiAffinity") or {}
    terms = []
    for term in anti.get("preferredDuringSchedulingIgnoredDuringExecution") or []:
        affinity = term.get("podAffinityTerm") or {}
        key = affinity.get("topologyKey")
        if key:
            terms.append((int(term.get("weight", 0)), affinity.get("labelSelector") or {}, key))
    return terms


def matches(selector: Obj, labels: Mapping[str, str]) -> bool:
    """A metav1.LabelSelector against labels (an empty selector matches everything)."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression.get("key"), expression.get("operator")
        values = expression.get("values") or []
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True
