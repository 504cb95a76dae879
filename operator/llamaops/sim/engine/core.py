"""The engine loop: runs the batching model on the cluster clock and hands out tokens.

Like vLLM's EngineCore, one loop owns the scheduler. It sleeps until a request arrives,
so an idle engine costs nothing, and while requests run it sleeps through each planned
group of identical steps in one go. An arrival that could join the batch wakes it
early; it then finishes the step in progress (a step is never cut short) and plans again.
Request handlers wait on a `RequestHandle` for their tokens.
"""

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator

from llamaops.sim.clock import Clock
from llamaops.sim.engine.batching import Batcher, Sequence, StepPlan, StepResult
from llamaops.sim.engine.metrics import EngineMetrics, time_per_output_token


class RequestFailedError(Exception):
    """The engine gave up on a request (it died or was shut down without draining)."""


class RequestHandle:
    """A submitted request: its tokens as they are generated, or its failure."""

    def __init__(self, seq: Sequence) -> None:
        self.seq = seq
        self.failure: str | None = None
        self._delivered = 0
        self._changed = asyncio.Event()

    async def tokens(self) -> AsyncIterator[int]:
        """How many new tokens each wake-up brought, until the request finishes."""
        while True:
            if self.failure is not None:
                raise RequestFailedError(self.failure)
            new = self.seq.generated - self._delivered
            if new > 0:
                self._delivered += new
                yield new
                continue
            if self.seq.finish_reason is not None:
                return
            self._changed.clear()
            await self._changed.wait()

    def notify(self) -> None:
        self._changed.set()


class EngineCore:
    """The scheduling loop of one engine."""

    def __init__(
        self,
        batcher: Batcher,
        clock: Clock,
        metrics: EngineMetrics,
        max_batched_seconds: float = math.inf,
    ) -> None:
        self.batcher, self.clock, self.metrics = batcher, clock, metrics
        self.max_batched_seconds = max_batched_seconds
        self._handles: dict[Sequence, RequestHandle] = {}
        self._arrival = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._loop is None:
            self._loop = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop stepping; requests in progress are left as they are (no answer comes)."""
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop

    def submit(
        self, prompt_tokens: int, max_tokens: int, finish_reason: str = "length"
    ) -> RequestHandle:
        seq = Sequence(prompt_tokens, max_tokens, self.clock.monotonic(), finish_reason)
        self.batcher.add(seq)
        handle = RequestHandle(seq)
        self._handles[seq] = handle
        if len(self.batcher.running) < self.batcher.limits.max_num_seqs:
            self._arrival.set()
        return handle

    def abort(self, handle: RequestHandle) -> None:
        """The client went away: vLLM aborts the request and frees its cache."""
        if handle.seq.finish_reason is None and self.batcher.abort(handle.seq):
            self._handles.pop(handle.seq, None)
            self._finished(handle.seq, "abort", self.clock.monotonic())

    def fail_all(self, message: str) -> None:
        """Every running and waiting request fails with `message`."""
        now = self.clock.monotonic()
        for seq in self.batcher.abort_all():
            handle = self._handles.pop(seq)
            handle.failure = message
            handle.notify()
            self._finished(seq, "abort", now)

    async def _run(self) -> None:
        while True:
            plan = self.batcher.plan(self.clock.monotonic(), self.max_batched_seconds)
            self._arrival.clear()
            if plan is None:
                await self._arrival.wait()
                continue
            self._record(plan)
            steps = await self._sleep_through(plan)
            self._deliver(self.batcher.complete(plan, steps))

    async def _sleep_through(self, plan: StepPlan) -> int:
        """Sleep until the plan ends, or until the step boundary after an arrival."""
        if plan.steps > 1:
            wall = self.clock.wall_seconds(plan.ends - self.clock.monotonic())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrival.wait(), max(0.0, wall))
                boundary = plan.next_boundary(self.clock.monotonic())
                await self.clock.sleep(plan.ends_at(boundary) - self.clock.monotonic())
                return boundary
        await self.clock.sleep(plan.ends - self.clock.monotonic())
        return plan.steps

    def _record(self, plan: StepPlan) -> None:
        for seq in plan.newly_scheduled:
            assert seq.scheduled_at is not None
            self.metrics.scheduled(seq.prompt_tokens, seq.scheduled_at - seq.arrived_at)
        if plan.preempted:
            self.metrics.preempted(len(plan.preempted))

    def _finished(self, seq: Sequence, reason: str, at: float) -> None:
        per_token = time_per_output_token(seq.first_token_at, at, seq.generated)
        self.metrics.finished(reason, at - seq.arrived_at, per_token)

    def _deliver(self, result: StepResult) -> None:
        self.metrics.generated(result.generated)
        for seq in result.first_tokens:
            assert seq.first_token_at is not None
            self.metrics.first_token(seq.first_token_at - seq.arrived_at)
        for seq in result.finished:
            assert seq.finished_at is not None and seq.finish_reason is not None
            self._finished(seq, seq.finish_reason, seq.finished_at)
        for seq in result.stepped:
            handle = self._handles[seq]
            handle.notify()
            if seq.finish_reason is not None:
                del self._handles[seq]
