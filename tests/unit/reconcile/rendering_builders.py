"""Render replicas the way the operator does: admit the manifest, resolve, size, render."""

import functools
from dataclasses import dataclass
from typing import Any

from llamaops.api.crd import custom_resource_definition
from llamaops.api.placement import Placement
from llamaops.api.resource import LlamaDeployment
from llamaops.api.spec import LlamaDeploymentSpec
from llamaops.gpu_choice import size_for_product
from llamaops.model_resolution import ResolvedModel, resolve_model
from llamaops.reconcile.rendering import replica_pod
from llamaops.schema import admit_spec_of
from tests.builders import DeploymentBuilder, a_deployment

H100 = "NVIDIA-H100-80GB-HBM3"
UID = "3b0c9d0e-8f7a-4c1e-9d52-2f6a4e0b7c11"
NAMESPACE = "serving"


@functools.cache
def _crd() -> dict[str, Any]:
    return custom_resource_definition()


def stored(deployment: DeploymentBuilder) -> LlamaDeployment:
    """The deployment as the API server keeps it: defaults applied, uid and namespace set."""
    obj = deployment.set("metadata.uid", UID).set("metadata.namespace", NAMESPACE).obj()
    admitted, errors = admit_spec_of(_crd(), obj)
    assert errors == [], errors
    return LlamaDeployment.model_validate(admitted)


@dataclass(frozen=True)
class Rendered:
    """One rendered replica and what it was rendered from."""

    deployment: LlamaDeployment
    model: ResolvedModel
    placement: Placement
    pod: dict[str, Any]

    @property
    def container(self) -> dict[str, Any]:
        (only,) = self.pod["spec"]["containers"]
        return dict(only)

    @property
    def args(self) -> list[str]:
        return list(self.container["args"])

    @property
    def command_line(self) -> list[str]:
        return [*self.container["command"], *self.container["args"]]

    def arg(self, flag: str) -> str | None:
        """The value after `flag`, or None when the flag is absent."""
        args = self.args
        return args[args.index(flag) + 1] if flag in args else None

    def env(self, name: str) -> dict[str, Any] | None:
        return next((e for e in self.container["env"] if e["name"] == name), None)


def placed(spec: LlamaDeploymentSpec, product: str = H100, gpus_per_node: int = 8) -> Placement:
    """The layout sizing gives this spec on nodes of `gpus_per_node` GPUs of `product`."""
    return size_for_product(resolve_model(spec.model), spec.gpu, product, gpus_per_node)


def render(
    deployment: DeploymentBuilder,
    product: str = H100,
    gpus_per_node: int = 8,
    pod_name: str = "llama-abcde-x7k2p",
) -> Rendered:
    """A replica pod of this deployment on nodes of `gpus_per_node` GPUs of `product`."""
    admitted = stored(deployment)
    model = resolve_model(admitted.spec.model)
    placement = placed(admitted.spec, product, gpus_per_node)
    return Rendered(admitted, model, placement, replica_pod(admitted, model, placement, pod_name))


def llama_70b(context: int = 8192) -> DeploymentBuilder:
    return a_deployment().model("llama3.1-70b-instruct").max_model_len(context)


def llama_8b(context: int = 8192) -> DeploymentBuilder:
    return a_deployment().model("llama3.1-8b-instruct").max_model_len(context)
