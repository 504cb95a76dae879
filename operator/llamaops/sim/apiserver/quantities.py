"""Resource quantities ("500m", "1Gi", "2") as kube-apiserver reads and returns them.

`parse_quantity` reads a resource.Quantity's value; `quantities_as_text` turns the JSON
numbers a client may send into the strings the server returns and the client's models expect.
"""

import re
from decimal import Decimal
from fractions import Fraction
from typing import Any

_QUANTITY = re.compile(
    r"(?P<number>[+-]?(?:\d+\.?\d*|\.\d+))"
    r"(?:(?P<binary>[KMGTPE]i)|(?P<decimal>[numkMGTPE])|[eE](?P<exponent>[+-]?\d+))?"
)
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}


def parse_quantity(value: Any) -> Fraction | None:
    """A resource.Quantity's value ("500m", "1Gi", "2", 1.5), or None if it is not one."""
    match = _QUANTITY.fullmatch(str(value).strip()) if value is not None else None
    if match is None:
        return None
    amount = Fraction(match["number"])
    if match["binary"]:
        return amount * _BINARY[match["binary"]]
    power = int(match["exponent"]) if match["exponent"] else _DECIMAL.get(match["decimal"], 0)
    return amount * Fraction(10) ** power


def quantities_as_text(amounts: Any) -> Any:
    """Quantities sent as JSON numbers come back as strings, as the client's models expect."""
    if not isinstance(amounts, dict):
        return amounts
    return {name: _quantity_text(value) for name, value in amounts.items()}


def _quantity_text(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if value == int(value):
        return str(int(value))
    return format(Decimal(repr(value)), "f")
