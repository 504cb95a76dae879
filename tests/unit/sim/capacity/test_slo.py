"""The SLO: MLPerf's Server targets by the model's size, and what meeting it means."""

import pytest

from llamaops.sim.capacity.slo import Slo, default_slo, slo_for


@pytest.mark.parametrize(
    ("billions", "ttft", "tpot"),
    [(8.03, 2.0, 0.100), (70.55, 2.0, 0.200), (404.65, 6.0, 0.175), (1.24, 2.0, 0.100)],
)
def test_the_defaults_are_mlperfs_server_targets(billions: float, ttft: float, tpot: float) -> None:
    assert default_slo(round(billions * 1e9)) == Slo(ttft, tpot)


def test_either_target_may_be_overridden() -> None:
    assert slo_for(round(8e9), tpot=0.05) == Slo(2.0, 0.05)


@pytest.mark.parametrize(
    ("ttft", "tpot", "met"),
    [(2.0, 0.1, True), (2.01, 0.05, False), (0.5, 0.11, False)],
)
def test_a_request_meets_the_slo_when_it_meets_both_targets(
    ttft: float, tpot: float, met: bool
) -> None:
    assert Slo(2.0, 0.1).met(ttft, tpot) is met
