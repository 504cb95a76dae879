"""Arrival schedules: when each request of a run is sent, in seconds from the run's start.

Pure: each function takes its parameters (and a seed, where chance is involved) and
returns the arrivals in time order; nothing here reads a clock or sleeps. Even spacing is
the default; `poisson=True` draws exponential gaps with the same mean rate, as traffic
from many independent users looks.
"""

import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Float products such as 0.1 * 30 land a hair above the integer they mean.
_EPSILON = 1e-9


@dataclass(frozen=True)
class Arrival:
    """One request's moment; a replayed trace may also fix its prompt and output lengths."""

    offset: float
    prompt_tokens: int | None = None
    output_tokens: int | None = None


@dataclass(frozen=True)
class Step:
    """`rate` requests per second for `seconds`."""

    seconds: float
    rate: float


def constant(
    rate: float, duration: float, *, poisson: bool = False, seed: int = 0
) -> list[Arrival]:
    """`rate` requests per second from 0 until `duration` (exclusive)."""
    return steps([Step(duration, rate)], poisson=poisson, seed=seed)


def steps(plan: Sequence[Step], *, poisson: bool = False, seed: int = 0) -> list[Arrival]:
    """Each step's rate for its seconds, one after the other; a rate of 0 is a pause."""
    rng = random.Random(seed) if poisson else None
    arrivals: list[Arrival] = []
    start = 0.0
    for step in plan:
        arrivals += [Arrival(start + offset) for offset in _at_rate(step, rng)]
        start += step.seconds
    return arrivals


def burst(size: int, *, every: float | None = None, duration: float = 0.0) -> list[Arrival]:
    """`size` requests at once at 0; with `every`, again every `every` seconds before `duration`."""
    count = 1 if every is None else max(1, math.ceil(duration / every - _EPSILON))
    return [Arrival(index * (every or 0.0)) for index in range(count) for _ in range(size)]


def replay(arrivals: Iterable[Arrival]) -> list[Arrival]:
    """A trace in time order, shifted so that its first request is at 0."""
    ordered = sorted(arrivals, key=lambda arrival: arrival.offset)
    if not ordered:
        return []
    first = ordered[0].offset
    return [
        Arrival(arrival.offset - first, arrival.prompt_tokens, arrival.output_tokens)
        for arrival in ordered
    ]


def within(arrivals: Iterable[Arrival], duration: float) -> list[Arrival]:
    """The arrivals before `duration`."""
    return [arrival for arrival in arrivals if arrival.offset < duration]


def parse_steps(text: str) -> list[Step]:
    """`"10:1,10:5,10:1"`: ten seconds at 1/s, ten at 5/s, ten at 1/s."""
    parsed = [_parse_step(part.strip()) for part in text.split(",")]
    if any(step is None for step in parsed):
        raise ValueError(f"expected SECONDS:RATE pairs like 10:1,10:5 (seconds > 0), got {text!r}")
    return [step for step in parsed if step is not None]


def _parse_step(text: str) -> Step | None:
    seconds, _, rate = text.partition(":")
    try:
        step = Step(float(seconds), float(rate))
    except ValueError:
        return None
    valid = math.isfinite(step.seconds) and math.isfinite(step.rate)
    return step if valid and step.seconds > 0 and step.rate >= 0 else None


def _at_rate(step: Step, rng: random.Random | None) -> list[float]:
    if step.rate <= 0:
        return []
    if rng is None:
        count = math.ceil(step.seconds * step.rate - _EPSILON)
        return [index / step.rate for index in range(count)]
    offsets: list[float] = []
    offset = 0.0
    while offset < step.seconds:
        offsets.append(offset)
        offset += rng.expovariate(step.rate)
    return offsets
