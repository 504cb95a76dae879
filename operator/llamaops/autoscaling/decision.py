"""The autoscaler's decision: how many replicas a LlamaDeployment needs, and why. Pure.

    decide(policy, window, replicas, room, now) -> Decision(desired, reason, capped_by, ...)

Inputs, one tick:
    policy    min m, max M, target queue t per ready replica, tolerance τ, the up and down
              windows Wu and Wd, the step limits, and the engine's --max-num-seqs S
    window    earlier recommendations (window.py)
    replicas  current = spec.replicas; one Reading per ready replica (None: its /metrics
              could not be read); loading = replicas on a node, not ready yet, of which
              stalled = those crash-looping or past the readiness timeout (they will not
              come); pending = replicas waiting for a node; draining = replicas leaving
              (gone: not counted as capacity, but a scale-down waits for them).
    room      further replicas the free GPUs can hold now
    now       seconds on the same clock as the window

1. Read.  n ready replicas, k of them read. n = 0, or k < n/2 (more than half unknown):
          no decision (a failed scrape is unknown, not zero), and the window is emptied:
          what the load did while unseen is unknown, so no later scale-down may rest on
          it; the next scale-down needs a whole window of recommendations seen after.
          W = Σ waiting · n/k and R = Σ running · n/k (unread replicas are taken to be
          like the read ones); q = W / n.
2. Capacity C of one replica (mean over the read ones): running_i when it queues
          (waiting_i > 0: that is all it can run); else min(S, running_i / kv_i) when its
          KV cache is in use (the share left bounds it); else S.
3. Recommend r, then clamp r into [m, M]:
          q > t(1 + τ)  ->  r = ⌈(R + W) / (C + t)⌉: every replica runs C and holds t waiting
          otherwise     ->  r = min(current, ⌈(R + W) / ((1 - τ) C)⌉): the fewest replicas
                            that carry every request at most (1 - τ) full, without a queue
          So load wavering by ±τ changes nothing: the queue stays in the band, a dip shorter
          than the down window is outweighed by the window's highest (step 6), and a
          scale-down needs the load to fit (1 - τ) of fewer replicas. A dip of τ that
          outlasts the window, from replicas at most (n - 1)/n full, lets one replica go;
          the load's return then fits the n - 1 without a queue, so nothing comes back.
4. Record (now, r) in the window.
5. Up.    u = the lowest recommendation of the last Wu seconds (r itself when Wu = 0).
          u > current -> desired = min(u, current + up limit). The current count already
          includes the replicas loading or pending, so the same queue, seen again while they
          load, asks for nothing more (and a restarted operator does not scale twice).
6. Down.  d = the highest recommendation of the last Wd seconds, known only once the window
          reaches back Wd (HPA's rule: every recommendation in the window must be lower).
          d < current, no replica is coming (loading, not stalled) and none drains ->
          desired = max(d, current - down limit): one step at a time, each seen through
          before the next. Pending and stalled replicas do not hold it (the reconcile
          removes them first: they are the least loaded), so a replica that never comes
          never keeps the deployment at its peak.
7. Cap.   desired ≤ n + loading + room (what the free GPUs can place): capped_by "gpus",
          never below current (pending pods are the reconcile's to report). desired is
          clamped into [m, M] (capped_by "maxReplicas" when M stops a scale-up, on every tick
          the load asks for more than M, not only the one that reached it).
"""

import math
from dataclasses import dataclass

from llamaops.autoscaling.policy import Policy
from llamaops.autoscaling.window import Window

CAPPED_BY_GPUS = "gpus"
CAPPED_BY_MAX = "maxReplicas"


@dataclass(frozen=True)
class Reading:
    """One ready replica's vLLM gauges."""

    waiting: float
    running: float
    kv_usage: float | None = None


@dataclass(frozen=True)
class Replicas:
    """The deployment's replicas by state, as the decision counts them."""

    current: int
    ready: tuple[Reading | None, ...] = ()
    loading: int = 0
    pending: int = 0
    stalled: int = 0  # of the loading: crash-looping or past the readiness timeout
    draining: int = 0


@dataclass(frozen=True)
class Load:
    """What the ready replicas carry (unread replicas estimated like the read ones)."""

    ready: int
    read: int
    queue: float
    running: float
    capacity: float
    kv_usage: float | None

    @property
    def queue_per_replica(self) -> float:
        return self.queue / self.ready if self.ready else 0.0


