"""The LlamaDeployment resource: its names in the API and the whole object."""

from typing import Any

from pydantic import Field

from llamaops.api.base import ApiModel
from llamaops.api.spec import LlamaDeploymentSpec
from llamaops.api.status import LlamaDeploymentStatus

GROUP = "serving.llamaops.io"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
KIND = "LlamaDeployment"
PLURAL = "llamadeployments"
SINGULAR = "llamadeployment"
SHORT_NAMES = ("llama", "ld")
CRD_NAME = f"{PLURAL}.{GROUP}"


class ObjectMeta(ApiModel):
    """The part of metadata llamaops reads; the rest is kept as the API server sent it."""

    model_config = ApiModel.model_config | {"extra": "allow"}

    name: str = Field(description="Name of the object.")
    namespace: str | None = Field(default=None, description="Namespace of the object.")
    generation: int | None = Field(default=None, description="Spec version counter.")
    annotations: dict[str, str] | None = Field(default=None, description="Annotations.")


class LlamaDeployment(ApiModel):
    """A whole LlamaDeployment object."""

    api_version: str = Field(pattern=f"^{API_VERSION}$", description="Always " + API_VERSION)
    kind: str = Field(pattern=f"^{KIND}$", description="Always " + KIND)
    metadata: ObjectMeta = Field(description="Standard object metadata.")
    spec: LlamaDeploymentSpec = Field(description="Desired state.")
    status: LlamaDeploymentStatus | None = Field(default=None, description="Observed state.")

    @classmethod
    def from_wire(cls, obj: dict[str, Any]) -> "LlamaDeployment":
        return cls.model_validate(obj)
