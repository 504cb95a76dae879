"""Traces: the built-in shapes' curves and rates, lengths that fit the context, and trace
files with "t" for the offset."""

import pytest

from llamaops.sim.capacity.traces import (
    SHAPES,
    fit_context,
    level,
    shaped_trace,
    trace_of,
)
from llamaops.sim.traffic.shapes import Arrival
from llamaops.sim.traffic.trace import parse_trace


@pytest.mark.parametrize(
    ("shape", "u", "share"),
    [
        ("diurnal", 0.0, 0.15),  # midnight
        ("diurnal", 0.5, 1.0),  # noon
        ("diurnal", 0.25, 0.575),
        ("spike", 0.2, 0.25),
        ("spike", 0.45, 1.0),  # four times the steady rate
        ("spike", 0.6, 0.25),
        ("bursty", 0.01, 1.0),  # the first third of each eighth
        ("bursty", 0.1, 0.1),
        ("bursty", 0.126, 1.0),
        ("step", 0.49, 0.25),
        ("step", 0.51, 1.0),
    ],
)
def test_each_shape_is_a_share_of_the_peak_over_the_run(shape: str, u: float, share: float) -> None:
    assert level(shape, u) == pytest.approx(share)


def test_an_unknown_shape_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unknown shape 'flat'"):
        level("flat", 0.5)


@pytest.mark.parametrize("shape", SHAPES)
def test_a_shaped_trace_arrives_at_its_rate_and_is_the_same_for_a_seed(shape: str) -> None:
    trace = shaped_trace(shape, 3600, peak_rate=10, max_model_len=8192, seed=3)
    mean_share = sum(level(shape, (m + 0.5) / 60) for m in range(60)) / 60

    assert len(trace) == pytest.approx(10 * 3600 * mean_share, rel=0.05)
    assert list(trace.offsets) == sorted(trace.offsets)
    again = shaped_trace(shape, 3600, peak_rate=10, max_model_len=8192, seed=3)
    assert again.offsets == trace.offsets and again.prompts == trace.prompts


def test_a_step_trace_is_four_times_busier_after_the_step() -> None:
    trace = shaped_trace("step", 7200, peak_rate=8, max_model_len=8192)
    rates = trace.rates(3600, 7200)

    assert rates[1] / rates[0] == pytest.approx(4, rel=0.1)


@pytest.mark.parametrize(
    ("prompt", "output", "fitted"),
    [
        (1000, 200, (1000, 200)),
        (9000, 200, (7992, 200)),  # the prompt gives way
        (100, 6000, (100, 4096)),  # an output takes at most half the context
    ],
)
def test_drawn_lengths_are_capped_to_the_context(
    prompt: int, output: int, fitted: tuple[int, int]
) -> None:
    assert fit_context(prompt, output, 8192) == fitted


def test_a_trace_file_may_say_t_for_the_offset() -> None:
    text = '{"t": 0.5, "prompt_tokens": 100, "output_tokens": 20}\n{"t": 2}\n'

    assert parse_trace(text) == [Arrival(0.5, 100, 20), Arrival(2.0)]
    assert parse_trace("t,prompt_tokens\n1.5,30\n") == [Arrival(1.5, 30)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"t": 1, "offset": 1}\n', "line 1: give 'offset' or 't', not both"),
        ('{"prompt_tokens": 5}\n', "line 1: 'offset' is missing (or 't'"),
        ('{"t": "soon"}\n', "line 1: expected offset seconds"),
    ],
)
def test_a_bad_t_line_is_named(text: str, message: str) -> None:
    with pytest.raises(ValueError) as refused:
        parse_trace(text)

    assert str(refused.value).startswith(message)


def test_replayed_requests_keep_their_lengths_and_draw_the_missing_ones() -> None:
    trace = trace_of([Arrival(2.0), Arrival(1.0, 300, 40)], max_model_len=8192, seed=1)

    assert list(trace.offsets) == [1.0, 2.0]
    assert (trace.prompts[0], trace.outputs[0]) == (300, 40)
    assert trace.prompts[1] >= 1 and trace.outputs[1] >= 1
