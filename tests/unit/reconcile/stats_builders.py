"""Engine request counts for the canary tests."""

import math

from llamaops.reconcile.engine_stats import EngineStats
from llamaops.sim.engine.metrics import TTFT_BUCKETS

BOUNDS = (*TTFT_BUCKETS, math.inf)  # vLLM's own


def served(requests: int, errors: int = 0, ttft: float = 0.2) -> EngineStats:
    """`requests` finished (`errors` of them errored), each with the same TTFT."""
    counted = tuple((le, float(requests) if ttft <= le else 0.0) for le in BOUNDS)
    return EngineStats(float(requests), float(errors), counted)
