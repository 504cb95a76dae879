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
  mode: simulated          # or "process": run the pod's own command
  loadBandwidthGBps: 4     # per GPU, for load times
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
    mode: Literal["simulated", "process"] = "simulated"
    load_bandwidth_gbps: float = Field(default=4.0, gt=0, alias="loadBandwidthGBps")
    startup_seconds: float = Field(default=20.0, ge=0)
    # process mode: model URIs (or names) mapped to local directories
    model_dirs: dict[str, str] = Field(default_factory=dict)


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
        return ClusterFile.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "<root>"
        raise ClusterFileError(f"{path}: {where}: {first['msg']}") from None
