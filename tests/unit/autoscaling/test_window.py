"""The recommendation window: run-length coded, pruned without losing coverage, and kept in
status.autoscaler.recommendations as RFC 3339 times."""

from datetime import UTC, datetime

import pytest

from llamaops.autoscaling.window import Window, from_status, to_status

T0 = datetime(2026, 12, 4, 14, 0, tzinfo=UTC).timestamp()


def recorded(*recommendations: tuple[float, int], keep: float = 300.0) -> Window:
    """The window after recording each (seconds after T0, replicas) in turn."""
    window = Window()
    for at, replicas in recommendations:
        window = window.record(T0 + at, replicas, keep)
    return window


def every_5_seconds(replicas: int, start: float, end: float) -> list[tuple[float, int]]:
    return [(float(at), replicas) for at in range(int(start), int(end), 5)]


def test_a_steady_recommendation_is_one_point_however_long_it_lasts() -> None:
    window = recorded(*every_5_seconds(4, 0, 3600), keep=7200)

    assert window.points == ((T0, 4),)


def test_each_change_of_recommendation_is_a_point() -> None:
    window = recorded((0, 4), (5, 4), (10, 6), (15, 6), (20, 4))

    assert window.points == ((T0, 4), (T0 + 10, 6), (T0 + 20, 4))


def test_recording_again_at_the_same_moment_replaces_the_recommendation() -> None:
    window = recorded((0, 4), (10, 6), (10, 5))

    assert window.points == ((T0, 4), (T0 + 10, 5))


def test_pruning_drops_what_ended_before_the_window_but_keeps_its_start_covered() -> None:
    history = every_5_seconds(6, 0, 600) + every_5_seconds(5, 600, 900) + [(900, 3), (1000, 4)]
    pruned, whole = recorded(*history, keep=300), recorded(*history, keep=10**9)
    now = T0 + 1000

    assert pruned.points == ((T0 + 600, 5), (T0 + 900, 3), (T0 + 1000, 4))
    assert pruned.covers(now, 300)
    assert pruned.highest(now, 300) == whole.highest(now, 300) == 5
    assert pruned.lowest(now, 300) == whole.lowest(now, 300) == 3


@pytest.mark.parametrize(
    ("now", "seconds", "highest"),
    [
        pytest.param(299, 300, None, id="299 s after the first point a 300 s window is unknown"),
        pytest.param(300, 300, 6, id="300 s after the first point the 300 s window is known"),
        pytest.param(399, 300, 6, id="the point in force at the window's start counts"),
        pytest.param(400, 300, 3, id="a point that ended at the window's start does not"),
        pytest.param(500, 0, 3, id="a 0 s window is the latest recommendation"),
    ],
)
def test_highest_is_none_until_the_window_reaches_back_far_enough(
    now: float, seconds: float, highest: int | None
) -> None:
    window = Window(((T0, 6), (T0 + 100, 3)))

    assert window.highest(T0 + now, seconds) == highest


@pytest.mark.parametrize(
    ("now", "seconds", "lowest"),
    [
        pytest.param(150, 0, 3, id="with 0 s it is the latest recommendation"),
        pytest.param(250, 0, 8, id="with 0 s it is the latest even after a rise"),
        pytest.param(250, 60, 3, id="with 60 s it reaches back to the lower one"),
        pytest.param(250, 10_000, 3, id="over what is known when the window is shorter"),
    ],
)
def test_lowest_is_the_smallest_recommendation_of_the_window(
    now: float, seconds: float, lowest: int
) -> None:
    window = Window(((T0, 6), (T0 + 100, 3), (T0 + 200, 8)))

    assert window.lowest(T0 + now, seconds) == lowest


def test_an_empty_window_knows_nothing() -> None:
    assert Window().highest(T0, 0) is None
    assert Window().lowest(T0, 300) is None
    assert not Window().covers(T0, 0)


def test_the_window_goes_to_status_as_rfc_3339_times_and_replicas() -> None:
    window = Window(((T0, 6), (T0 + 600, 3)))

    assert to_status(window) == [
        {"time": "2026-12-04T14:00:00Z", "replicas": 6},
        {"time": "2026-12-04T14:10:00Z", "replicas": 3},
    ]
    assert from_status(to_status(window)) == window


@pytest.mark.parametrize(
    ("time", "seconds"),
    [
        pytest.param("2026-12-04T14:10:00Z", 600, id="Z is UTC"),
        pytest.param("2026-12-04T14:10:00+00:00", 600, id="+00:00 is UTC"),
        pytest.param("2026-12-04T15:10:00+01:00", 600, id="another offset is the same moment"),
        pytest.param("2026-12-04T14:10:00", 600, id="a time without offset is taken as UTC"),
    ],
)
def test_status_times_are_read_as_the_moments_they_name(time: str, seconds: float) -> None:
    assert from_status([{"time": time, "replicas": 3}]).points == ((T0 + seconds, 3),)


def test_a_deployment_never_autoscaled_has_an_empty_window() -> None:
    assert from_status([]) == Window()
    assert to_status(Window()) == []


def test_fractions_of_a_second_are_rounded_up_so_a_restart_never_shortens_the_window() -> None:
    window = Window(((T0 + 0.4, 6), (T0 + 600.2, 3)))

    restored = from_status(to_status(window))

    assert restored.points == ((T0 + 1, 6), (T0 + 601, 3))
    assert window.highest(T0 + 900.5, 300) == 3
    assert restored.highest(T0 + 900.5, 300) == 6
