"""Panels of one LlamaDeployment drawn from its vLLM engines' series: load, throughput,
outcomes and latency. Every query selects `THIS_DEPLOYMENT`.
"""

from grafana_foundation_sdk.builders import timeseries

from llamaops.dashboards import queries as q
from llamaops.dashboards.panels import (
    COUNT,
    OPERATIONS_PER_SECOND,
    RATIO,
    REQUESTS_PER_SECOND,
    Query,
    quantiles,
    time_series,
)

HERE = q.THIS_DEPLOYMENT
PER_POD = ("pod",)


def queue() -> timeseries.Panel:
    return time_series(
        "Queue and running requests per replica",
        "Requests each replica's scheduler holds waiting (preempted ones included) and those "
        "in its running batch. A queue that grows on every replica: too few replicas for "
        "the load (see the autoscaler panels). On one replica only: that pod is slow or "
        "stuck; compare its KV-cache usage and preemptions, and its vLLM log.",
        COUNT,
        Query(q.waiting(HERE, PER_POD), "waiting {{pod}}"),
        Query(q.running(HERE, PER_POD), "running {{pod}}"),
    )


def kv_cache() -> timeseries.Panel:
    return time_series(
        "KV-cache usage per replica",
        "The share of each replica's KV-cache blocks in use (the fullest engine of the "
        "pod). Near 100% the scheduler preempts requests and the queue grows: add "
        "replicas, lower max-num-seqs, or give vLLM more GPU memory "
        "(gpu-memory-utilization) or a shorter max-model-len.",
        RATIO,
        Query(q.kv_cache_usage_max(HERE, PER_POD), "{{pod}}"),
    ).max(1)


def tokens() -> timeseries.Panel:
    return time_series(
        "Tokens per second",
        "Prompt tokens prefilled and tokens generated per second, over all replicas. A drop "
        "while requests keep arriving means the engines are stalled or starved: check "
        "queue, preemptions and the pods' logs.",
        COUNT,
        Query(q.prompt_tokens_per_second(HERE), "prompt"),
        Query(q.generation_tokens_per_second(HERE), "generation"),
        axis_label="tokens / s",
    )


def requests() -> timeseries.Panel:
    return time_series(
        "Requests per second by finished reason",
        "Finished requests per second: stop (end of sequence or stop string), length "
        "(max_tokens or context reached), abort (the client went away, or the engine dropped "
        "it), error, repetition. Many length finishes: clients ask for too few tokens or "
        "the context is too short. Aborts and errors: see the error share panel.",
        REQUESTS_PER_SECOND,
        Query(q.requests_per_second(HERE, ("finished_reason",)), "{{finished_reason}}"),
    )


def error_share() -> timeseries.Panel:
    return time_series(
        "Error share",
        "Aborted and errored requests over all finished ones. Aborts rise when clients "
        "time out (queue too long: add replicas) or when replicas stop without a drain "
        "(check shutdown timeouts). Errors: read the vLLM logs of the pods.",
        RATIO,
        Query(q.error_share(HERE), "aborted or errored"),
    ).max(1)


def preemptions() -> timeseries.Panel:
    return time_series(
        "Preemptions per second",
        "Requests the engine evicted from the running batch for lack of KV-cache, to "
        "recompute later. Sustained preemptions waste GPU time and lengthen latency: lower "
        "max-num-seqs, shorten max-model-len or add replicas.",
        OPERATIONS_PER_SECOND,
        Query(q.preemptions_per_second(HERE, PER_POD), "{{pod}}"),
        axis_label="preemptions / s",
    )


def time_to_first_token() -> timeseries.Panel:
    return quantiles(
        "Time to first token (TTFT)",
        "From a request's arrival to its first generated token, over all replicas: queue "
        "time plus prefill. A rising TTFT with a growing queue: add replicas; with a short "
        "queue: long prompts, or prefill starved by decodes (chunked prefill settings).",
        q.TTFT,
        HERE,
    )


def time_per_output_token() -> timeseries.Panel:
    return quantiles(
        "Time per output token (TPOT)",
        "Mean time between a request's generated tokens, after the first. It grows with "
        "the running batch: a high TPOT with a full batch means max-num-seqs trades "
        "latency for throughput; a high TPOT on a small batch points at the GPU or at "
        "tensor-parallel communication.",
        q.TPOT,
        HERE,
    )


def end_to_end_latency() -> timeseries.Panel:
    return quantiles(
        "End-to-end request latency",
        "From arrival to the last token, over all replicas. Read it with TTFT and TPOT: "
        "the part that grew tells whether waiting, prefill or decoding got slower. Long "
        "latencies with length finishes are long answers, not slowness.",
        q.E2E_LATENCY,
        HERE,
    )


def queue_time() -> timeseries.Panel:
    return quantiles(
        "Time waiting in the queue",
        "How long requests wait before their first scheduling. Above a second or two at "
        "p95: the replicas are saturated; check the autoscaler (capped? scaling too "
        "slowly?) or raise the minimum replicas.",
        q.QUEUE_TIME,
        HERE,
    )
