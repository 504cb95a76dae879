"""Continuous batching, as vLLM's scheduler does it, as pure state over explicit times.

Requests wait in arrival order. Before each step the scheduler admits waiting requests
while fewer than `max_num_seqs` run and the KV cache has blocks for their context; a
running request holds one block per `block_tokens` tokens of prompt and output. A step
generates one token for every running request; the step that admits a request also
prefills its prompt. What a step costs is the engine's `StepTime` (roofline.py), of the
batch, the tokens prefilled and the context the batch holds. When the running requests
would outgrow the cache, the latest admitted is preempted: its blocks are freed and it
goes back to the head of the queue, to be prefilled again later (vLLM's recompute).

Steps that change nothing but token counts are planned together: `plan` returns how
many identical steps can run before anything else could happen (a request finishing,
the cache filling, a first token due), so a driver may sleep through all of them at
once and still deliver every first token and every finish at its exact step boundary.
The steps after the first are all costed at the context the batch holds after the first
step, although it grows by a token per request each step: a plan is capped at about a
second, in which the context of a busy engine grows by a few per cent at most.
"""

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

StepTime = Callable[[int, int, int], float]  # (batch, prefill tokens, context tokens) -> s


@dataclass(eq=False)
class Sequence:
    """One request as the scheduler sees it; times are cluster seconds."""

    prompt_tokens: int
    max_tokens: int
    arrived_at: float
    finish_reason_at_end: str = "length"  # "stop" when the model ends on its own
    generated: int = 0
    blocks: int = 0
    scheduled_at: float | None = None
    first_token_at: float | None = None
    finished_at: float | None = None
    finish_reason: str | None = None

    @property
    def context_tokens(self) -> int:
        return self.prompt_tokens + self.generated

    @property
    def remaining(self) -> int:
        return self.max_tokens - self.generated


