"""Engine request counts for the canary tests."""

import math

from llamaops.reconcile.engine_stats import EngineStats

INF = math.inf


def served(requests: int, errors: int = 0, ttft: float = 0.2) -> EngineStats:
    """`requests` finished (`errors` of them errored), each with the same TTFT."""
    buckets = ((0.1, 0.0), (0.25, 0.0), (0.5, 0.0), (1.0, 0.0), (2.5, 0.0), (INF, 0.0))
    counted = tuple((le, float(requests) if ttft <= le else 0.0) for le, _ in buckets)
    return EngineStats(float(requests), float(errors), counted)
