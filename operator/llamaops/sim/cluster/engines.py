"""The container runtime of the local cluster: which container a pod's spec becomes.

- `vllm serve ...` becomes a simulated vLLM engine on the pod's own address, shaped by the
  node's GPU (its `nvidia.com/gpu.product` label gives the speeds, an H100-80GB when the
  catalog does not know it; `nvidia.com/gpu.memory` the memory) and the cluster file's
  checkpoint registry;
- in "process" mode, every container with a command runs it as a local process instead,
  mapped to this machine as `process_command.py` documents (its pod IP, local model
  directories, the pod's environment);
- in "idle" mode, nothing runs: every container is a stand-in that passes its probes;
- anything else becomes an idle container.
"""

import asyncio
from pathlib import Path
from typing import Any

from llamaops.catalog.gpus import product_or_default
from llamaops.sim.cluster.access import ClusterApi
from llamaops.sim.cluster.config import ClusterFile
from llamaops.sim.cluster.containers import (
    Container,
    IdleContainer,
    ProcessContainer,
    StandInContainer,
)
from llamaops.sim.cluster.process_command import process_command
from llamaops.sim.engine.args import EngineArgsError, parse_command_line, serve_arguments
from llamaops.sim.engine.engine import SimulatedEngine
from llamaops.sim.engine.profile import EngineProfile

Obj = dict[str, Any]
MEMORY_LABEL = "nvidia.com/gpu.memory"
PRODUCT_LABEL = "nvidia.com/gpu.product"
PROCESS_EXIT_SECONDS = 10.0  # for killed processes to be reaped when the cluster stops


class EngineRuntime:
    def __init__(self, config: ClusterFile, api: ClusterApi) -> None:
        self.config, self.api = config, api
        self.engines: dict[str, SimulatedEngine] = {}  # pod uid -> its engine, for faults
        self.processes: list[ProcessContainer] = []  # process mode: every one started

    def container_for(self, node: str, pod: Obj, spec: Obj, ip: str) -> Container:
        command_line = [*(spec.get("command") or []), *(spec.get("args") or [])]
        vllm = serve_arguments(command_line) is not None
        if self.config.engine.mode == "process" and command_line:
            command = process_command(self.config.engine, pod, spec, ip, self._secret)
            log, niceness = self._log_path(pod, spec), self.config.engine.niceness
            process = ProcessContainer(command.argv, command.env, log, niceness)
            self.processes = [p for p in self.processes if not p.exited.done()] + [process]
            return process
        if self.config.engine.mode == "idle":
            return StandInContainer()
        if not vllm:
            return IdleContainer()
        try:
            args = parse_command_line(command_line)
        except EngineArgsError:
            return _Failing()  # vLLM refuses its arguments: the container exits at once
        engine = SimulatedEngine(
            args,
            host=ip,
            pod_name=pod["metadata"]["name"],
            clock=self.api.clock,
            profile=self._profile(node, command_line, args.model),
        )
        self.engines[pod["metadata"]["uid"]] = engine
        return engine

    def engine_of(self, pod_uid: str) -> SimulatedEngine | None:
        return self.engines.get(pod_uid)

    async def close(self) -> None:
        for engine in self.engines.values():
            engine.kill()
        self.engines.clear()
        for process in self.processes:  # the machine stops: no process outlives it
            process.kill()
        if self.processes:
            await asyncio.wait([p.exited for p in self.processes], timeout=PROCESS_EXIT_SECONDS)
        self.processes.clear()

    def _profile(self, node: str, command_line: list[str], model: str) -> EngineProfile:
        labels = (self.api.get("nodes", "", node) or {}).get("metadata", {}).get("labels", {})
        memory = labels.get(MEMORY_LABEL)
        engine = self.config.engine
        checkpoint = self._checkpoint(model, _flag(command_line, "--revision"))
        return EngineProfile(
            gpu=product_or_default(labels.get(PRODUCT_LABEL)),
            gpu_memory_mib=int(memory) if memory and str(memory).isdigit() else 81559,
            load_bandwidth_gbps=engine.load_bandwidth_gbps,
            startup_seconds=engine.startup_seconds,
            checkpoint=checkpoint.behaviour if checkpoint else "ok",
            slow_factor=checkpoint.slow_factor if checkpoint else 5.0,
        )

    def _checkpoint(self, model: str, revision: str | None) -> Any:
        registry = self.config.checkpoints
        keys = [f"{model}@{revision}"] if revision else []
        return next((registry[k] for k in [*keys, model] if k in registry), None)

    def _secret(self, namespace: str, name: str) -> Obj | None:
        return self.api.get("secrets", namespace, name)

    def _log_path(self, pod: Obj, spec: Obj) -> Path | None:
        """Where a process container's output goes: one file per start, when asked."""
        if self.config.engine.log_dir is None:
            return None
        folder = Path(self.config.engine.log_dir)
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"{pod['metadata']['name']}.{spec['name']}"
        return folder / f"{stem}.{len(list(folder.glob(stem + '.*.log')))}.log"


def _flag(words: list[str], name: str) -> str | None:
    for index, word in enumerate(words):
        if word == name and index + 1 < len(words):
            return words[index + 1]
        if word.startswith(name + "="):
            return word.split("=", 1)[1]
    return None


class _Failing(IdleContainer):
    """A container whose process exits with an error as soon as it starts."""

    async def start(self) -> None:
        self._exit(1)
