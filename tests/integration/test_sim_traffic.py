"""`llamaops sim traffic` against a fake OpenAI server started by each test.

Through the console script for what a user sees (the JSONL, the summary, exit codes 0, 1
and 2), and in-process for what each request records. Durations are fractions of a
second: the generator runs on wall time.
"""

import asyncio
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from llamaops.cli.main import main
from llamaops.sim.traffic.client import Record
from llamaops.sim.traffic.plan import PlannedRequest
from llamaops.sim.traffic.run import run_traffic
from tests.integration.fake_openai import MODEL, Behaviour, FakeOpenAI, a_closed_port

LLAMAOPS = Path(sys.executable).parent / "llamaops"


@contextmanager
def a_server(**behaviour: Any) -> Iterator[FakeOpenAI]:
    with FakeOpenAI(Behaviour(**behaviour)) as server:
        yield server


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str

    def evidence(self) -> str:
        return f"exit {self.code}\n--- stdout ---\n{self.stdout}\n--- stderr ---\n{self.stderr}"


def traffic(*args: str | Path) -> Run:
    done = subprocess.run(
        [str(LLAMAOPS), "sim", "traffic", *(str(arg) for arg in args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def json_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def send(target: str, *planned: PlannedRequest, **options: Any) -> list[Record]:
    return asyncio.run(run_traffic(target, list(planned), **options))


def at(offset: float, prompt: int = 4, output: int = 3) -> PlannedRequest:
    return PlannedRequest(offset, prompt, output)


# --- the command, as a user runs it ------------------------------------------------------


def test_the_command_writes_each_request_as_a_json_line_prints_a_summary_and_exits_0(
    tmp_path: Path,
) -> None:
    out = tmp_path / "requests.jsonl"
    with a_server(first_token_delay=0.02) as server:
        run = traffic("--target", server.url, "--rate", "20", "--duration", "0.2", "--out", out)

    assert run.code == 0, run.evidence()
    lines = json_lines(out)
    assert len(lines) == 4
    assert {line["status"] for line in lines} == {200}
    fields = {"start", "status", "ttft", "latency", "prompt_tokens", "output_tokens", "pod"}
    assert set(lines[0]) == fields
    assert all(0.02 <= line["ttft"] <= line["latency"] for line in lines), lines
    assert [line["output_tokens"] for line in lines] == [32] * 4
    assert f"4 requests to {server.url}/v1/completions" in run.stdout
    assert "requests  4 sent, 4 ok, 0 failed" in run.stdout
    assert "pods      fake-a 2, fake-b 2" in run.stdout
    assert run.stderr == ""


def test_the_command_exits_1_when_requests_fail_and_counts_them_by_status(tmp_path: Path) -> None:
    out = tmp_path / "requests.jsonl"
    with a_server(fail_every=2) as server:
        run = traffic(
            "--target", server.url, "--rate", "20", "--duration", "0.2", "--out", out, "-o", "json"
        )

    assert run.code == 1, run.evidence()
    summary = json.loads(run.stdout)
    assert (summary["sent"], summary["ok"], summary["failed"]) == (4, 2, 2)
    assert summary["failures"] == {"500": 2}
    assert sorted(str(line["status"]) for line in json_lines(out)) == ["200", "200", "500", "500"]


def test_an_unreachable_target_is_recorded_as_failed_requests_not_a_crash(tmp_path: Path) -> None:
    out = tmp_path / "requests.jsonl"

    run = traffic("--target", a_closed_port(), "--rate", "20", "--duration", "0.15", "--out", out)

    assert run.code == 1, run.evidence()
    assert "requests  3 sent, 0 ok, 3 failed" in run.stdout
    assert "failures  error: connect ×3" in run.stdout
    assert "No request succeeded." in run.stdout
    assert run.stderr == ""
    assert [line["status"] for line in json_lines(out)] == ["error: connect"] * 3


def test_a_bad_flag_value_exits_2_with_one_line_naming_it() -> None:
    run = traffic("--target", "http://127.0.0.1:1", "--rate", "-1")

    assert run.code == 2, run.evidence()
    assert run.stdout == ""
    assert len(run.stderr.splitlines()) == 1
    assert "--rate" in run.stderr and "expected a positive number, got '-1'" in run.stderr


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--target", "localhost:8000"], "argument --target: expected an http(s) URL"),
        (["--steps", "ten:1"], "argument --steps: expected SECONDS:RATE pairs"),
        (["--prompt-tokens", "uniform:9,1"], "argument --prompt-tokens: expected N, uniform:A,B"),
        (["--output-tokens", "0"], "argument --output-tokens: expected N"),
        (["--burst", "2.5"], "argument --burst: expected a positive whole number, got '2.5'"),
        (["--concurrency", "0"], "argument --concurrency: expected a positive whole number"),
        (["--timeout", "nan"], "argument --timeout: expected a positive number"),
        (["--mode", "step"], "--mode step needs --steps"),
        (["--mode", "trace"], "--mode trace needs --trace"),
        (["--burst", "3", "--rate", "2"], "--rate applies to --mode constant, not burst"),
        (["--steps", "1:1", "--burst", "2"], "choose one of --steps, --burst and --trace"),
        (["--burst-every", "1"], "--burst-every applies to --mode burst, not constant"),
        (["--burst", "3", "--poisson"], "--poisson applies to --mode constant or step, not burst"),
        (["--trace", "/nonexistent/trace.jsonl"], "--trace: cannot read /nonexistent/trace.jsonl"),
        (["--out", "/nonexistent/dir/out.jsonl"], "--out: cannot write /nonexistent/dir/out.jsonl"),
    ],
)
def test_bad_input_is_one_line_on_stderr_and_exit_code_2(
    flags: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    target = [] if "--target" in flags else ["--target", a_closed_port()]

    code = main(["sim", "traffic", *target, *flags])

    printed = capsys.readouterr()
    assert code == 2, printed
    assert printed.out == ""
    assert len(printed.err.splitlines()) == 1, printed.err
    assert message in printed.err


def test_an_unreadable_trace_line_is_named_with_its_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trace = tmp_path / "trace.jsonl"
    trace.write_text('{"offset": 0}\n{"offset": "later"}\n')

    code = main(["sim", "traffic", "--target", a_closed_port(), "--trace", str(trace)])

    assert code == 2
    assert f"--trace: {trace}: line 2: expected offset seconds" in capsys.readouterr().err


def test_a_replayed_trace_sends_its_requests_with_its_lengths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trace = tmp_path / "trace.csv"
    trace.write_text("offset,prompt_tokens,output_tokens\n100.0,7,2\n100.2,,4\n100.1,3,\n")

    with a_server() as server:
        code = main(["sim", "traffic", "--target", server.url, "--trace", str(trace)])

    assert code == 0, capsys.readouterr()
    sent = [(len(r.body["prompt"].split()), r.body["max_tokens"]) for r in server.received]
    assert sent == [(7, 2), (3, 32), (128, 4)]


def test_a_step_plan_sends_each_steps_requests(capsys: pytest.CaptureFixture[str]) -> None:
    with a_server() as server:
        code = main(["sim", "traffic", "--target", server.url, "--steps", "0.1:20,0.1:0,0.1:40"])

    assert code == 0, capsys.readouterr()
    assert len(server.received) == 2 + 0 + 4


# --- what each request records ------------------------------------------------------------


def test_time_to_first_token_is_measured_to_the_first_streamed_chunk() -> None:
    with a_server(first_token_delay=0.2, token_delay=0.03) as server:
        [record] = send(server.url, at(0.0, output=5))

    assert record.status == 200
    assert record.ttft is not None and 0.2 <= record.ttft < 0.3, record
    assert record.latency is not None and record.latency >= record.ttft + 4 * 0.03, record
    assert record.output_tokens == 5
    assert record.pod == "fake-a"


def test_output_tokens_are_those_the_server_reports_not_the_chunks_counted() -> None:
    with a_server(tokens_per_chunk=3) as server:
        [record] = send(server.url, at(0.0, output=7))

    assert record.output_tokens == 7


def test_each_request_names_the_pod_that_served_it() -> None:
    with a_server() as server:
        records = send(server.url, at(0.0), at(0.05), at(0.1))

    assert [record.pod for record in records] == ["fake-a", "fake-b", "fake-a"]


def test_a_request_asks_for_its_lengths_of_the_model_the_server_lists() -> None:
    with a_server() as server:
        send(server.url, at(0.0, prompt=6, output=9))

    [request] = server.received
    assert request.path == "/v1/completions"
    assert request.body["model"] == MODEL
    assert request.body["prompt"] == "hello hello hello hello hello hello"
    assert request.body["max_tokens"] == 9
    assert request.body["ignore_eos"] is True
    assert request.body["stream"] is True
    assert request.body["stream_options"] == {"include_usage": True}


def test_a_named_model_is_sent_as_it_is() -> None:
    with a_server() as server:
        send(server.url, at(0.0), model="llama3-8b")

    assert server.received[0].body["model"] == "llama3-8b"


def test_chat_requests_go_to_chat_completions_as_a_user_message() -> None:
    with a_server() as server:
        [record] = send(server.url + "/v1/", at(0.0, prompt=2, output=4), chat=True)

    [request] = server.received
    assert request.path == "/v1/chat/completions"
    assert request.body["messages"] == [{"role": "user", "content": "hello hello"}]
    assert (record.status, record.output_tokens) == (200, 4)
    assert record.ttft is not None


def test_without_streaming_there_is_no_ttft_but_the_output_tokens_are_counted() -> None:
    with a_server(first_token_delay=0.05) as server:
        [record] = send(server.url, at(0.0, output=7), stream=False)

    assert server.received[0].body["stream"] is False
    assert "stream_options" not in server.received[0].body
    assert (record.status, record.ttft, record.output_tokens) == (200, None, 7)
    assert record.latency is not None and record.latency >= 0.05


def test_a_server_error_is_recorded_with_its_status_and_pod() -> None:
    with a_server(fail_every=1) as server:
        [record] = send(server.url, at(0.0))

    assert (record.status, record.ttft, record.output_tokens, record.pod) == (
        500,
        None,
        0,
        "fake-a",
    )
    assert not record.ok


def test_a_slow_answer_is_recorded_as_a_timeout_after_the_timeout() -> None:
    with a_server(first_token_delay=1.0) as server:
        [record] = send(server.url, at(0.0), timeout=0.2)

    assert record.status == "error: timeout"
    assert record.latency is not None and 0.2 <= record.latency < 0.6, record


def test_a_stream_cut_short_is_incomplete_and_keeps_what_arrived() -> None:
    with a_server(cut_after_chunks=2) as server:
        [record] = send(server.url, at(0.0, output=5))

    assert record.status == "error: incomplete"
    assert record.ttft is not None
    assert (record.output_tokens, record.pod) == (2, "fake-a")


def test_a_request_due_while_every_slot_is_busy_is_dropped_not_queued() -> None:
    with a_server(first_token_delay=0.2) as server:
        records = send(server.url, *[at(0.0)] * 5, concurrency=2)

    assert sorted(str(record.status) for record in records) == ["200"] * 2 + ["dropped"] * 3
    assert len(server.received) == 2


def test_requests_start_on_schedule_in_wall_time() -> None:
    with a_server() as server:
        records = send(server.url, at(0.0), at(0.15), at(0.3))

    starts = [record.start for record in records]
    assert all(abs(start - due) < 0.07 for start, due in zip(starts, (0, 0.15, 0.3), strict=True))


def test_the_json_lines_hold_the_records_the_run_returns(tmp_path: Path) -> None:
    out = tmp_path / "requests.jsonl"
    with a_server(fail_every=3) as server:
        records = send(server.url, at(0.0), at(0.02), at(0.04), out=out)

    written = sorted(json_lines(out), key=lambda line: line["start"])
    assert written == [record.to_json() for record in records]


def test_a_stopped_run_sends_nothing_more_and_lets_what_is_in_flight_finish() -> None:
    stop = threading.Event()
    threading.Timer(0.25, stop.set).start()
    with a_server(first_token_delay=0.3) as server:
        records = send(server.url, at(0.0), at(0.1), at(0.5), at(5.0), stop=stop)

    assert [str(record.status) for record in records] == ["200", "200"]
    assert all(record.ok for record in records), records
    assert len(server.received) == 2
