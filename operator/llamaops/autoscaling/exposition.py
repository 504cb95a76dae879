"""A replica's load, read from vLLM's Prometheus exposition (its `/metrics`).

Parsed with prometheus_client's text parser, family by family: a family is matched by its
exact name, so `vllm:num_requests_waiting_by_reason` (which the real vLLM also exports) is
not counted as `vllm:num_requests_waiting`, as a prefix match of the lines would. A value
that no engine reports (NaN, infinite, negative, a KV usage above 1) makes the whole
reading an error: that replica is unknown, not a number that breaks the decision. Series of
one family (one per engine core, or per model name) are summed; the KV-cache usage is
their mean. A family that is missing reads as None for KV usage and 0 for the counts.
"""

import math

from prometheus_client.parser import text_string_to_metric_families

from llamaops.autoscaling.decision import Reading

WAITING = "vllm:num_requests_waiting"
RUNNING = "vllm:num_requests_running"
KV_USAGE = "vllm:kv_cache_usage_perc"


class ExpositionError(ValueError):
    """Text that is not a Prometheus exposition, or that lacks vLLM's request gauges."""


def reading_of(text: str) -> Reading:
    values: dict[str, list[float]] = {WAITING: [], RUNNING: [], KV_USAGE: []}
    try:
        for family in text_string_to_metric_families(text):
            if family.name in values:
                values[family.name] += [s.value for s in family.samples if s.name == family.name]
    except ValueError as error:
        raise ExpositionError(f"not a Prometheus exposition: {error}") from None
    if not values[WAITING] and not values[RUNNING]:
        raise ExpositionError(f"neither {WAITING} nor {RUNNING} is in the exposition")
    for name, samples in values.items():
        top = 1.0 if name == KV_USAGE else math.inf
        bad = [v for v in samples if not (math.isfinite(v) and 0 <= v <= top)]
        if bad:
            wanted = "between 0 and 1" if name == KV_USAGE else "a finite count, at least 0"
            raise ExpositionError(f"{name} is {bad[0]:g}; expected {wanted}")
    usage = values[KV_USAGE]
    return Reading(
        waiting=sum(values[WAITING]),
        running=sum(values[RUNNING]),
        kv_usage=sum(usage) / len(usage) if usage else None,
    )
