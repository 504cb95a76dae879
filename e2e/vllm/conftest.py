"""The real-engine suite prints what it measured (each engine's RSS and start-to-ready
time, the drain's timings) at the end of the run, passed or not."""

import pytest

from e2e.vllm.cpu_world import FIGURES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURES:
        terminalreporter.write_sep("-", "the real vLLM engines (CPU build), measured")
        for line in FIGURES:
            terminalreporter.write_line(line)