@dataclass(frozen=True)
class BatchLimits:
    """What bounds the batch: `--max-num-seqs` and the KV cache."""

    max_num_seqs: int
    kv_capacity_tokens: int
    block_tokens: int = 16

    @property
    def total_blocks(self) -> int:
        return max(1, self.kv_capacity_tokens // self.block_tokens)

    def blocks(self, tokens: int) -> int:
        return math.ceil(tokens / self.block_tokens)


@dataclass(frozen=True)
class StepPlan:
    """`steps` engine steps from `started_at`: the first prefills what was just admitted."""

    started_at: float
    first_step_seconds: float
    step_seconds: float
    steps: int
    batch: int
    newly_scheduled: tuple[Sequence, ...] = ()
    preempted: tuple[Sequence, ...] = ()

    def ends_at(self, step: int) -> float:
        """When step number `step` (from 1) ends."""
        return self.started_at + self.first_step_seconds + (step - 1) * self.step_seconds

    @property
    def ends(self) -> float:
        return self.ends_at(self.steps)

    def next_boundary(self, now: float) -> int:
        """The first step that has not ended by `now`, or the last one."""
        if now < self.ends_at(1):
            return 1
        done = 1 + math.floor((now - self.ends_at(1)) / self.step_seconds)
        return min(self.steps, done + 1)


@dataclass(frozen=True)
class StepResult:
    """What a completed plan produced."""

    new_tokens: tuple[tuple[Sequence, int], ...] = ()
    first_tokens: tuple[Sequence, ...] = ()
    finished: tuple[Sequence, ...] = ()

    @property
    def generated(self) -> int:
        return sum(count for _, count in self.new_tokens)


@dataclass
class Batcher:
    """The waiting queue, the running batch and the KV cache of one engine."""

    limits: BatchLimits
    step_time: StepTime
    waiting: deque[Sequence] = field(default_factory=deque)
    running: list[Sequence] = field(default_factory=list)
    used_blocks: int = 0

    @property
    def kv_usage(self) -> float:
        """Share of KV blocks in use, 0 to 1, as `vllm:kv_cache_usage_perc` reports it."""
        return min(1.0, self.used_blocks / self.limits.total_blocks)

    def has_work(self) -> bool:
        return bool(self.running or self.waiting)

    def add(self, seq: Sequence) -> None:
        if self.limits.blocks(seq.prompt_tokens + seq.max_tokens) > self.limits.total_blocks:
            raise ValueError("the request can never fit the KV cache")
        self.waiting.append(seq)

    def abort(self, seq: Sequence) -> bool:
        """Take a request out, freeing its blocks; False if it was not here."""
        if seq in self.running:
            self.running.remove(seq)
            self._free(seq)
        elif seq in self.waiting:
            self.waiting.remove(seq)
        else:
            return False
        seq.finish_reason = "abort"
        return True

    def abort_all(self) -> list[Sequence]:
        """Every running and waiting request, taken out."""
        everyone = [*self.running, *self.waiting]
        for seq in everyone:
            self.abort(seq)
        return everyone

    def plan(self, now: float, max_seconds: float = math.inf) -> StepPlan | None:
        """Schedule the next steps at `now`; None when nothing can run."""
        preempted = self._make_room()
        newly, prefill = self._admit(now) if not preempted else ((), 0)
        if not self.running:
            return None
        batch = len(self.running)
        context = sum(seq.context_tokens for seq in self.running)
        first = self.step_time(batch, prefill, context)
        later = self.step_time(batch, 0, context + batch)
        steps = self._quiet_steps()
        if later > 0 and max_seconds < math.inf:
            steps = min(steps, max(1, 1 + math.floor((max_seconds - first) / later)))
        return StepPlan(now, first, later, steps, batch, newly, preempted)

    def complete(self, plan: StepPlan, steps: int) -> StepResult:
        """Account for `steps` steps of `plan` having run (those still running get tokens)."""
        steps = max(1, min(steps, plan.steps))
        new_tokens, first_tokens, finished = [], [], []
        for seq in list(self.running):
            seq.generated += steps
            self._grow(seq)
            new_tokens.append((seq, steps))
            if seq.first_token_at is None:
                seq.first_token_at = plan.ends_at(1)
                first_tokens.append(seq)
            if seq.remaining <= 0:
                self.running.remove(seq)
                self._free(seq)
                seq.finished_at = plan.ends_at(steps)
                seq.finish_reason = seq.finish_reason_at_end
                finished.append(seq)
        return StepResult(tuple(new_tokens), tuple(first_tokens), tuple(finished))

    # --- scheduling ------------------------------------------------------------------
    def _free_blocks(self) -> int:
        return self.limits.total_blocks - self.used_blocks

    def _growth(self, steps: int) -> int:
        """Blocks the running requests need on top of what they hold after `steps` steps."""
        return sum(
            self.limits.blocks(seq.context_tokens + steps) - seq.blocks for seq in self.running
        )

    def _make_room(self) -> tuple[Sequence, ...]:
        """Preempt the latest admitted requests until the next step fits the cache."""
        preempted: list[Sequence] = []
        while self.running and self._growth(1) > self._free_blocks():
            seq = self.running.pop()
            self._free(seq)
            self.waiting.appendleft(seq)
            preempted.append(seq)
        return tuple(preempted)

    def _admit(self, now: float) -> tuple[tuple[Sequence, ...], int]:
        """Admit from the head of the queue; returns the first-time admissions and the
        tokens to prefill (re-admitted requests prefill their output too)."""
        newly: list[Sequence] = []
        prefill = 0
        growth = self._growth(1)
        while self.waiting and len(self.running) < self.limits.max_num_seqs:
            seq = self.waiting[0]
            need = self.limits.blocks(seq.context_tokens + 1)
            if need + growth > self._free_blocks():
                break
            self.waiting.popleft()
            self.running.append(seq)
            self._grow(seq)
            growth += need - seq.blocks
            prefill += seq.context_tokens
            if seq.scheduled_at is None:
                seq.scheduled_at = now
                newly.append(seq)
        return tuple(newly), prefill

    def _quiet_steps(self) -> int:
        """Identical steps before a finish, a first token or a full cache."""
        if any(seq.first_token_at is None for seq in self.running):
            return 1
        limit = min(seq.remaining for seq in self.running)
        low, high = 1, max(1, limit)
        while low < high:  # the most steps whose growth still fits
            middle = (low + high + 1) // 2
            if self._growth(middle) <= self._free_blocks():
                low = middle
            else:
                high = middle - 1
        return low

    def _grow(self, seq: Sequence) -> None:
        blocks = self.limits.blocks(seq.context_tokens)
        self.used_blocks += blocks - seq.blocks
        seq.blocks = blocks

    def _free(self, seq: Sequence) -> None:
        self.used_blocks -= seq.blocks
        seq.blocks = 0
