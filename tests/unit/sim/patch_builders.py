"""Objects to patch, and a refused patch's error, for the patch tests (test_patches_*.py)."""

import json
from typing import Any

import pytest

from llamaops.sim.apiserver.patches import PatchError, patch_object

Obj = dict[str, Any]


def container(name: str, image: str = "busybox:1", **fields: Any) -> Obj:
    return {"name": name, "image": image, **fields}


def pod(*containers: Obj, **spec: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default", "resourceVersion": "5"},
        "spec": {"containers": list(containers), **spec},
    }


def with_metadata(obj: Obj, **metadata: Any) -> Obj:
    return {**obj, "metadata": {**obj["metadata"], **metadata}}


def llama_deployment(**spec: Any) -> Obj:
    return {
        "apiVersion": "llamaops.dev/v1alpha1",
        "kind": "LlamaDeployment",
        "metadata": {"name": "chat", "namespace": "default", "resourceVersion": "5"},
        "spec": spec,
    }


def as_body(value: Any) -> bytes:
    return json.dumps(value).encode()


def refusal(content_type: str, original: Obj, body: bytes, *, builtin: bool = True) -> PatchError:
    with pytest.raises(PatchError) as caught:
        patch_object(content_type, original, body, builtin=builtin)
    return caught.value
