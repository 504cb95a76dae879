"""The cluster file: node pools, how engines run, and which checkpoints misbehave.

nodes:
  - pool: h100
    count: 2
    gpu: {product: NVIDIA-H100-80GB-HBM3, count: 8, memoryMiB: 81559}
    cpu: "96"
    memory: 1Ti
    labels: {topology.kubernetes.io/zone: zone-a}
    taints: [{key: nvidia.com/gpu, value: present, effect: NoSchedule}]
engine:
  mode: simulated          # or "process": run the pod's own command (process_command.py);
                           # or "idle": run nothing, pass every probe (control-plane benchmarks)
  loadBandwidthGBps: 4     # per GPU, for load times
  # process mode only; relative paths are read from the cluster file's folder:
  # modelDirs: {/models/tiny-a: ../../.venv-vllm/checkpoints/tiny-a}   # path in pod -> here
  # path: [../../.venv-vllm/bin]   # put before $PATH, where `vllm` is looked up
  # logDir: /tmp/engine-logs       # each container's output, <pod>.<container>.<n>.log
  # niceness: 10                    # the processes yield the CPU to the control plane
checkpoints:
  "hf://meta-llama/Llama-3.1-70B-Instruct@bad-rev": {behaviour: bad}
"""

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel


class _Part(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class Gpu(_Part):
    product: str = Field(description="nvidia.com/gpu.product label value")
    count: int = Field(ge=1, le=64)
    memory_mib: int | None = Field(default=None, alias="memoryMiB", ge=1024)


class Taint(_Part):
    key: str
    value: str = ""
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]


class NodePool(_Part):
    pool: str = Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    count: int = Field(ge=0, le=1000)
    gpu: Gpu | None = None
    cpu: str = "96"
    memory: str = "1Ti"
    labels: dict[str, str] = Field(default_factory=dict)
    taints: list[Taint] = Field(default_factory=list)


class Engine(_Part):
    mode: Literal["simulated", "process", "idle"] = "simulated"
    load_bandwidth_gbps: float = Field(default=4.0, gt=0, alias="loadBandwidthGBps")
    startup_seconds: float = Field(default=20.0, ge=0)
    # process mode: model URIs (or names) mapped to local directories
    model_dirs: dict[str, str] = Field(default_factory=dict)
    # process mode: directories put before $PATH, and where containers' output goes
    path: list[str] = Field(default_factory=list)
    log_dir: str | None = None
    # process mode: the processes' nice value. A pod on a GPU node has cores of its own;
    # here engines share the machine's cores with the control plane and the operator.
    niceness: int = Field(default=0, ge=0, le=19)

    def relative_to(self, folder: Path) -> "Engine":
        """The same settings with relative directories read from `folder`."""
        return self.model_copy(
            update={
                "model_dirs": {k: _under(folder, v) for k, v in self.model_dirs.items()},
                "path": [_under(folder, entry) for entry in self.path],
                "log_dir": _under(folder, self.log_dir) if self.log_dir else None,
            }
        )


def _under(folder: Path, path: str) -> str:
    return str((folder / path).resolve()) if not Path(path).is_absolute() else path


class Checkpoint(_Part):
    behaviour: Literal["ok", "bad", "slow", "slower", "erroring"] = "ok"
    slow_factor: float = Field(default=5.0, ge=1)


class ClusterFile(_Part):
    nodes: list[NodePool] = Field(min_length=1)
    engine: Engine = Field(default_factory=Engine)
    checkpoints: dict[str, Checkpoint] = Field(default_factory=dict)
    heartbeat_seconds: float = Field(default=10.0, gt=0)
    node_grace_seconds: float = Field(default=40.0, gt=0)


class ClusterFileError(ValueError):
    """A cluster file that cannot be used; the message names the file and the field."""


def load_cluster_file(path: Path) -> ClusterFile:
    try:
        data: Any = yaml.safe_load(path.read_text())
    except OSError as error:
        raise ClusterFileError(f"{path}: cannot read: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise ClusterFileError(f"{path}: not valid YAML: {error}") from None
    try:
        config = ClusterFile.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "<root>"
        raise ClusterFileError(f"{path}: {where}: {first['msg']}") from None
    return config.model_copy(update={"engine": config.engine.relative_to(path.parent)})
