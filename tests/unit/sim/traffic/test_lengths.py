"""Prompt and output lengths: within their bounds, and the same for the same seed."""

import statistics

import pytest

from llamaops.sim.traffic.lengths import (
    Choice,
    Fixed,
    Length,
    LogNormal,
    Uniform,
    parse_length,
    sample,
)


def test_a_fixed_length_is_always_that_length() -> None:
    assert sample(Fixed(128), 5) == [128] * 5


def test_a_uniform_length_covers_its_range_including_both_ends() -> None:
    drawn = sample(Uniform(3, 6), 500, seed=1)

    assert set(drawn) == {3, 4, 5, 6}


def test_a_lognormal_length_has_the_mean_asked_for_and_is_never_below_one_token() -> None:
    drawn = sample(LogNormal(200, 0.5), 5000, seed=2)

    assert 190 <= statistics.mean(drawn) <= 210
    assert min(sample(LogNormal(1, 2.0), 2000, seed=3)) >= 1


def test_a_choice_picks_only_from_its_list() -> None:
    drawn = sample(Choice((128, 256, 1024)), 300, seed=4)

    assert set(drawn) == {128, 256, 1024}


@pytest.mark.parametrize(
    "length", [Uniform(1, 1000), LogNormal(256, 1.0), Choice((1, 2, 3, 4, 5))], ids=repr
)
def test_the_same_seed_draws_the_same_lengths_and_another_seed_others(length: Length) -> None:
    assert sample(length, 50, seed=9) == sample(length, 50, seed=9)
    assert sample(length, 50, seed=9) != sample(length, 50, seed=10)


@pytest.mark.parametrize(
    ("spec", "length"),
    [
        ("128", Fixed(128)),
        ("fixed:64", Fixed(64)),
        ("uniform:64,512", Uniform(64, 512)),
        ("lognormal:256,0.5", LogNormal(256, 0.5)),
        ("choice:128, 256,1024", Choice((128, 256, 1024))),
    ],
)
def test_a_length_spec_reads_as_its_distribution(spec: str, length: Length) -> None:
    assert parse_length(spec) == length


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "0",
        "-5",
        "1.5",
        "many",
        "uniform:9,1",
        "uniform:5",
        "lognormal:0,1",
        "lognormal:100,-1",
        "lognormal:nan,1",
        "choice:",
        "choice:1,0",
        "gamma:1,2",
    ],
)
def test_a_bad_length_spec_is_refused_saying_what_is_expected(spec: str) -> None:
    with pytest.raises(ValueError, match="uniform:A,B"):
        parse_length(spec)
