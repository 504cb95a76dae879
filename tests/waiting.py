"""Waiting in tests: poll until something holds, or fail saying what never happened."""

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T],
    timeout: float = 5.0,
    what: str = "",
    evidence: Callable[[], str] | None = None,
) -> T:
    """Poll `predicate` until it returns something truthy; fail naming `what` (and showing
    `evidence()`, when given) if it never does."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            shown = f"\n{evidence()}" if evidence is not None else ""
            raise AssertionError(f"Timed out after {timeout} s waiting until {what}{shown}")
        time.sleep(0.05)
