"""A HorizontalPodAutoscaler with Kubernetes' default behaviour, and `hpa-queue` on it.

Sources: the algorithm as documented at
https://kubernetes.io/docs/concepts/workloads/autoscaling/horizontal-pod-autoscale/
("Algorithm details", "Default Behavior"), and as kube-controller-manager implements it
(kubernetes/kubernetes pkg/controller/podautoscaler: replica_calculator.go for the
ratio, horizontal.go for stabilization and rate limits).

Every sync period (`--horizontal-pod-autoscaler-sync-period`, default 15 s):

1. Ratio. A Pods metric with target value t per pod: pods with a value give the ratio
   u = mean(value) / t. Pods being deleted are left out; Pending pods are "ignored";
   pods without a value (a vLLM pod still loading serves no /metrics) are "missing".
   No value at all: no decision. Without ignored or missing pods: |1 - u| <= tolerance
   (default 0.1) keeps `current`, else desired = ceil(u * pods with a value). Otherwise
   the missing pods are filled in at t when u < 1 (a scale-down) and at 0 when u >= 1,
   the ignored ones at 0 when u > 1, the ratio u' recomputed over all of them; within
   the tolerance, or on the other side of 1 than u, keeps `current`; else
   desired = ceil(u' * pods counted).
2. Stabilize. Every raw desired is recorded (the first record of a new HPA is the
   current count); the recommendation is `current`, raised to the lowest desired of the
   scale-up window (0 s by default: the desired itself) and lowered to the highest
   desired of the scale-down window (300 s by default).
3. Rate limits (default policies): up by at most max(100 %, 4 pods) per 15 s, down by
   at most 100 % per 15 s, counted from the replicas at the start of each period (the
   scale events of the last 15 s), then clamped into [minReplicas, maxReplicas].

`current` is the scale's spec.replicas. The recommendation is written as the new count.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from llamaops.sim.capacity.policies import View, clamp

SYNC_SECONDS = 15.0  # --horizontal-pod-autoscaler-sync-period
TOLERANCE = 0.1  # --horizontal-pod-autoscaler-tolerance


@dataclass(frozen=True)
class Rule:
    """One scaling policy: `kind` "Pods" or "Percent", `value` per `period` seconds."""

    kind: str
    value: int
    period: float = 15.0


@dataclass(frozen=True)
class Behavior:
    """spec.behavior as Kubernetes defaults it; `select` is "Max" (the largest change)."""

    up_window: float = 0.0
    down_window: float = 300.0
    up_rules: tuple[Rule, ...] = (Rule("Percent", 100), Rule("Pods", 4))
    down_rules: tuple[Rule, ...] = (Rule("Percent", 100),)


def pods_metric_replicas(
    current: int,
    values: Sequence[float],
    target: float,
    *,
    missing: int = 0,
    ignored: int = 0,
    tolerance: float = TOLERANCE,
) -> int | None:
    """Step 1 for a Pods metric: the desired count, or None without any value."""
    if not values:
        return None
    ratio = sum(values) / len(values) / target
    if ignored == 0 and missing == 0:
        if abs(1 - ratio) <= tolerance:
            return current
        return math.ceil(ratio * len(values))
    filled = list(values)
    filled += [target if ratio < 1 else 0.0] * missing
    if ratio > 1:
        filled += [0.0] * ignored
    new = sum(filled) / len(filled) / target
    if abs(1 - new) <= tolerance or (ratio < 1 < new) or (new < 1 < ratio):
        return current
    return math.ceil(new * len(filled))


def external_average_replicas(
    status_replicas: int, total: float, target: float, tolerance: float = TOLERANCE
) -> int:
    """Step 1 for an External metric with an AverageValue target (what KEDA's triggers
    are): the metric's total over the target, unless within the tolerance of the pods."""
    if status_replicas > 0 and abs(1 - total / (target * status_replicas)) <= tolerance:
        return status_replicas
    return math.ceil(total / target)


@dataclass
class Hpa:
    """Steps 2 and 3, with the recommendations and scale events they remember."""

    min_replicas: int
    max_replicas: int
    behavior: Behavior = field(default_factory=Behavior)
    recommendations: list[tuple[float, int]] = field(default_factory=list)
    scale_events: list[tuple[float, int]] = field(default_factory=list)  # (time, change)

    def normalize(self, now: float, current: int, desired: int) -> int:
        stabilized = self._stabilize(now, current, desired)
        limited = self._limit(now, current, stabilized)
        longest = max(r.period for r in (*self.behavior.up_rules, *self.behavior.down_rules))
        self.scale_events = [e for e in self.scale_events if e[0] > now - longest]
        if limited != current:
            self.scale_events.append((now, limited - current))
        return limited

    def _stabilize(self, now: float, current: int, desired: int) -> int:
        if not self.recommendations:  # a new HPA starts its window at the current count
            self.recommendations.append((now, current))
        up, down = desired, desired
        for when, value in self.recommendations:
            if when > now - self.behavior.up_window:
                up = min(up, value)
            if when > now - self.behavior.down_window:
                down = max(down, value)
        keep = max(self.behavior.up_window, self.behavior.down_window)
        self.recommendations = [r for r in self.recommendations if r[0] > now - keep]
        self.recommendations.append((now, desired))
        return min(max(current, up), down)

    def _limit(self, now: float, current: int, desired: int) -> int:
        if desired > current:
            ceiling = max(current, self._up_limit(now, current))
            return min(desired, ceiling, self.max_replicas)
        if desired < current:
            floor = min(current, self._down_limit(now, current))
            return max(desired, floor, self.min_replicas)
        return clamp(desired, self.min_replicas, self.max_replicas)

    def _period_start(self, now: float, current: int, period: float) -> int:
        added = sum(c for t, c in self.scale_events if t > now - period and c > 0)
        removed = -sum(c for t, c in self.scale_events if t > now - period and c < 0)
        return current - added + removed

    def _up_limit(self, now: float, current: int) -> int:
        proposals = []
        for rule in self.behavior.up_rules:
            start = self._period_start(now, current, rule.period)
            if rule.kind == "Pods":
                proposals.append(start + rule.value)
            else:
                proposals.append(math.ceil(start * (1 + rule.value / 100)))
        return max(proposals)

    def _down_limit(self, now: float, current: int) -> int:
        proposals = []
        for rule in self.behavior.down_rules:
            start = self._period_start(now, current, rule.period)
            if rule.kind == "Pods":
                proposals.append(start - rule.value)
            else:
                proposals.append(math.floor(start * (1 - rule.value / 100)))
        return min(proposals)


@dataclass
class HpaQueue:
    """`hpa-queue`: an HPA on `vllm:num_requests_waiting` as a Pods metric (through a
    custom-metrics adapter), averaged per pod, aiming at `target` waiting per pod."""

    target: float
    min_replicas: int
    max_replicas: int
    name: str = "hpa-queue"
    interval: float = SYNC_SECONDS
    drains_least_loaded: bool = False  # a ReplicaSet deletes the newest ready pod first
    hpa: Hpa = field(init=False)

    def __post_init__(self) -> None:
        self.hpa = Hpa(self.min_replicas, self.max_replicas)

    @property
    def initial(self) -> int:
        return self.min_replicas

    def decide(self, view: View) -> int:
        desired = pods_metric_replicas(
            view.desired,
            [reading.waiting for reading in view.ready],
            self.target,
            missing=view.loading,
            ignored=view.pending,
        )
        if desired is None:  # "did not receive metrics for any ready pods"
            return view.desired
        return self.hpa.normalize(view.now, view.desired, desired)
