"""The flags a simulated engine takes from its pod's own `vllm serve` command line.

The pod the operator renders is what drives the engine, so this reads the container's
command and args as vLLM would: `vllm serve MODEL --flag value`, `--flag=value`, or the
OpenAI server module run by Python with `--model`. Flags the simulation has no use for
are skipped; a skipped flag swallows the next word as its value unless that word is a
flag itself or the flag is one of vLLM's switches (`--enforce-eager`, `--enable-*`, ...).
"""

import os
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

SERVER_MODULE = "vllm.entrypoints.openai.api_server"
SWITCH_PREFIXES = ("--enable-", "--disable-", "--no-")
SWITCHES = frozenset(
    {
        "--enforce-eager",
        "--trust-remote-code",
        "--skip-tokenizer-init",
        "--disable-log-requests",
        "--disable-log-stats",
        "--headless",
    }
)
HUMAN_SUFFIXES = {"k": 10**3, "m": 10**6, "g": 10**9, "K": 2**10, "M": 2**20, "G": 2**30}


@dataclass(frozen=True)
class EngineArgs:
    """What `vllm serve` was told. Lengths are tokens, the shutdown timeout seconds."""

    model: str
    served_model_names: tuple[str, ...] = ()
    tensor_parallel_size: int = 1
    pipeline_parallel_size: int = 1
    max_model_len: int | None = None
    max_num_seqs: int = 256
    shutdown_timeout: float = 0.0
    host: str | None = None
    port: int = 8000
    dtype: str = "auto"
    quantization: str | None = None
    gpu_memory_utilization: float = 0.9

    @property
    def model_name(self) -> str:
        """The name clients ask for and metrics carry: the first served name, else the model."""
        return self.served_model_names[0] if self.served_model_names else self.model


class EngineArgsError(ValueError):
    """A command line vLLM would refuse to start with."""


def _human_int(text: str) -> int:
    """vLLM's lengths: "32768", "32k" (×1000) or "32K" (×1024)."""
    if text and text[-1] in HUMAN_SUFFIXES:
        return round(float(text[:-1]) * HUMAN_SUFFIXES[text[-1]])
    return int(text)


_VALUE_FLAGS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "--model": ("model", str),
    "--tensor-parallel-size": ("tensor_parallel_size", int),
    "-tp": ("tensor_parallel_size", int),
    "--pipeline-parallel-size": ("pipeline_parallel_size", int),
    "-pp": ("pipeline_parallel_size", int),
    "--max-model-len": ("max_model_len", _human_int),
    "--max-num-seqs": ("max_num_seqs", int),
    "--shutdown-timeout": ("shutdown_timeout", float),
    "--host": ("host", str),
    "--port": ("port", int),
    "--dtype": ("dtype", str),
    "--quantization": ("quantization", str),
    "-q": ("quantization", str),
    "--gpu-memory-utilization": ("gpu_memory_utilization", float),
}


def serve_arguments(command_line: Sequence[str]) -> list[str] | None:
    """The words after vLLM's entry point, or None when the command is not vLLM's server.

    Understands `vllm serve ...`, `python -m vllm.entrypoints.openai.api_server ...`
    and either of them wrapped in `sh -c "[exec] ..."`.
    """
    words = list(command_line)
    if words[:1] == ["exec"]:
        words = words[1:]
    if len(words) >= 3 and os.path.basename(words[0]) in {"sh", "bash"} and words[1] == "-c":
        return serve_arguments(shlex.split(words[2]))
    if len(words) >= 2 and os.path.basename(words[0]) == "vllm" and words[1] == "serve":
        return words[2:]
    if SERVER_MODULE in words:
        return words[words.index(SERVER_MODULE) + 1 :]
    return None


def parse_command_line(command_line: Sequence[str]) -> EngineArgs:
    """The engine's arguments from a container's command followed by its args."""
    arguments = serve_arguments(command_line)
    if arguments is None:
        raise EngineArgsError(f"not a vLLM server command: {shlex.join(command_line)}")
    return parse_serve_arguments(arguments)


def parse_serve_arguments(arguments: Sequence[str]) -> EngineArgs:
    """The engine's arguments from the words after `vllm serve`."""
    values: dict[str, Any] = {}
    positional: str | None = None
    words = list(arguments)
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        flag, has_inline, inline = word.partition("=")
        if not word.startswith("-"):
            positional = positional or word
        elif flag == "--served-model-name":
            names, index = _names(words, index, inline if has_inline else None)
            values["served_model_names"] = names
        elif flag in _VALUE_FLAGS:
            field, convert = _VALUE_FLAGS[flag]
            text, index = (inline, index) if has_inline else _next_value(words, index, flag)
            values[field] = _convert(flag, text, convert)
        elif not has_inline and not _is_switch(flag) and _takes_next(words, index):
            index += 1  # an unknown flag's value
    return _build(values, positional)


def _build(values: dict[str, Any], positional: str | None) -> EngineArgs:
    model = positional or values.pop("model", None)
    values.pop("model", None)
    if not model:
        raise EngineArgsError("no model: give `vllm serve MODEL` or --model")
    args = replace(EngineArgs(model=model), **values)
    if args.tensor_parallel_size < 1 or args.pipeline_parallel_size < 1:
        raise EngineArgsError("parallel sizes must be at least 1")
    if args.max_num_seqs < 1:
        raise EngineArgsError("--max-num-seqs must be at least 1")
    return args


def _names(words: list[str], index: int, inline: str | None) -> tuple[tuple[str, ...], int]:
    """`--served-model-name` takes one or more names (argparse nargs="+")."""
    if inline is not None:
        return (inline,), index
    names = []
    while _takes_next(words, index):
        names.append(words[index])
        index += 1
    if not names:
        raise EngineArgsError("--served-model-name needs a name")
    return tuple(names), index


def _next_value(words: list[str], index: int, flag: str) -> tuple[str, int]:
    if index >= len(words):
        raise EngineArgsError(f"{flag} needs a value")
    return words[index], index + 1


def _convert(flag: str, text: str, convert: Callable[[str], Any]) -> Any:
    try:
        return convert(text)
    except ValueError:
        raise EngineArgsError(f"{flag}: invalid value {text!r}") from None


def _is_switch(flag: str) -> bool:
    return flag in SWITCHES or flag.startswith(SWITCH_PREFIXES)


def _takes_next(words: list[str], index: int) -> bool:
    return index < len(words) and not words[index].startswith("-")
