"""The report: ratios of GPU-hours, and the targets llamaops is measured against."""

import pytest

from llamaops.sim.capacity.report import ratios, targets
from llamaops.sim.capacity.results import PolicyResult, percentile
from llamaops.sim.capacity.simulation import Timeline


def result(policy: str, gpu_hours: float, met: int, requests: int = 1000) -> PolicyResult:
    return PolicyResult(policy, requests, 0, met, gpu_hours, 0.1, 1.0, 0.05, 3, Timeline())


def test_ratios_are_row_over_column() -> None:
    found = ratios([result("llamaops", 8, 990), result("hpa-queue", 10, 980)])

    assert found["llamaops"]["hpa-queue"] == pytest.approx(0.8)
    assert found["hpa-queue"]["llamaops"] == pytest.approx(1.25)


@pytest.mark.parametrize(
    ("llamaops", "hpa", "oracle", "met"),
    [
        ((7.9, 995), (10, 990), (7, 999), [True, True, True]),
        ((8.1, 995), (10, 990), (7, 999), [False, True, True]),  # 19 % saved
        ((7.0, 985), (10, 990), (7, 999), [False, False, True]),  # fewer GPUs, worse SLO
        ((9.0, 999), (10, 990), (7, 999), [False, True, False]),  # 1.29 × the oracle
    ],
)
def test_targets_compare_gpu_hours_at_equal_or_better_slo(
    llamaops: tuple[float, int], hpa: tuple[float, int], oracle: tuple[float, int], met: list[bool]
) -> None:
    found = targets(
        [result("llamaops", *llamaops), result("hpa-queue", *hpa), result("oracle", *oracle)]
    )

    assert [t.met for t in found] == met
    assert "hpa-queue" in found[0].name and "99 %" in found[1].name and "oracle" in found[2].name


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]

    assert (percentile(values, 50), percentile(values, 99), percentile([], 50)) == (50, 99, None)
