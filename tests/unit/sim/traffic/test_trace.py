"""Trace files: JSON Lines or CSV, and a message naming the line when one is wrong."""

from pathlib import Path

import pytest

from llamaops.sim.traffic.shapes import Arrival
from llamaops.sim.traffic.trace import TraceError, parse_trace, read_trace


def test_json_lines_give_offsets_and_the_lengths_they_carry() -> None:
    text = '{"offset": 0.5, "prompt_tokens": 100, "output_tokens": 20}\n\n{"offset": 1}\n'

    assert parse_trace(text) == [Arrival(0.5, 100, 20), Arrival(1.0)]


def test_csv_with_a_header_reads_its_columns_by_name() -> None:
    text = "output_tokens,offset\n20,0.5\n,1.5\n"

    assert parse_trace(text) == [Arrival(0.5, None, 20), Arrival(1.5)]


def test_csv_without_a_header_is_offset_prompt_output() -> None:
    assert parse_trace("0,10,5\n2.5\n") == [Arrival(0.0, 10, 5), Arrival(2.5)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"offset": 0}\n{"prompt_tokens": 5}\n', "line 2: 'offset' is missing"),
        ('{"offset": 0}\nnot json\n', "line 2: not JSON"),
        ('{"offset": "soon"}\n', "line 1: expected offset seconds"),
        ('{"offset": 1, "output_tokens": 0}\n', "line 1: expected offset seconds"),
        ('{"offset": 1, "output_tokens": 2.5}\n', "line 1: expected offset seconds"),
        ('{"offset": "nan"}\n', "line 1: offset 'nan' is not a number of seconds"),
        ("offset,tokens\n1,2\n", "line 1: unknown columns ['tokens']"),
        ("offset\n1\n1,2\n", "line 3: 2 cells, expected at most 1"),
        ("0\nlater\n", "line 2: expected offset seconds"),
    ],
)
def test_a_bad_line_is_named_in_the_error(text: str, message: str) -> None:
    with pytest.raises(ValueError) as refused:
        parse_trace(text)

    assert str(refused.value).startswith(message)


def test_reading_a_missing_file_says_which_and_why(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"

    with pytest.raises(TraceError, match=f"cannot read {missing}: No such file or directory"):
        read_trace(missing)


def test_an_empty_trace_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("offset\n")

    with pytest.raises(TraceError, match="no requests in the trace"):
        read_trace(empty)


def test_a_bad_line_in_a_file_names_the_file_too(tmp_path: Path) -> None:
    trace = tmp_path / "trace.jsonl"
    trace.write_text('{"offset": 0}\n{}\n')

    with pytest.raises(TraceError, match=f"{trace}: line 2: 'offset' is missing"):
        read_trace(trace)
