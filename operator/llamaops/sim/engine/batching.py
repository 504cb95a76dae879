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

Nothing here costs a step per running request, so a simulated day of a busy fleet runs
in seconds: a running request's token count is the batcher's step counter minus the
count when it joined; finishes come off a heap ordered by the step they are due; and
the blocks the batch needs for k more steps come from how many running requests sit at
each offset within their last block (`block_tokens` counters): a request whose context
c has c mod block_tokens = r opens ceil((r + k) / block_tokens) - ceil(r / block_tokens)
new blocks in k steps, and r moves by one with every step for all of them alike.
"""

import functools
import heapq
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

StepTime = Callable[[int, int, int], float]  # (batch, prefill tokens, context tokens) -> s


@dataclass(eq=False)
class Sequence:
    """One request as the scheduler sees it; times are cluster seconds.

    While it runs, its token count is read off its batcher's step counter (every step
    gives every running request one token), so a step costs nothing per request."""

    prompt_tokens: int
    max_tokens: int
    arrived_at: float
    finish_reason_at_end: str = "length"  # "stop" when the model ends on its own
    scheduled_at: float | None = None
    first_token_at: float | None = None
    finished_at: float | None = None
    finish_reason: str | None = None
    _generated: int = field(default=0, repr=False)  # tokens before it last joined the batch
    _joined: int = field(default=0, repr=False)  # the batcher's step count when it joined
    _batcher: "Batcher | None" = field(default=None, repr=False)  # while it runs
    _entry: int = field(default=0, repr=False)  # its entry in the batcher's finishes

    @property
    def generated(self) -> int:
        if self._batcher is None:
            return self._generated
        return self._generated + self._batcher.steps_run - self._joined

    @property
    def context_tokens(self) -> int:
        return self.prompt_tokens + self.generated

    @property
    def remaining(self) -> int:
        return self.max_tokens - self.generated

    @property
    def blocks(self) -> int:
        """KV blocks it holds: those of its context while it runs, none otherwise."""
        if self._batcher is None:
            return 0
        return self._batcher.limits.blocks(self.context_tokens)


@dataclass(frozen=True)
class BatchLimits:
    """What bounds the batch: `--max-num-seqs` and the KV cache."""

    max_num_seqs: int
    kv_capacity_tokens: int
    block_tokens: int = 16

    @functools.cached_property
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

    stepped: tuple[Sequence, ...] = ()  # the batch that ran: each got `steps` tokens
    steps: int = 0
    first_tokens: tuple[Sequence, ...] = ()
    finished: tuple[Sequence, ...] = ()

    @property
    def generated(self) -> int:
        return len(self.stepped) * self.steps


@dataclass
class Batcher:
    """The waiting queue, the running batch and the KV cache of one engine."""

    limits: BatchLimits
    step_time: StepTime
    waiting: deque[Sequence] = field(default_factory=deque)
    running: dict[Sequence, None] = field(default_factory=dict)  # in admission order
    used_blocks: int = 0
    steps_run: int = 0  # steps this engine has run: every running request's token clock
    _offsets: list[int] = field(init=False, repr=False)  # running, by context - steps_run mod block
    _context: int = field(default=0, repr=False)  # sum of (context - steps_run) over running
    _finishes: list[tuple[int, int, Sequence]] = field(default_factory=list, repr=False)
    _admitted: list[Sequence] = field(default_factory=list, repr=False)  # by the last plan
    _order: int = field(default=0, repr=False)

    def __post_init__(self) -> None:
        self._offsets = [0] * self.limits.block_tokens

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
            self._leave(seq)
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
        context = self._context + batch * self.steps_run
        first = self.step_time(batch, prefill, context)
        later = self.step_time(batch, 0, context + batch)
        steps = self._quiet_steps()
        if later > 0 and max_seconds < math.inf:
            steps = min(steps, max(1, 1 + math.floor((max_seconds - first) / later)))
        return StepPlan(now, first, later, steps, batch, newly, preempted)

    def complete(self, plan: StepPlan, steps: int) -> StepResult:
        """Account for `steps` steps of `plan` having run (those still running get tokens)."""
        steps = max(1, min(steps, plan.steps))
        stepped = tuple(self.running)
        self.used_blocks += self._growth(steps)
        self.steps_run += steps
        first_tokens = []
        for seq in self._admitted:
            if seq.first_token_at is None and seq._batcher is self:
                seq.first_token_at = plan.ends_at(1)
                first_tokens.append(seq)
        self._admitted.clear()
        finished = []
        while self._finishes and self._finishes[0][0] <= self.steps_run:
            _, entry, seq = heapq.heappop(self._finishes)
            if self._current(entry, seq):
                self._leave(seq)
                seq.finished_at = plan.ends_at(steps)
                seq.finish_reason = seq.finish_reason_at_end
                finished.append(seq)
        return StepResult(stepped, steps, tuple(first_tokens), tuple(finished))

    # --- scheduling ------------------------------------------------------------------
    def _free_blocks(self) -> int:
        return self.limits.total_blocks - self.used_blocks

    def _growth(self, steps: int) -> int:
        """Blocks the running requests need on top of what they hold after `steps` steps.

        Each running request opens one block per `block_tokens` steps, and one more for
        the rest of the steps (m = steps mod block_tokens) when its position in its last
        block is 0 or above block_tokens - m: m positions in a row, cyclically."""
        size = self.limits.block_tokens
        whole, rest = divmod(steps, size)
        total = len(self.running) * whole
        if rest:
            start = (1 - rest - self.steps_run) % size
            end = start + rest
            total += sum(self._offsets[start:end]) + sum(self._offsets[: max(0, end - size)])
        return total

    def _make_room(self) -> tuple[Sequence, ...]:
        """Preempt the latest admitted requests until the next step fits the cache."""
        preempted: list[Sequence] = []
        while self.running and self._growth(1) > self._free_blocks():
            seq = next(reversed(self.running))
            self._leave(seq)
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
            context = seq.context_tokens
            need = self.limits.blocks(context + 1)
            if need + growth > self._free_blocks():
                break
            self.waiting.popleft()
            self._join(seq)
            growth += need - self.limits.blocks(context)
            prefill += context
            if seq.scheduled_at is None:
                seq.scheduled_at = now
                newly.append(seq)
        return tuple(newly), prefill

    def _quiet_steps(self) -> int:
        """Identical steps before a finish, a first token or a full cache."""
        if any(seq.first_token_at is None for seq in self._admitted):
            return 1
        while not self._current(*self._finishes[0][1:]):
            heapq.heappop(self._finishes)
        limit = max(1, self._finishes[0][0] - self.steps_run)
        if self._growth(limit) <= self._free_blocks():
            return limit
        low, high = 1, limit
        while low < high:  # the most steps whose growth still fits
            middle = (low + high + 1) // 2
            if self._growth(middle) <= self._free_blocks():
                low = middle
            else:
                high = middle - 1
        return low

    def _join(self, seq: Sequence) -> None:
        """`seq` joins the running batch: its tokens now follow the step counter."""
        seq._batcher, seq._joined = self, self.steps_run
        self.running[seq] = None
        offset = seq.prompt_tokens + seq._generated - self.steps_run
        self._offsets[offset % self.limits.block_tokens] += 1
        self._context += offset
        self.used_blocks += seq.blocks
        self._order += 1
        seq._entry = self._order
        heapq.heappush(self._finishes, (self.steps_run + seq.remaining, self._order, seq))
        self._admitted.append(seq)

    def _current(self, entry: int, seq: Sequence) -> bool:
        """Whether a finishes entry is the one of `seq`'s present run (not of a run that a
        preemption or an abort ended)."""
        return seq._batcher is self and seq._entry == entry

    def _leave(self, seq: Sequence) -> None:
        """`seq` leaves the running batch with the tokens it has, freeing its blocks."""
        del self.running[seq]
        offset = seq.prompt_tokens + seq._generated - seq._joined
        self._offsets[offset % self.limits.block_tokens] -= 1
        self._context -= offset
        self.used_blocks -= seq.blocks
        seq._generated = seq.generated
        seq._batcher = None
