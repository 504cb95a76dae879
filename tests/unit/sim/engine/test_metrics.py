"""An engine's /metrics has vLLM's names, labels and types, and parses as Prometheus text."""

from prometheus_client.parser import text_string_to_metric_families

from llamaops.sim.engine.metrics import EngineMetrics


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
    metrics.finished("length", 2.0)

    samples = scraped(metrics)

    assert samples["vllm:prompt_tokens_total"] == {("0", "llama"): 12}
    assert samples["vllm:generation_tokens_total"] == {("0", "llama"): 30}
    assert samples["vllm:request_success_total"][("0", "length", "llama")] == 1
    assert samples["vllm:request_success_total"][("0", "stop", "llama")] == 0
    assert samples["vllm:time_to_first_token_seconds_count"] == {("0", "llama"): 1}
    assert samples["vllm:e2e_request_latency_seconds_sum"] == {("0", "llama"): 2.0}
    assert samples["vllm:request_queue_time_seconds_count"] == {("0", "llama"): 1}
    assert not [name for name in samples if name.endswith("_total_total")]
    assert "vllm:gpu_cache_usage_perc" not in samples, "removed from vLLM"
