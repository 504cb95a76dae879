"""kube-scheduler's decision for one pod: filter the nodes, score the ones left, pick one.

Pure: `schedule(pod, nodes, pods)` reads API JSON dicts and returns a `Decision`; binding,
conditions and events are the caller's. It plays the default profile of kube-scheduler
v1.32 (the version the local cluster reports), without preemption:

- Filters, in the profile's order, stopping at the first that rejects a node (as
  `RunFilterPlugins` does): NodeUnschedulable, TaintToleration, NodeAffinity,
  NodeResourcesFit. A node that is not Ready is rejected through its not-ready or
  unreachable taint, as upstream does since the scheduler stopped reading conditions.
  NodeAffinity's PreFilter runs first: if every required term pins metadata.name, the
  other nodes are not filtered and count as "didn't satisfy plugin(s) [NodeAffinity]".
- The message is `FitError.Error()`: "0/N nodes are available: " then "count reason"
  strings sorted as strings (Go's sort.Strings, so the count leads), joined by ", ",
  then ".". The default profile's preemption would append " preemption: ..."; the local
  cluster has no preemption, so the message ends there.
- Score: NodeResourcesFit's LeastAllocated, on cpu and memory with weight 1 each, the
  default profile's resources. Each resource scores (allocatable - requested) * 100 /
  allocatable, where requested counts the pods already there and this one, with 100m cpu
  and 200Mi memory for containers that request none (the scheduler's non-zero defaults).
  nvidia.com/gpu is not scored by default: a stock kube-scheduler does not score it, and
  spreading GPU pods would leave no whole node free for the next 8-GPU pod, which is not
  how a real cluster behaves either. Pass `weights={..., "nvidia.com/gpu": 1}` to play a
  cluster whose scheduler is configured to score it (pods that request no GPU then ignore
  it, as upstream). Ties go to the first node by name, so decisions are deterministic;
  upstream picks among ties at random.
- Score: InterPodAffinity for preferred pod anti-affinity (scheduling_spread.py),
  normalized to 0..100 and weighted 2 as in the default profile, added to the above.
"""

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from llamaops.sim.apiserver.quantities import parse_quantity
from llamaops.sim.cluster.scheduling_filters import (
    AFFINITY_CONFLICT,
    AFFINITY_NAMES_LEFT_OUT,
    affinity_reasons,
    fit_reasons,
    is_scalar_resource,
    required_node_names,
    taint_reasons,
    tolerates,
    unschedulable_reasons,
)
from llamaops.sim.cluster.scheduling_spread import WEIGHT as SPREAD_WEIGHT
from llamaops.sim.cluster.scheduling_spread import anti_affinity_scores

__all__ = ["Decision", "allocatable", "pod_requests", "schedule", "tolerates"]

Obj = Mapping[str, Any]
NO_NODES = "no nodes available to schedule pods"  # schedule_one.go ErrNoNodesAvailable
DEFAULT_WEIGHTS: Mapping[str, int] = {"cpu": 1, "memory": 1}
DEFAULT_PODS_PER_NODE = 110
NON_ZERO_REQUESTS = {"cpu": 100, "memory": 200 * 1024 * 1024}  # schedutil.Default*Request
MAX_NODE_SCORE = 100
TERMINAL_PHASES = ("Succeeded", "Failed")


@dataclass(frozen=True)
class Decision:
    node: str | None  # where to bind, or None
    message: str  # for PodScheduled=False: the real message shape; "" when bound
    reasons: dict[str, int] = field(default_factory=dict)  # reason -> how many nodes


def schedule(
    pod: Obj,
    nodes: Sequence[Obj],
    pods: Sequence[Obj],
    weights: Mapping[str, int] = DEFAULT_WEIGHTS,
) -> Decision:
    """Where kube-scheduler would bind `pod`, given the cluster's `nodes` and `pods`."""
    bound = (pod.get("spec") or {}).get("nodeName")
    if bound:
        return Decision(bound, "")
    if not nodes:
        return Decision(None, NO_NODES)
    names = required_node_names(pod)
    if names is not None and not names:
        return Decision(
            None, _message(len(nodes), prefilter=AFFINITY_CONFLICT), {AFFINITY_CONFLICT: len(nodes)}
        )
    reasons: dict[str, int] = {}
    feasible: list[Obj] = []
    requests = pod_requests(pod)
    on = _pods_by_node(pods)
    for node in nodes:
        if names is not None and _name(node) not in names:
            rejected = [AFFINITY_NAMES_LEFT_OUT]
        else:
            rejected = _filter(pod, requests, node, on.get(_name(node), []))
        for reason in rejected:
            reasons[reason] = reasons.get(reason, 0) + 1
        if not rejected:
            feasible.append(node)
    if not feasible:
        return Decision(None, _message(len(nodes), reasons=reasons), reasons)
    spread = anti_affinity_scores(pod, feasible, nodes, pods)
    scores = {
        _name(n): _score(pod, n, on.get(_name(n), []), weights) + SPREAD_WEIGHT * spread[_name(n)]
        for n in feasible
    }
    return Decision(min(scores, key=lambda name: (-scores[name], name)), "")


