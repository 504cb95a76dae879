"""Reading a request trace to replay: JSON Lines or CSV, one request per line.

JSON Lines: `{"offset": 0.25, "prompt_tokens": 512, "output_tokens": 128}`, the token
counts optional; `"t"` (seconds from the start, as `llamaops sim autoscale` documents its
traces) is read as `"offset"`. CSV: a header naming `offset` (or `t`) and optionally
`prompt_tokens` and `output_tokens`, or no header and those columns in that order.
Offsets are seconds and may start anywhere (epoch timestamps too): the replay shifts the
first to 0.
"""

import csv
import json
import math
from pathlib import Path
from typing import Any

from llamaops.sim.traffic.shapes import Arrival

COLUMNS = ("offset", "prompt_tokens", "output_tokens")
OFFSET_ALIAS = "t"


class TraceError(ValueError):
    """A trace that cannot be read; the message names the file and the line."""


def read_trace(path: Path) -> list[Arrival]:
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not a text file"
        raise TraceError(f"cannot read {path}: {reason}") from None
    try:
        arrivals = parse_trace(text)
    except ValueError as error:
        raise TraceError(f"{path}: {error}") from None
    if not arrivals:
        raise TraceError(f"{path}: no requests in the trace")
    return arrivals


def parse_trace(text: str) -> list[Arrival]:
    """Arrivals from JSON Lines (the first non-blank line starts with `{`) or CSV."""
    first = next((line.lstrip() for line in text.splitlines() if line.strip()), "")
    return _parse_jsonl(text) if first.startswith("{") else _parse_csv(text)


def _parse_jsonl(text: str) -> list[Arrival]:
    arrivals = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            raise ValueError(f"line {number}: not JSON") from None
        if not isinstance(row, dict):
            raise ValueError(f"line {number}: expected an object with an 'offset'")
        arrivals.append(_arrival(number, row))
    return arrivals


def _parse_csv(text: str) -> list[Arrival]:
    rows = [(number, row) for number, row in enumerate(csv.reader(text.splitlines()), 1) if row]
    if not rows:
        return []
    header = [cell.strip().lower() for cell in rows[0][1]]
    header = ["offset" if cell == OFFSET_ALIAS else cell for cell in header]
    if "offset" in header:
        unknown = set(header) - set(COLUMNS)
        if unknown:
            raise ValueError(f"line 1: unknown columns {sorted(unknown)}; known: {list(COLUMNS)}")
        rows = rows[1:]
    else:
        header = list(COLUMNS)
    arrivals = []
    for number, row in rows:
        if len(row) > len(header):
            raise ValueError(f"line {number}: {len(row)} cells, expected at most {len(header)}")
        cells = {column: cell.strip() for column, cell in zip(header, row, strict=False)}
        arrivals.append(_arrival(number, {key: value for key, value in cells.items() if value}))
    return arrivals


def _arrival(number: int, row: dict[str, Any]) -> Arrival:
    if OFFSET_ALIAS in row:
        if "offset" in row:
            raise ValueError(f"line {number}: give 'offset' or 't', not both")
        row = {("offset" if key == OFFSET_ALIAS else key): value for key, value in row.items()}
    if "offset" not in row:
        raise ValueError(f"line {number}: 'offset' is missing (or 't', seconds from the start)")
    try:
        offset = float(row["offset"])
        prompt = _count(row.get("prompt_tokens"))
        output = _count(row.get("output_tokens"))
    except (TypeError, ValueError):
        raise ValueError(
            f"line {number}: expected offset seconds and whole token counts >= 1"
        ) from None
    if not math.isfinite(offset):
        raise ValueError(f"line {number}: offset {row['offset']!r} is not a number of seconds")
    return Arrival(offset, prompt, output)


def _count(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ValueError(value)
    count = int(value)
    if count < 1:
        raise ValueError(value)
    return count
