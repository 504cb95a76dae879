"""The engine reads its pod's own `vllm serve` command line as vLLM would."""

from typing import Any

import pytest

from llamaops.sim.engine.args import (
    EngineArgs,
    EngineArgsError,
    parse_command_line,
    serve_arguments,
)

SERVE = ["vllm", "serve"]


@pytest.mark.parametrize(
    ("command_line", "expected"),
    [
        pytest.param(
            [*SERVE, "meta-llama/Llama-3.1-8B"],
            {"model": "meta-llama/Llama-3.1-8B"},
            id="positional model",
        ),
        pytest.param(
            ["python3", "-m", "vllm.entrypoints.openai.api_server", "--model", "/models/tiny"],
            {"model": "/models/tiny"},
            id="--model given to the server module",
        ),
        pytest.param(
            [*SERVE, "m", "--tensor-parallel-size", "8", "--pipeline-parallel-size", "2"],
            {"tensor_parallel_size": 8, "pipeline_parallel_size": 2},
            id="--flag value",
        ),
        pytest.param(
            [*SERVE, "m", "--tensor-parallel-size=4", "--max-model-len=8192", "--port=9000"],
            {"tensor_parallel_size": 4, "max_model_len": 8192, "port": 9000},
            id="--flag=value",
        ),
        pytest.param(
            [*SERVE, "m", "-tp", "2", "-pp", "3"],
            {"tensor_parallel_size": 2, "pipeline_parallel_size": 3},
            id="short -tp and -pp",
        ),
        pytest.param(
            [*SERVE, "m", "--served-model-name", "llama", "llama-70b", "--max-num-seqs", "4"],
            {"served_model_names": ("llama", "llama-70b"), "max_num_seqs": 4},
            id="several served names",
        ),
        pytest.param([*SERVE, "m", "--max-model-len", "32k"], {"max_model_len": 32000}, id="32k"),
        pytest.param([*SERVE, "m", "--max-model-len", "32K"], {"max_model_len": 32768}, id="32K"),
        pytest.param(
            [*SERVE, "m", "--shutdown-timeout", "120", "--host", "127.16.0.5"],
            {"shutdown_timeout": 120.0, "host": "127.16.0.5"},
            id="shutdown timeout and host",
        ),
        pytest.param(
            [*SERVE, "m", "--dtype", "float16", "--quantization", "fp8"],
            {"dtype": "float16", "quantization": "fp8"},
            id="dtype and quantization",
        ),
        pytest.param(
            [*SERVE, "m", "--gpu-memory-utilization", "0.85"],
            {"gpu_memory_utilization": 0.85},
            id="memory utilization",
        ),
        pytest.param(
            [
                *SERVE,
                "m",
                "--enforce-eager",
                "--kv-cache-memory-bytes",
                "4194304",
                "--enable-prefix-caching",
                "--max-num-seqs",
                "2",
            ],
            {"model": "m", "max_num_seqs": 2},
            id="unknown flags skipped with their values, switches alone",
        ),
        pytest.param(
            [*SERVE, "--enforce-eager", "m", "--seed=3"],
            {"model": "m"},
            id="a switch before the model does not swallow it",
        ),
        pytest.param(
            ["/bin/sh", "-c", "exec vllm serve m --max-num-seqs 8"],
            {"model": "m", "max_num_seqs": 8},
            id="wrapped in sh -c with exec",
        ),
        pytest.param(
            [*SERVE, "m"],
            {
                "max_num_seqs": 256,
                "shutdown_timeout": 0.0,
                "port": 8000,
                "tensor_parallel_size": 1,
                "max_model_len": None,
                "served_model_names": (),
            },
            id="vLLM's defaults",
        ),
    ],
)
def test_command_lines_are_read_as_vllm_reads_them(
    command_line: list[str], expected: dict[str, Any]
) -> None:
    args = parse_command_line(command_line)

    assert {field: getattr(args, field) for field in expected} == expected


def test_the_served_name_is_what_clients_and_metrics_use() -> None:
    assert EngineArgs("meta-llama/Llama-3.1-8B").model_name == "meta-llama/Llama-3.1-8B"
    assert EngineArgs("/models/x", served_model_names=("llama", "l")).model_name == "llama"


@pytest.mark.parametrize(
    "command_line",
    [["python", "app.py"], ["sleep", "infinity"], ["vllm", "bench"], []],
)
def test_commands_that_are_not_vllm_servers_are_recognised(command_line: list[str]) -> None:
    assert serve_arguments(command_line) is None
    with pytest.raises(EngineArgsError, match="not a vLLM server"):
        parse_command_line(command_line)


@pytest.mark.parametrize(
    ("command_line", "complaint"),
    [
        ([*SERVE, "--max-num-seqs", "4"], "no model"),
        ([*SERVE, "m", "--tensor-parallel-size", "eight"], "invalid value 'eight'"),
        ([*SERVE, "m", "--port"], "--port needs a value"),
        ([*SERVE, "m", "--max-num-seqs", "0"], "at least 1"),
    ],
)
def test_command_lines_vllm_would_refuse_are_refused(
    command_line: list[str], complaint: str
) -> None:
    with pytest.raises(EngineArgsError, match=complaint):
        parse_command_line(command_line)
