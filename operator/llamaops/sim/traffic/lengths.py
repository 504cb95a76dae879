"""Prompt and output lengths, in tokens: fixed, uniform, lognormal or a choice from a list.

Pure and deterministic: a distribution draws from the `random.Random` it is given, so
the same seed gives the same lengths. Every draw is at least one token.

Written on the command line as `128`, `uniform:64,512`, `lognormal:256,0.5` (mean 256
tokens, sigma 0.5 of the underlying normal) or `choice:128,256,1024`.
"""

import math
import random
from dataclasses import dataclass

SPEC_HELP = "N, uniform:A,B, lognormal:MEAN,SIGMA or choice:A,B,..."


@dataclass(frozen=True)
class Fixed:
    tokens: int

    def draw(self, rng: random.Random) -> int:
        return self.tokens


@dataclass(frozen=True)
class Uniform:
    """Any whole number from `low` to `high`, both included, equally likely."""

    low: int
    high: int

    def draw(self, rng: random.Random) -> int:
        return rng.randint(self.low, self.high)


@dataclass(frozen=True)
class LogNormal:
    """A long right tail, as real prompt lengths have; `mean` is the mean in tokens."""

    mean: float
    sigma: float

    def draw(self, rng: random.Random) -> int:
        # The underlying normal's mu that gives this mean: E[X] = exp(mu + sigma²/2).
        mu = math.log(self.mean) - self.sigma**2 / 2
        return max(1, round(rng.lognormvariate(mu, self.sigma)))


@dataclass(frozen=True)
class Choice:
    options: tuple[int, ...]

    def draw(self, rng: random.Random) -> int:
        return rng.choice(self.options)


Length = Fixed | Uniform | LogNormal | Choice


def sample(length: Length, count: int, seed: int = 0) -> list[int]:
    """`count` draws from `length`, the same ones for the same seed."""
    rng = random.Random(seed)
    return [length.draw(rng) for _ in range(count)]


def parse_length(spec: str) -> Length:
    """`128`, `fixed:128`, `uniform:64,512`, `lognormal:256,0.5`, `choice:128,256`."""
    kind, _, rest = spec.partition(":") if ":" in spec else ("fixed", "", spec)
    try:
        length = _build(kind.strip().lower(), [part.strip() for part in rest.split(",")])
    except ValueError:
        length = None
    if length is None:
        raise ValueError(f"expected {SPEC_HELP} (whole tokens >= 1), got {spec!r}")
    return length


def _build(kind: str, parts: list[str]) -> Length | None:
    if kind == "fixed" and len(parts) == 1:
        return Fixed(_tokens(parts[0]))
    if kind == "uniform" and len(parts) == 2:
        low, high = _tokens(parts[0]), _tokens(parts[1])
        return Uniform(low, high) if low <= high else None
    if kind == "lognormal" and len(parts) == 2:
        mean, sigma = float(parts[0]), float(parts[1])
        valid = math.isfinite(mean) and math.isfinite(sigma) and mean >= 1 and sigma >= 0
        return LogNormal(mean, sigma) if valid else None
    if kind == "choice" and parts:
        return Choice(tuple(_tokens(part) for part in parts))
    return None


def _tokens(text: str) -> int:
    tokens = int(text)
    if tokens < 1:
        raise ValueError(text)
    return tokens