def pod_requests(pod: Obj, non_zero: bool = False) -> dict[str, int]:
    """resource.PodRequests: what the pod asks of a node, in base units (cpu in millicores,
    memory and storage in bytes, extended resources in whole units).

    A container's requests default to its limits (the API server's defaulting). The pod
    needs the sum of its containers and restartable (sidecar) init containers, or the
    most any init container needs while it runs, whichever is larger, plus its overhead.
    `non_zero` counts 100m cpu and 200Mi memory for containers that request none, as the
    scheduler does when it scores.
    """
    spec = pod.get("spec") or {}
    total: dict[str, int] = {}
    for container in spec.get("containers") or []:
        _add(total, _container_requests(container, non_zero))
    sidecars: dict[str, int] = {}
    init_peak: dict[str, int] = {}
    for container in spec.get("initContainers") or []:
        own = _container_requests(container, non_zero)
        if container.get("restartPolicy") == "Always":
            _add(total, own)
            _add(sidecars, own)
            running = dict(sidecars)
        else:
            running = dict(own)
            _add(running, sidecars)
        for name, amount in running.items():
            init_peak[name] = max(init_peak.get(name, 0), amount)
    for name, amount in init_peak.items():
        total[name] = max(total.get(name, 0), amount)
    _add(total, _amounts(spec.get("overhead") or {}))
    return total


def allocatable(node: Obj) -> dict[str, int]:
    """The node's allocatable in base units. A node that reports no "pods" gets the kubelet's
    default of 110 (upstream would read 0 and turn every pod away)."""
    amounts = _amounts((node.get("status") or {}).get("allocatable") or {})
    amounts.setdefault("pods", DEFAULT_PODS_PER_NODE)
    return amounts


# --- filters -----------------------------------------------------------------------------
def _filter(pod: Obj, requests: Mapping[str, int], node: Obj, on_node: list[Obj]) -> list[str]:
    """The first filter that rejects the node, in the default profile's order, says why."""
    return (
        unschedulable_reasons(pod, node)
        or taint_reasons(pod, node)
        or affinity_reasons(pod, node)
        or fit_reasons(requests, allocatable(node), _summed(on_node), len(on_node))
    )


def _pods_by_node(pods: Iterable[Obj]) -> dict[str, list[Obj]]:
    """The pods the scheduler counts on each node: bound there and not finished (one pass
    over the pods, not one per node: clusters of thousands of pods)."""
    on: dict[str, list[Obj]] = {}
    for p in pods:
        node = (p.get("spec") or {}).get("nodeName")
        if node and (p.get("status") or {}).get("phase") not in TERMINAL_PHASES:
            on.setdefault(str(node), []).append(p)
    return on


def _message(total: int, reasons: Mapping[str, int] | None = None, prefilter: str = "") -> str:
    """FitError.Error(), without the preemption part."""
    if prefilter:
        return f"0/{total} nodes are available: {prefilter}."
    histogram = sorted(f"{count} {reason}" for reason, count in (reasons or {}).items())
    return f"0/{total} nodes are available: {', '.join(histogram)}."


# --- score -------------------------------------------------------------------------------
def _score(pod: Obj, node: Obj, on_node: list[Obj], weights: Mapping[str, int]) -> int:
    """NodeResourcesFit LeastAllocated: the weighted mean of each resource's free share."""
    own = _known_requests(pod, True)
    already = _summed(on_node, non_zero=True)
    capacity = allocatable(node)
    total = weight_sum = 0
    for name, weight in weights.items():
        if is_scalar_resource(name) and own.get(name, 0) == 0:
            continue  # an extended resource the pod does not ask for is not scored
        available = capacity.get(name, 0)
        if available == 0:
            continue
        requested = already.get(name, 0) + own.get(name, 0)
        free = 0 if requested > available else (available - requested) * MAX_NODE_SCORE // available
        total += free * weight
        weight_sum += weight
    return total // weight_sum if weight_sum else 0


# --- quantities --------------------------------------------------------------------------
def _container_requests(container: Obj, non_zero: bool) -> dict[str, int]:
    resources = container.get("resources") or {}
    requests = {**(resources.get("limits") or {}), **(resources.get("requests") or {})}
    amounts = _amounts(requests)
    if non_zero:
        for name, default in NON_ZERO_REQUESTS.items():
            amounts.setdefault(name, default)
    return amounts


def _amounts(quantities: Mapping[str, Any]) -> dict[str, int]:
    """Quantities in base units, rounded up as Quantity.Value() and MilliValue() do."""
    amounts = {}
    for name, quantity in quantities.items():
        value = parse_quantity(quantity)
        if value is not None:
            amounts[name] = math.ceil(value * 1000 if name == "cpu" else value)
    return amounts


def _summed(pods: Iterable[Obj], non_zero: bool = False) -> dict[str, int]:
    total: dict[str, int] = {}
    for pod in pods:
        _add(total, _known_requests(pod, non_zero))
    return total


_REQUESTS: dict[tuple[bool, str], dict[str, int]] = {}


def _known_requests(pod: Obj, non_zero: bool) -> dict[str, int]:
    """pod_requests, remembered by what they are computed from (the containers' resources,
    init containers' restart policies, the overhead), so that summing a node's pods does not
    parse thousands of quantities again: thousands of pods share a handful of shapes."""
    spec = pod.get("spec") or {}
    shape = repr(
        (
            [c.get("resources") for c in spec.get("containers") or []],
            [
                (c.get("resources"), c.get("restartPolicy"))
                for c in spec.get("initContainers") or []
            ],
            spec.get("overhead"),
        )
    )
    key = (non_zero, shape)
    found = _REQUESTS.get(key)
    if found is None:
        if len(_REQUESTS) > 10_000:
            _REQUESTS.clear()
        found = _REQUESTS[key] = pod_requests(pod, non_zero)
    return found


def _add(total: dict[str, int], amounts: Mapping[str, int]) -> None:
    for name, amount in amounts.items():
        total[name] = total.get(name, 0) + amount


def _name(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))