@dataclass(frozen=True)
class Decision:
    previous: int
    desired: int
    reason: str
    window: Window
    capped_by: str | None = None
    recommendation: int | None = None
    load: Load | None = None

    @property
    def direction(self) -> str | None:
        """ "up", "down", or None when the replicas stay as they are."""
        if self.desired == self.previous:
            return None
        return "up" if self.desired > self.previous else "down"


def decide(policy: Policy, window: Window, replicas: Replicas, room: int, now: float) -> Decision:
    current = replicas.current
    held = _clamp(current, policy)
    ready, read = len(replicas.ready), [r for r in replicas.ready if r is not None]
    if ready == 0:
        why = "no ready replica to read" + _coming(replicas)
        return Decision(current, held, _bounded(why, current, held), Window())
    if 2 * len(read) < ready:
        why = f"metrics of {ready - len(read)} of {_replicas(ready, 'ready')} unknown; no decision"
        return Decision(current, held, _bounded(why, current, held), Window())
    load = _load(read, ready, policy.max_num_seqs)
    raw = _recommend(load, policy, current)
    recommendation = _clamp(raw, policy)
    window = window.record(now, recommendation, policy.keep_seconds)
    step = _Step(policy, window, replicas, room, now, load, raw, recommendation)
    return step.decision()


@dataclass(frozen=True)
class _Step:
    policy: Policy
    window: Window
    replicas: Replicas
    room: int
    now: float
    load: Load
    raw: int
    recommendation: int

    def decision(self) -> Decision:
        current = self.replicas.current
        up = self.window.lowest(self.now, self.policy.scale_up_window) or self.recommendation
        # At maxReplicas with the load asking for more, the cap holds (and is said) each tick.
        at_max = up == current == self.policy.max_replicas and self.raw > current
        if up > current or at_max:
            return self._up(up)
        if current > self.policy.max_replicas or current < self.policy.min_replicas:
            return self._made(
                _clamp(current, self.policy), self._figures() + "; " + _out_of(current, self.policy)
            )
        down = self.window.highest(self.now, self.policy.scale_down_window)
        if down is not None and down < current:
            return self._down(down)
        return self._made(current, self._steady(down))

    def _up(self, up: int) -> Decision:
        current, limit = self.replicas.current, self.policy.scale_up_limit
        wanted = up if limit is None else min(up, current + limit)
        placeable = len(self.replicas.ready) + self.replicas.loading + self.room
        # Only minReplicas lifts a count the load alone would keep: say so, not the queue.
        why = (
            self._queue()
            if self.raw > current
            else self._figures() + "; " + _out_of(current, self.policy)
        )
        capped = None
        if self.raw > self.policy.max_replicas and wanted == self.policy.max_replicas:
            capped, why = (
                CAPPED_BY_MAX,
                f"{why}; capped at maxReplicas {wanted} ({self.raw} wanted)",
            )
        if wanted > placeable:
            capped = CAPPED_BY_GPUS
            why = f"{why}; capped at {max(current, placeable)} by free GPUs ({wanted} wanted)"
            wanted = max(current, placeable)
        elif limit is not None and wanted < up:
            why = f"{why}; {up} wanted, at most {limit} more per decision"
        return self._made(wanted, why, capped)

    def _down(self, down: int) -> Decision:
        current = self.replicas.current
        coming = self.replicas.loading - self.replicas.stalled
        ready = _replicas(len(self.replicas.ready), "ready")
        fits = (
            f"{_number(self.load.running)} running on {ready} fit {_replicas(down)} "
            f"(at most {_number(self.load.capacity)} each) throughout the "
            f"{_seconds(self.policy.scale_down_window)} window"
        )
        if coming:
            held = f"held until the replicas coming are ready{_coming(self.replicas)}"
            return self._made(current, f"{fits}; {held}")
        if self.replicas.draining:
            count = self.replicas.draining
            drains = f"{_replicas(count)} of the last step {'drains' if count == 1 else 'drain'}"
            return self._made(current, f"{fits}; held while {drains}")
        desired = max(down, current - self.policy.scale_down_limit)
        if desired > down:
            fits += f"; at most {self.policy.scale_down_limit} fewer per decision"
        return self._made(desired, fits)

    def _made(self, desired: int, reason: str, capped: str | None = None) -> Decision:
        return Decision(
            previous=self.replicas.current,
            desired=desired,
            reason=reason,
            window=self.window,
            capped_by=capped,
            recommendation=self.recommendation,
            load=self.load,
        )

    def _queue(self) -> str:
        load, n = self.load, len(self.replicas.ready)
        return (
            f"{_number(load.queue)} requests waiting on {_replicas(n, 'ready')}, target "
            f"{_number(self.policy.target_queue_depth)} per replica" + _read(load)
        )

    def _figures(self) -> str:
        load = self.load
        return (
            f"{_number(load.queue)} waiting and {_number(load.running)} running on "
            f"{_replicas(load.ready, 'ready')}" + _read(load)
        )

    def _steady(self, down: int | None) -> str:
        current, policy = self.replicas.current, self.policy
        if self.load.queue_per_replica > policy.target_queue_depth * (1 + policy.tolerance):
            asked = f"{_replicas(current)} asked for{_coming(self.replicas)}"
            return f"{self._queue()}; the {asked} cover it"
        if self.recommendation < current and down is None:
            return (
                f"{self._figures()}: {_replicas(self.recommendation)} would do; scaling down once "
                f"the {_seconds(policy.scale_down_window)} window agrees"
            )
        if self.recommendation < current:
            return (
                f"{self._figures()}: {_replicas(self.recommendation)} would do, but "
                f"{_replicas(down or current)} were needed within the last "
                f"{_seconds(policy.scale_down_window)}"
            )
        return (
            f"{self._figures()}: {_replicas(current)} {_verb(current, 'carry')} it (target "
            f"{_number(policy.target_queue_depth)} waiting per replica, "
            f"±{round(policy.tolerance * 100)} %)"
        )


