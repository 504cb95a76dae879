"""One policy against one trace: a discrete-event simulation on virtual time.

Events, in time order: a request arrives; a replica's planned steps end; a replica has
loaded; the policy's tick; a request held at the Service times out; a sample of the
timeline. Nothing sleeps: a day of traffic costs what its engine steps cost.

- Routing is the local cluster's Service proxy (sim/cluster/proxy.py): round robin over
  the ready, non-draining replicas. With none ready, a request waits at the Service (as
  KubeAI's proxy or a retrying client would) and fails after `client_timeout` seconds.
  A request vLLM would refuse (longer than the context, or than the KV cache) fails.
- The policy's count is applied at once: new replicas start on free GPUs (the rest wait,
  Pending, until GPUs free up), surplus ones are removed in `drain_order`.
- The replicas serving when the trace starts are warm: the deployment ran before it.
- GPU time is counted from a replica's start to its end, within [0, duration]; requests
  still in flight at `duration` run to their end, so each one has its latencies.
"""

import heapq
import itertools
import math
from array import array
from collections import deque
from dataclasses import dataclass, field

from llamaops.sim.capacity.fleet import EngineModel, Replica, State, drain_order
from llamaops.sim.capacity.policies import Autoscaler, View
from llamaops.sim.capacity.traces import Trace
from llamaops.sim.engine.batching import Sequence as EngineSequence

STEP, READY, TICK, TIMEOUT, SAMPLE = range(5)
Request = tuple[float, int, int]  # arrival, prompt tokens, output tokens
CLIENT_TIMEOUT_SECONDS = 60.0
SAMPLES = 720  # timeline points over the run, for the plots


@dataclass
class Timeline:
    times: list[float] = field(default_factory=list)
    desired: list[int] = field(default_factory=list)
    replicas: list[int] = field(default_factory=list)  # holding GPUs: loading, ready, draining
    ready: list[int] = field(default_factory=list)
    queue: list[int] = field(default_factory=list)  # waiting in engines and at the Service


@dataclass
class Outcome:
    policy: str
    duration: float
    gpus_per_replica: int
    requests: int = 0
    failed: int = 0
    arrivals: array = field(default_factory=lambda: array("d"))  # type: ignore[type-arg]
    ttft: array = field(default_factory=lambda: array("d"))  # type: ignore[type-arg]
    tpot: array = field(default_factory=lambda: array("d"))  # type: ignore[type-arg]
    gpu_seconds: float = 0.0
    scale_events: int = 0
    timeline: Timeline = field(default_factory=Timeline)


def simulate(
    requests: Trace,
    engine: EngineModel,
    autoscaler: Autoscaler,
    *,
    slots: int,
    duration: float,
    client_timeout: float = CLIENT_TIMEOUT_SECONDS,
) -> Outcome:
    """Replay `requests` (in time order) through replicas that `autoscaler` scales.

    Each finished request leaves its arrival, time to first token and time per output
    token in the outcome, in the order they finished."""
    return _Run(requests, engine, autoscaler, slots, (duration, client_timeout)).run()


