"""The user's mistakes on the command line: one line on stderr and exit code 2."""

import argparse
import math
from collections.abc import Callable
from typing import Any


class UsageError(Exception):
    """Bad input from the user."""


def positive(kind: Callable[[str], float]) -> Callable[[str], Any]:
    """An argparse type: a finite number above 0 (`int` or `float`), else a one-line error."""
    noun = "whole number" if kind is int else "number"

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value > 0):
            raise argparse.ArgumentTypeError(f"expected a positive {noun}, got {text!r}")
        return value

    return parse
