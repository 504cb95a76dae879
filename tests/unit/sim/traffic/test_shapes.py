"""Arrival schedules: how many requests each mode sends, and when."""

import pytest

from llamaops.sim.traffic.shapes import (
    Arrival,
    Step,
    burst,
    constant,
    parse_steps,
    replay,
    steps,
    within,
)


def offsets(arrivals: list[Arrival]) -> list[float]:
    return [round(arrival.offset, 9) for arrival in arrivals]


@pytest.mark.parametrize(
    ("rate", "duration", "expected"),
    [
        (1, 3, [0, 1, 2]),
        (2, 1.5, [0, 0.5, 1]),
        (4, 1, [0, 0.25, 0.5, 0.75]),
        (0.5, 5, [0, 2, 4]),
        (10, 0.05, [0]),
        (0.1, 30, [0, 10, 20]),  # 0.1 * 30 is a hair above 3: still three
    ],
)
def test_a_constant_rate_sends_evenly_spaced_requests_before_the_duration_ends(
    rate: float, duration: float, expected: list[float]
) -> None:
    assert offsets(constant(rate, duration)) == expected


def test_poisson_arrivals_repeat_for_a_seed_and_keep_the_mean_rate() -> None:
    first = constant(20, 50, poisson=True, seed=7)

    assert first == constant(20, 50, poisson=True, seed=7)
    assert first != constant(20, 50, poisson=True, seed=8)
    assert 900 <= len(first) <= 1100
    assert first[0].offset == 0
    assert all(0 <= arrival.offset < 50 for arrival in first)
    assert offsets(first) == sorted(offsets(first))


def test_steps_follow_one_another_each_at_its_own_rate() -> None:
    arrivals = steps([Step(2, 1), Step(1, 4), Step(2, 0), Step(1, 2)])

    assert offsets(arrivals) == [0, 1, 2, 2.25, 2.5, 2.75, 5, 5.5]


def test_the_example_step_plan_sends_ten_fifty_and_ten_requests() -> None:
    arrivals = steps(parse_steps("10:1,10:5,10:1"))

    in_each_step = [
        sum(start <= arrival.offset < start + 10 for arrival in arrivals) for start in (0, 10, 20)
    ]
    assert in_each_step == [10, 50, 10]


def test_one_burst_sends_every_request_at_once() -> None:
    assert offsets(burst(4)) == [0, 0, 0, 0]


def test_a_repeated_burst_comes_back_every_period_until_the_duration() -> None:
    assert offsets(burst(2, every=3, duration=7)) == [0, 0, 3, 3, 6, 6]
    assert offsets(burst(2, every=3, duration=6)) == [0, 0, 3, 3]


def test_a_replayed_trace_is_sorted_and_starts_at_zero_keeping_its_lengths() -> None:
    trace = [Arrival(1700000012.5, 10, 20), Arrival(1700000010.0), Arrival(1700000011.0, 5)]

    assert replay(trace) == [Arrival(0.0), Arrival(1.0, 5), Arrival(2.5, 10, 20)]


def test_within_keeps_only_the_arrivals_before_the_duration() -> None:
    assert offsets(within(constant(1, 10), 3)) == [0, 1, 2]


@pytest.mark.parametrize("text", ["", "10", "10:x", "0:5", "-1:5", "10:-1", "10:1,,5:2", "inf:1"])
def test_a_malformed_step_plan_is_refused_quoting_it(text: str) -> None:
    with pytest.raises(ValueError, match="SECONDS:RATE") as refused:
        parse_steps(text)

    assert repr(text) in str(refused.value)


def test_a_step_plan_reads_seconds_then_rate() -> None:
    assert parse_steps("10:1, 2.5:0") == [Step(10, 1), Step(2.5, 0)]
