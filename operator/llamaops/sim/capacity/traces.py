"""The requests of a run, compact, and the built-in traffic shapes that make them.

A `Trace` holds one request per index (arrival in seconds from the start, prompt and
output tokens) in three arrays, so that a day of traffic (millions of requests) fits in
memory and pickles fast to another process.

Shapes, each a rate curve over the run (u = t / duration, as a share of the peak rate)
with Poisson arrivals at that rate, minute by minute:

    diurnal  a day: 0.15 + 0.85 (1 - cos 2πu) / 2, lowest at midnight, highest at noon
    spike    0.25 until u = 0.4, then the peak (4×) until 0.55, then 0.25 again
    bursty   eight bursts at the peak for the first third of each eighth, 0.1 between
    step     0.25 for the first half, then the peak

The peak is a set share (PEAK_SHARE) of what the deployment's most replicas carry at the
SLO (its replica capacity, measured by oracle.py), so that a shape means the same load
for 8B on L4s as for 70B on H100s. Lengths come from the traffic package's lognormal
distributions, seeded, with prompt and output capped to fit the model's context.
"""

import math
import random
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field

from llamaops.sim.traffic.lengths import Length, LogNormal
from llamaops.sim.traffic.shapes import Arrival

SHAPES = ("diurnal", "spike", "bursty", "step")
DEFAULT_SECONDS = {"diurnal": 86400.0, "spike": 7200.0, "bursty": 10800.0, "step": 7200.0}
PEAK_SHARE = 0.8
PROMPT = LogNormal(1024, 0.8)  # chat-like prompts: a system prompt, history, a question
OUTPUT = LogNormal(256, 0.8)
RESOLUTION_SECONDS = 60.0
BURSTS = 8


@dataclass
class Trace:
    offsets: array = field(default_factory=lambda: array("d"))  # type: ignore[type-arg]
    prompts: array = field(default_factory=lambda: array("l"))  # type: ignore[type-arg]
    outputs: array = field(default_factory=lambda: array("l"))  # type: ignore[type-arg]

    def __len__(self) -> int:
        return len(self.offsets)

    def append(self, offset: float, prompt: int, output: int) -> None:
        self.offsets.append(offset)
        self.prompts.append(prompt)
        self.outputs.append(output)

    @property
    def end(self) -> float:
        return self.offsets[-1] if self.offsets else 0.0

    def lengths(self) -> list[tuple[int, int]]:
        return list(zip(self.prompts, self.outputs, strict=True))

    def rates(self, width: float, duration: float) -> list[float]:
        """Requests per second in each `width`-second bin of [0, duration)."""
        counts = [0] * max(1, math.ceil(duration / width))
        for offset in self.offsets:
            index = int(offset // width)
            if index < len(counts):
                counts[index] += 1
        return [count / width for count in counts]


def trace_of(arrivals: Iterable[Arrival], max_model_len: int, seed: int = 0) -> Trace:
    """A replayed trace (in time order); lengths a line leaves out are drawn as the shapes
    draw them, from one seeded stream each, and capped to the context."""
    prompts, outputs = random.Random(f"{seed}/prompt"), random.Random(f"{seed}/output")
    trace = Trace()
    for arrival in sorted(arrivals, key=lambda a: a.offset):
        drawn = fit_context(PROMPT.draw(prompts), OUTPUT.draw(outputs), max_model_len)
        prompt = drawn[0] if arrival.prompt_tokens is None else arrival.prompt_tokens
        output = drawn[1] if arrival.output_tokens is None else arrival.output_tokens
        trace.append(arrival.offset, prompt, output)
    return trace


def level(shape: str, u: float) -> float:
    """The rate at fraction `u` of the run, as a share of the peak."""
    if shape == "diurnal":
        return 0.15 + 0.85 * (1 - math.cos(2 * math.pi * u)) / 2
    if shape == "spike":
        return 1.0 if 0.4 <= u < 0.55 else 0.25
    if shape == "bursty":
        return 1.0 if (u * BURSTS) % 1.0 < 1 / 3 else 0.1
    if shape == "step":
        return 0.25 if u < 0.5 else 1.0
    raise ValueError(f"unknown shape {shape!r}; known: {', '.join(SHAPES)}")


def shaped_trace(
    shape: str,
    duration: float,
    peak_rate: float,
    max_model_len: int,
    *,
    seed: int = 0,
    prompt: Length = PROMPT,
    output: Length = OUTPUT,
) -> Trace:
    """Poisson arrivals at the shape's rate, minute by minute, with seeded lengths."""
    arrivals = random.Random(f"{seed}/arrivals")
    prompts, outputs = random.Random(f"{seed}/prompt"), random.Random(f"{seed}/output")
    trace = Trace()
    width = min(RESOLUTION_SECONDS, duration / 100)
    start = 0.0
    while start < duration:
        end = min(duration, start + width)
        rate = peak_rate * level(shape, (start + end) / 2 / duration)
        offset = start + arrivals.expovariate(rate) if rate > 0 else end
        while offset < end:
            tokens = fit_context(prompt.draw(prompts), output.draw(outputs), max_model_len)
            trace.append(offset, *tokens)
            offset += arrivals.expovariate(rate)
        start = end
    return trace


def fit_context(prompt: int, output: int, max_model_len: int) -> tuple[int, int]:
    """Cap a drawn length pair to the context: output to half of it, prompt to the rest."""
    output = max(1, min(output, max_model_len // 2))
    return max(1, min(prompt, max_model_len - output)), output


def sample_lengths(count: int, max_model_len: int, seed: int = 0) -> list[tuple[int, int]]:
    """Length pairs as the shapes draw them, for measuring a replica's capacity."""
    prompts, outputs = random.Random(f"{seed}/prompt"), random.Random(f"{seed}/output")
    return [
        fit_context(PROMPT.draw(prompts), OUTPUT.draw(outputs), max_model_len) for _ in range(count)
    ]