class _Run:
    def __init__(
        self,
        requests: Trace,
        engine: EngineModel,
        autoscaler: Autoscaler,
        slots: int,
        times: tuple[float, float],
    ) -> None:
        self.requests, self.engine, self.autoscaler, self.slots = (
            requests,
            engine,
            autoscaler,
            slots,
        )
        self.duration, self.client_timeout = times
        self.out = Outcome(autoscaler.name, self.duration, engine.gpus)
        self.events: list[tuple[float, int, int, Replica | None, int]] = []
        self.order = itertools.count()
        self.numbers = itertools.count()
        self.holding: list[Replica] = []  # replicas with GPUs
        self.ready: list[Replica] = []  # the Service's endpoints
        self.done: list[Replica] = []
        self.held: deque[Request] = deque()
        self.pending = 0
        self.turn = 0
        self.in_engines = 0
        self.desired = autoscaler.initial

    def run(self) -> Outcome:
        for _ in range(min(self.desired, self.slots)):
            warm = self._new_replica(0.0)
            warm.state = State.READY
            self.ready.append(warm)
        self.pending = max(0, self.desired - self.slots)
        self._push(self.autoscaler.interval, TICK)
        self._push(0.0, SAMPLE)
        offsets, prompts, outputs = (
            self.requests.offsets,
            self.requests.prompts,
            self.requests.outputs,
        )
        index, count, events = 0, len(offsets), self.events
        while True:
            arrival = offsets[index] if index < count else math.inf
            if events and events[0][0] <= arrival:
                now, _, kind, replica, version = heapq.heappop(events)
                self._handle(now, kind, replica, version)
            elif index < count:
                self._arrive(arrival, (arrival, prompts[index], outputs[index]))
                index += 1
            else:
                break
        for replica in (*self.holding, *self.done):
            self.out.gpu_seconds += replica.gpu_seconds(self.duration)
        return self.out

    # --- events -----------------------------------------------------------------------
    def _push(
        self, when: float, kind: int, replica: Replica | None = None, version: int = 0
    ) -> None:
        heapq.heappush(self.events, (when, next(self.order), kind, replica, version))

    def _handle(self, now: float, kind: int, replica: Replica | None, version: int) -> None:
        if kind == STEP:
            assert replica is not None
            if version == replica.version:
                self._step(now, replica)
        elif kind == READY:
            assert replica is not None
            self._ready(now, replica)
        elif kind == TICK:
            self._tick(now)
        elif kind == TIMEOUT:
            self._expire(now)
        else:
            self._sample(now)

    def _arrive(self, now: float, request: Request) -> None:
        self.out.requests += 1
        if not self.ready:
            self.held.append(request)
            self._push(now + self.client_timeout, TIMEOUT)
            return
        replica = self.ready[self.turn % len(self.ready)]
        self.turn += 1
        self._send(now, replica, request)

    def _send(self, now: float, replica: Replica, request: Request) -> None:
        arrived, prompt_tokens, output_tokens = request
        if not replica.accepts(prompt_tokens, output_tokens):
            self.out.failed += 1
            return
        replica.submit(prompt_tokens, output_tokens, arrived)
        self.in_engines += 1
        plan = replica.plan
        if plan is None:
            self._plan(now, replica)
        elif plan.steps > 1 and replica.wants_wake():
            boundary = plan.next_boundary(now)
            if boundary < replica.steps:
                replica.steps = boundary
                replica.version += 1
                self._push(plan.ends_at(boundary), STEP, replica, replica.version)

    def _plan(self, now: float, replica: Replica) -> None:
        plan = replica.batcher.plan(now, self.engine.max_batched_seconds)
        replica.plan = plan
        if plan is None:
            if replica.state is State.DRAINING:
                self._gone(now, replica)
            return
        replica.steps = plan.steps
        replica.version += 1
        self._push(plan.ends, STEP, replica, replica.version)

    def _step(self, now: float, replica: Replica) -> None:
        assert replica.plan is not None
        result = replica.batcher.complete(replica.plan, replica.steps)
        for seq in result.finished:
            self._record(seq)
        self._plan(now, replica)

    def _record(self, seq: EngineSequence) -> None:
        assert seq.first_token_at is not None and seq.finished_at is not None
        self.in_engines -= 1
        self.out.arrivals.append(seq.arrived_at)
        self.out.ttft.append(seq.first_token_at - seq.arrived_at)
        tokens = seq.generated
        decode = seq.finished_at - seq.first_token_at
        self.out.tpot.append(decode / (tokens - 1) if tokens > 1 else 0.0)

    def _ready(self, now: float, replica: Replica) -> None:
        if replica.state is not State.LOADING:
            return  # removed while it loaded
        replica.state = State.READY
        self.ready.append(replica)
        while self.held:
            request = self.held.popleft()
            if request[0] + self.client_timeout <= now:
                self.out.failed += 1
            else:
                self._arrive_held(now, request)

    def _arrive_held(self, now: float, request: Request) -> None:
        replica = self.ready[self.turn % len(self.ready)]
        self.turn += 1
        self._send(now, replica, request)

    def _expire(self, now: float) -> None:
        while self.held and self.held[0][0] + self.client_timeout <= now:
            self.held.popleft()
            self.out.failed += 1

    def _tick(self, now: float) -> None:
        view = View(
            now=now,
            desired=self.desired,
            ready=tuple(replica.reading() for replica in self.ready),
            loading=sum(1 for r in self.holding if r.state is State.LOADING),
            pending=self.pending,
            room=self.slots - len(self.holding),
            draining=sum(1 for r in self.holding if r.state is State.DRAINING),
            in_flight=self.in_engines + len(self.held),
        )
        self._apply(now, self.autoscaler.decide(view))
        if now + self.autoscaler.interval < self.duration:
            self._push(now + self.autoscaler.interval, TICK)

    def _sample(self, now: float) -> None:
        line = self.out.timeline
        line.times.append(now)
        line.desired.append(self.desired)
        line.replicas.append(len(self.holding))
        line.ready.append(len(self.ready))
        waiting = sum(len(r.batcher.waiting) for r in self.holding)
        line.queue.append(waiting + len(self.held))
        step = self.duration / SAMPLES
        if now + step < self.duration:
            self._push(now + step, SAMPLE)

    # --- scaling ----------------------------------------------------------------------
    def _apply(self, now: float, desired: int) -> None:
        if desired != self.desired:
            self.out.scale_events += 1
        self.desired = desired
        active = [r for r in self.holding if r.state in (State.LOADING, State.READY)]
        count = len(active) + self.pending
        if desired > count:
            self.pending += desired - count
            self._start_pending(now)
            return
        excess = count - desired
        cut = min(excess, self.pending)
        self.pending -= cut
        excess -= cut
        for replica in drain_order(active, self.autoscaler.drains_least_loaded)[:excess]:
            self._remove(now, replica)

    def _start_pending(self, now: float) -> None:
        while self.pending > 0 and len(self.holding) < self.slots:
            self.pending -= 1
            replica = self._new_replica(now)
            self._push(replica.ready_at, READY, replica)

    def _new_replica(self, now: float) -> Replica:
        replica = Replica(next(self.numbers), now, self.engine)
        self.holding.append(replica)
        return replica

    def _remove(self, now: float, replica: Replica) -> None:
        if replica.state is State.LOADING:
            self._gone(now, replica)
            return
        replica.state = State.DRAINING
        self.ready.remove(replica)
        if replica.plan is None:
            self._gone(now, replica)

    def _gone(self, now: float, replica: Replica) -> None:
        replica.state = State.GONE
        replica.ended = now
        self.holding.remove(replica)
        self.done.append(replica)
        self._start_pending(now)
