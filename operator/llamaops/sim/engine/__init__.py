"""A simulated vLLM engine: what runs in a `vllm serve` pod of the local cluster.

It takes its behaviour from the pod's own command line (`args`), the machine it runs
on (`profile`) and its model's size (`shape`); continuous batching (`batching`, driven
on the cluster clock by `core`) makes queues grow and drain as in vLLM, and the server
(`server`) answers the OpenAI API, `/health` and `/metrics` under vLLM's real names.
`engine.SimulatedEngine` is the process the kubelet starts, signals and waits for.
"""

from llamaops.sim.engine.args import (
    EngineArgs,
    EngineArgsError,
    parse_command_line,
    parse_serve_arguments,
    serve_arguments,
)
from llamaops.sim.engine.engine import EngineExitedError, SimulatedEngine
from llamaops.sim.engine.profile import CheckpointBehaviour, EngineProfile
from llamaops.sim.engine.server import SERVED_BY

__all__ = [
    "SERVED_BY",
    "CheckpointBehaviour",
    "EngineArgs",
    "EngineArgsError",
    "EngineExitedError",
    "EngineProfile",
    "SimulatedEngine",
    "parse_command_line",
    "parse_serve_arguments",
    "serve_arguments",
]
