"""The LlamaDeployment API: typed spec and status, and the CRD generated from them."""

from llamaops.api.model_spec import Architecture, Checkpoint, Dtype, ModelSpec
from llamaops.api.placement import GpuMemory, Placement
from llamaops.api.resource import (
    API_VERSION,
    CRD_NAME,
    GROUP,
    KIND,
    PLURAL,
    VERSION,
    LlamaDeployment,
)
from llamaops.api.spec import GpuSpec, LlamaDeploymentSpec, Toleration
from llamaops.api.status import Condition, LlamaDeploymentStatus

__all__ = [
    "API_VERSION",
    "CRD_NAME",
    "GROUP",
    "KIND",
    "PLURAL",
    "VERSION",
    "Architecture",
    "Checkpoint",
    "Condition",
    "Dtype",
    "GpuMemory",
    "GpuSpec",
    "LlamaDeployment",
    "LlamaDeploymentSpec",
    "LlamaDeploymentStatus",
    "ModelSpec",
    "Placement",
    "Toleration",
]