def _load(read: list[Reading], ready: int, max_num_seqs: int) -> Load:
    scale = ready / len(read)
    usages = [r.kv_usage for r in read if r.kv_usage is not None]
    return Load(
        ready=ready,
        read=len(read),
        queue=sum(r.waiting for r in read) * scale,
        running=sum(r.running for r in read) * scale,
        capacity=max(1.0, sum(_capacity(r, max_num_seqs) for r in read) / len(read)),
        kv_usage=sum(usages) / len(usages) if usages else None,
    )


def _capacity(reading: Reading, max_num_seqs: int) -> float:
    """Requests one replica can run at once, judged from its own gauges (step 2)."""
    if reading.waiting > 0 and reading.running > 0:
        return min(float(max_num_seqs), reading.running)
    if reading.kv_usage and reading.kv_usage > 0 and reading.running > 0:
        return min(float(max_num_seqs), reading.running / reading.kv_usage)
    return float(max_num_seqs)


def _recommend(load: Load, policy: Policy, current: int) -> int:
    total = load.queue + load.running
    if load.queue_per_replica > policy.target_queue_depth * (1 + policy.tolerance):
        return math.ceil(total / (load.capacity + policy.target_queue_depth))
    carried = math.ceil(total / ((1 - policy.tolerance) * load.capacity))
    return min(current, carried)


def _clamp(replicas: int, policy: Policy) -> int:
    return max(policy.min_replicas, min(policy.max_replicas, replicas))


def _bounded(why: str, current: int, held: int) -> str:
    if held == current:
        return why
    return f"{why}; brought within minReplicas..maxReplicas from {current}"


def _out_of(current: int, policy: Policy) -> str:
    return (
        f"spec.replicas {current} is outside minReplicas {policy.min_replicas} .. "
        f"maxReplicas {policy.max_replicas}"
    )


def _coming(replicas: Replicas) -> str:
    parts = []
    if replicas.loading - replicas.stalled:
        parts.append(f"{replicas.loading - replicas.stalled} loading")
    if replicas.stalled:
        parts.append(f"{replicas.stalled} not coming up")
    if replicas.pending:
        parts.append(f"{replicas.pending} waiting for GPUs")
    return f" ({', '.join(parts)})" if parts else ""


def _read(load: Load) -> str:
    return "" if load.read == load.ready else f" ({load.read} of {load.ready} read)"


def _replicas(count: int, adjective: str = "") -> str:
    noun = "replica" if count == 1 else "replicas"
    return f"{count} {adjective} {noun}" if adjective else f"{count} {noun}"


def _verb(count: int, verb: str) -> str:
    """ "carries" for one replica, "carry" for several."""
    return verb[:-1] + "ies" if count == 1 and verb.endswith("y") else verb


def _number(value: float) -> str:
    return str(round(value)) if abs(value - round(value)) < 0.05 else f"{value:.1f}"


def _seconds(value: float) -> str:
    return f"{_number(value)} s"
