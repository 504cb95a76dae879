"""vLLM's Prometheus metrics, by their real names, labels, help texts and buckets.

Each engine has a registry of its own (500 engines share one process). Names follow
vLLM's V1 engine (`vllm/v1/metrics/loggers.py`); prometheus_client appends `_total` to
counters itself. The gauges read the scheduler when scraped, so keeping them current
costs nothing between scrapes.
"""

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

ENGINE_INDEX = "0"
# Every reason's series exists from the start, at 0, as in vLLM: an error share reads 0, not
# nothing, before the first error.
FINISHED_REASONS = ("stop", "length", "abort", "error", "repetition")
TTFT_BUCKETS = (
    *(0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75),
    *(1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0),
)
REQUEST_LATENCY_BUCKETS = (
    *(0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0),
    *(40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0),
)
TPOT_BUCKETS = (
    *(0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75),
    *(1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0),
)
LABELS = ("model_name", "engine")


class EngineMetrics:
    """The metrics one engine serves on `/metrics`."""

    def __init__(
        self,
        model_name: str,
        *,
        running: Callable[[], float],
        waiting: Callable[[], float],
        kv_usage: Callable[[], float],
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        labels = {"model_name": model_name, "engine": ENGINE_INDEX}
        for name, documentation, read in (
            (
                "vllm:num_requests_running",
                "Number of requests in model execution batches.",
                running,
            ),
            ("vllm:num_requests_waiting", "Number of requests waiting to be processed.", waiting),
            ("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", kv_usage),
        ):
            gauge = Gauge(name, documentation, LABELS, registry=self.registry)
            gauge.labels(**labels).set_function(read)
        self._labels = labels
        self._prompt = self._counter("vllm:prompt_tokens", "Number of prefill tokens processed.")
        self._generation = self._counter(
            "vllm:generation_tokens", "Number of generation tokens processed."
        )
        self._preemptions = self._counter(
            "vllm:num_preemptions", "Cumulative number of preemption from the engine."
        )
        success = Counter(
            "vllm:request_success",
            "Count of successfully processed requests.",
            (*LABELS, "finished_reason"),
            registry=self.registry,
        )
        self._success = {r: success.labels(**labels, finished_reason=r) for r in FINISHED_REASONS}
        self._ttft = self._histogram(
            "vllm:time_to_first_token_seconds",
            "Histogram of time to first token in seconds.",
            TTFT_BUCKETS,
        )
        self._e2e = self._histogram(
            "vllm:e2e_request_latency_seconds",
            "Histogram of e2e request latency in seconds.",
            REQUEST_LATENCY_BUCKETS,
        )
        self._tpot = self._histogram(
            "vllm:request_time_per_output_token_seconds",
            "Histogram of time_per_output_token_seconds per request.",
            TPOT_BUCKETS,
        )
        self._queue = self._histogram(
            "vllm:request_queue_time_seconds",
            "Histogram of time spent in WAITING phase for request.",
            REQUEST_LATENCY_BUCKETS,
        )

    def _counter(self, name: str, documentation: str) -> Counter:
        """This engine's series of a counter (present from the start, at 0, as in vLLM)."""
        counter = Counter(name, documentation, LABELS, registry=self.registry)
        return counter.labels(**self._labels)

    def _histogram(self, name: str, documentation: str, buckets: tuple[float, ...]) -> Histogram:
        histogram = Histogram(name, documentation, LABELS, registry=self.registry, buckets=buckets)
        return histogram.labels(**self._labels)

    def scheduled(self, prompt_tokens: int, queue_seconds: float) -> None:
        """A request left the queue for the first time and had its prompt prefilled."""
        self._prompt.inc(prompt_tokens)
        self._queue.observe(queue_seconds)

    def generated(self, tokens: int) -> None:
        self._generation.inc(tokens)

    def preempted(self, count: int) -> None:
        self._preemptions.inc(count)

    def first_token(self, seconds: float) -> None:
        self._ttft.observe(seconds)

    def finished(self, reason: str, seconds: float, per_output_token: float) -> None:
        """A request ended after `seconds`, its tokens after the first `per_output_token`
        seconds apart on average (`time_per_output_token`)."""
        self._success[reason].inc()
        self._e2e.observe(seconds)
        self._tpot.observe(per_output_token)

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes."""
        return generate_latest(self.registry)


def time_per_output_token(first_token_at: float | None, last_at: float, tokens: int) -> float:
    """vLLM's per-request TPOT: the time from the first token to the last over the tokens
    after the first; 0 for a request with fewer than two tokens, as vLLM records it."""
    if first_token_at is None or tokens < 2:
        return 0.0
    return (last_at - first_token_at) / (tokens - 1)
