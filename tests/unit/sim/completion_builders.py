"""Bodies as a user posts them, and `completed`, for the completion tests
(test_completion_*.py).
"""

from typing import Any

from llamaops.sim.apiserver.completion import complete
from llamaops.sim.apiserver.resources import BUILTINS

Obj = dict[str, Any]
RESOURCES = {resource.kind: resource for resource in BUILTINS}


def obj(kind: str, name: str = "x", api_version: str = "v1", **fields: Any) -> Obj:
    """A body as a user posts it: only what they chose to write."""
    namespaced = RESOURCES[kind].namespaced
    metadata = {"name": name, **({"namespace": "default"} if namespaced else {})}
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, **fields}


def container(name: str = "vllm", image: str = "vllm/vllm-openai:v0.6.3", **fields: Any) -> Obj:
    return {"name": name, "image": image, **fields}


def pod(*containers: Obj, **spec: Any) -> Obj:
    return obj("Pod", spec={"containers": list(containers) or [container()], **spec})


def completed(kind: str, body: Obj) -> Obj:
    return complete(RESOURCES[kind], body)
