"""An engine's /metrics has vLLM's names, labels and types, and parses as Prometheus text."""

from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from llamaops.sim.engine.metrics import EngineMetrics, time_per_output_token

REAL_VLLM = Path(__file__).parents[2] / "fixtures/vllm-0.32.0-cpu-metrics.txt"


def scraped(metrics: EngineMetrics) -> dict[str, dict[tuple[str, ...], float]]:
    """Sample name -> label values (sorted by label name) -> value."""
    samples: dict[str, dict[tuple[str, ...], float]] = {}
    for family in text_string_to_metric_families(metrics.exposition().decode()):
        for sample in family.samples:
            key = tuple(value for _, value in sorted(sample.labels.items()))
            samples.setdefault(sample.name, {})[key] = sample.value
    return samples


def test_gauges_read_the_scheduler_when_scraped() -> None:
    state = {"running": 3, "waiting": 7}
    metrics = EngineMetrics(
        "llama",
        running=lambda: state["running"],
        waiting=lambda: state["waiting"],
        kv_usage=lambda: 0.25,
    )
    state["waiting"] = 9

    samples = scraped(metrics)

    assert samples["vllm:num_requests_running"] == {("0", "llama"): 3}
    assert samples["vllm:num_requests_waiting"] == {("0", "llama"): 9}
    assert samples["vllm:kv_cache_usage_perc"] == {("0", "llama"): 0.25}


def test_counters_and_histograms_have_vllm_names_with_one_total_suffix() -> None:
    metrics = EngineMetrics("llama", running=lambda: 0, waiting=lambda: 0, kv_usage=lambda: 0)
    metrics.scheduled(prompt_tokens=12, queue_seconds=0.4)
    metrics.generated(30)
    metrics.first_token(0.05)
    metrics.finished("length", 2.0, per_output_token=0.05)

    samples = scraped(metrics)

    assert samples["vllm:prompt_tokens_total"] == {("0", "llama"): 12}
    assert samples["vllm:generation_tokens_total"] == {("0", "llama"): 30}
    assert samples["vllm:request_success_total"][("0", "length", "llama")] == 1
    assert samples["vllm:request_success_total"][("0", "stop", "llama")] == 0
    assert samples["vllm:time_to_first_token_seconds_count"] == {("0", "llama"): 1}
    assert samples["vllm:e2e_request_latency_seconds_sum"] == {("0", "llama"): 2.0}
    assert samples["vllm:request_queue_time_seconds_count"] == {("0", "llama"): 1}
    assert samples["vllm:request_time_per_output_token_seconds_sum"] == {("0", "llama"): 0.05}
    assert not [name for name in samples if name.endswith("_total_total")]
    assert "vllm:gpu_cache_usage_perc" not in samples, "removed from vLLM"


def test_every_finished_reason_is_there_at_zero_before_any_request_as_in_vllm() -> None:
    metrics = EngineMetrics("tiny", running=lambda: 0, waiting=lambda: 0, kv_usage=lambda: 0)

    ours = scraped(metrics)["vllm:request_success_total"]
    theirs = {
        tuple(value for _, value in sorted(sample.labels.items()))
        for family in text_string_to_metric_families(REAL_VLLM.read_text())
        for sample in family.samples
        if sample.name == "vllm:request_success_total"
    }

    assert set(ours) == theirs, "stop, length, abort, error, repetition"
    assert set(ours.values()) == {0}


def test_time_per_output_token_has_the_real_buckets_and_help() -> None:
    metrics = EngineMetrics("tiny", running=lambda: 0, waiting=lambda: 0, kv_usage=lambda: 0)
    name = "vllm:request_time_per_output_token_seconds"

    def buckets_and_help(text: str) -> tuple[list[str], str]:
        (family,) = [f for f in text_string_to_metric_families(text) if f.name == name]
        bounds = [s.labels["le"] for s in family.samples if s.name.endswith("_bucket")]
        return bounds, family.documentation

    assert buckets_and_help(metrics.exposition().decode()) == buckets_and_help(
        REAL_VLLM.read_text()
    )


@pytest.mark.parametrize(
    ("first_token_at", "last_at", "tokens", "expected"),
    [
        (1.0, 3.0, 5, 0.5),  # 4 tokens after the first, over 2 s
        (1.0, 1.0, 1, 0.0),  # one token: nothing between tokens, vLLM records 0
        (None, 2.0, 0, 0.0),  # aborted while waiting: no token at all
        (0.5, 0.5, 0, 0.0),
    ],
)
def test_time_per_output_token_is_the_decode_time_over_the_tokens_after_the_first(
    first_token_at: float | None, last_at: float, tokens: int, expected: float
) -> None:
    assert time_per_output_token(first_token_at, last_at, tokens) == pytest.approx(expected)
