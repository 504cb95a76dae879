"""`pytest e2e/chaos [--chaos-seeds 0-39]`: which seeded runs to make (default: the CI
size); every run prints its seed and timeline, and a summary of kills and faults ends the
session."""

import pytest

from e2e.chaos.tally import TALLY

CI_SEEDS = "0-1"  # about 150 s: the suite's time budget; larger runs by the flag


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--chaos-seeds",
        default=CI_SEEDS,
        help=f"seeds of the chaos runs: N, A-B or A,B,C (default {CI_SEEDS}, the CI size)",
    )


def seeds_of(text: str) -> list[int]:
    found: list[int] = []
    for part in text.split(","):
        first, _, last = part.partition("-")
        found += list(range(int(first), int(last or first) + 1))
    return found


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "seed" in metafunc.fixturenames:
        metafunc.parametrize("seed", seeds_of(metafunc.config.getoption("--chaos-seeds")))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TALLY.runs:
        terminalreporter.write_sep("-", "chaos runs")
        for line in TALLY.lines():
            terminalreporter.write_line(line)
