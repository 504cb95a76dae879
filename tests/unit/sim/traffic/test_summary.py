"""The summary of a run, on tables of records whose answer is known."""

import pytest

from llamaops.sim.traffic.client import DROPPED, Record
from llamaops.sim.traffic.summary import Percentiles, format_summary, percentile, summarize


def ok(
    start: float = 0.0,
    *,
    ttft: float | None = 0.1,
    latency: float = 1.0,
    output_tokens: int = 10,
    pod: str = "a",
) -> Record:
    return Record(start, 200, ttft, latency, 8, output_tokens, pod)


def failed(status: int | str, start: float = 0.0, pod: str | None = None) -> Record:
    return Record(start, status, None, 0.5, 8, 0, pod)


def dropped(start: float = 0.0) -> Record:
    return Record(start, DROPPED, None, None, 8, 0, None)


@pytest.mark.parametrize(
    ("values", "percent", "expected"),
    [
        (list(range(1, 101)), 50, 50),
        (list(range(1, 101)), 99, 99),
        (list(range(1, 11)), 50, 5),
        (list(range(1, 11)), 99, 10),
        ([3.0], 99, 3.0),
        ([5, 1, 4, 2, 3], 50, 3),
    ],
)
def test_percentiles_are_nearest_rank(values: list[float], percent: float, expected: float) -> None:
    assert percentile(values, percent) == expected


def test_percentiles_are_over_successful_requests_only() -> None:
    records = [ok(ttft=t / 100, latency=t / 10) for t in range(1, 101)]
    records += [failed(500), failed("error: timeout")]

    summary = summarize(records)

    assert summary.ttft == Percentiles(0.5, 0.99)
    assert summary.latency == Percentiles(5.0, 9.9)


def test_a_run_counts_ok_failed_and_dropped_and_breaks_failures_down_by_status() -> None:
    records = [ok(), ok(), failed(500), failed(500), failed(503), failed("error: connect")]
    records += [dropped(), dropped()]

    summary = summarize(records)

    assert (summary.sent, summary.ok, summary.failed, summary.dropped) == (6, 2, 4, 2)
    assert summary.failures == {"500": 2, "503": 1, "error: connect": 1}


def test_requests_per_second_are_those_sent_over_the_first_start_to_the_last_answer() -> None:
    records = [ok(0.0, latency=0.5), ok(1.0, latency=0.5), ok(2.0, latency=2.0), dropped(3.0)]

    summary = summarize(records)

    assert summary.seconds == 4.0
    assert summary.requests_per_second == 0.75


def test_pods_are_counted_for_every_request_they_answered_failures_included() -> None:
    records = [
        ok(pod="b"),
        ok(pod="a"),
        ok(pod="b"),
        failed(500, pod="a"),
        failed("error: connect"),
    ]

    assert summarize(records).pods == {"a": 2, "b": 2}


def test_time_per_output_token_leaves_out_the_first_token() -> None:
    record = ok(ttft=0.5, latency=2.5, output_tokens=5)

    assert summarize([record]).tpot == Percentiles(0.5, 0.5)


def test_without_streaming_there_is_no_ttft_nor_tpot_but_there_is_latency() -> None:
    summary = summarize([ok(ttft=None)])

    assert summary.ttft == Percentiles(None, None)
    assert summary.tpot == Percentiles(None, None)
    assert summary.latency == Percentiles(1.0, 1.0)


def test_an_empty_run_summarizes_to_zeros() -> None:
    summary = summarize([])

    assert (summary.sent, summary.ok, summary.failed, summary.requests_per_second) == (0, 0, 0, 0)
    assert summary.ttft == Percentiles(None, None)


def test_the_printed_summary_says_what_failed_and_who_served() -> None:
    records = [ok(0.0, pod="a"), ok(0.5, pod="b"), failed(500, 1.0, pod="a"), dropped(1.5)]

    printed = format_summary(summarize(records))

    assert printed.splitlines()[0].startswith("requests  3 sent, 2 ok, 1 failed")
    assert "dropped   1" in printed
    assert "failures  500 ×1" in printed
    assert "TTFT      p50 0.100 s   p99 0.100 s" in printed
    assert "pods      a 2, b 1" in printed
    assert "No request succeeded" not in printed


def test_the_printed_summary_says_so_when_nothing_succeeded() -> None:
    printed = format_summary(summarize([failed("error: connect"), failed("error: connect")]))

    assert "failures  error: connect ×2" in printed
    assert "TTFT      n/a" in printed
    assert printed.endswith("No request succeeded.")


def test_the_dict_form_is_plain_json_data() -> None:
    summary = summarize([ok(), failed(500)]).to_dict()

    assert summary["ok"] == 1
    assert summary["failures"] == {"500": 1}
    assert summary["ttft"] == {"p50": 0.1, "p99": 0.1}


def test_times_are_cluster_seconds_the_walls_times_the_speed() -> None:
    records = [ok(0.0, ttft=0.01, latency=0.1, output_tokens=10), ok(1.0, latency=0.2)]

    summary = summarize(records, speed=10)

    assert summary.ttft.p50 == pytest.approx(0.1)
    assert summary.latency == Percentiles(pytest.approx(1.0), pytest.approx(2.0))
    assert summary.tpot.p50 == pytest.approx(0.1)
    assert summary.seconds == pytest.approx(12.0)
    assert summary.requests_per_second == pytest.approx(2 / 12)
    assert summary.to_dict()["speed"] == 10


def test_the_printed_summary_says_its_times_are_cluster_time() -> None:
    at_speed_one = format_summary(summarize([ok()]))
    at_speed_ten = format_summary(summarize([ok()], speed=10))

    assert "of cluster time" in at_speed_one.splitlines()[0]
    assert "clock" not in at_speed_one
    assert "clock     cluster seconds: the wall's × 10 (--speed)" in at_speed_ten
    assert "TTFT      p50 1.000 s" in at_speed_ten
