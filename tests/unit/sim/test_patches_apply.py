"""PATCH bodies applied as the apiserver applies them: server-side apply, and the
original left unchanged by every patch type.
"""

import copy
from typing import Any

import pytest

from llamaops.sim.apiserver.patches import (
    APPLY,
    JSON_PATCH,
    MERGE,
    STRATEGIC,
    patch_object,
    server_side_apply,
)
from tests.unit.sim.patch_builders import (
    as_body,
    container,
    llama_deployment,
    pod,
    with_metadata,
)

# --- Server-side apply ------------------------------------------------------------------------


@pytest.mark.parametrize("builtin", [True, False], ids=["built-in", "custom resource"])
def test_an_apply_that_creates_gives_the_applied_object(builtin: bool) -> None:
    applied = llama_deployment(replicas=2, models=["llama3.1-8b"])
    assert server_side_apply(None, applied, builtin=builtin) == applied


def test_an_apply_to_a_pod_merges_its_containers_by_name() -> None:
    live = pod(container("app", "vllm:1"), container("sidecar"))
    applied = pod(container("app", "vllm:2"))
    assert server_side_apply(live, applied, builtin=True) == pod(
        container("app", "vllm:2"), container("sidecar")
    )


def test_an_apply_to_a_custom_resource_merges_maps_and_replaces_lists() -> None:
    live = llama_deployment(replicas=1, models=["a", "b"], gpu={"product": "H100", "count": 8})
    applied = llama_deployment(models=["c"], gpu={"count": 4}, replicas=None)
    assert server_side_apply(live, applied, builtin=False)["spec"] == {
        "models": ["c"],
        "gpu": {"product": "H100", "count": 4},
    }


def test_an_apply_drops_the_managed_fields_it_is_sent() -> None:
    applied = with_metadata(llama_deployment(), managedFields=[{"manager": "kubectl"}])
    patched = patch_object(APPLY, llama_deployment(), as_body(applied), builtin=False)
    assert "managedFields" not in patched["metadata"]


def test_an_apply_body_may_be_yaml_and_its_timestamps_stay_strings() -> None:
    body = b"""
apiVersion: llamaops.dev/v1alpha1
kind: LlamaDeployment
metadata:
  name: chat
  annotations:
    llamaops.dev/restartedAt: 2024-05-01T10:00:00Z
spec:
  replicas: 3
"""
    patched = patch_object(APPLY, llama_deployment(replicas=1), body, builtin=False)
    assert patched["spec"] == {"replicas": 3}
    assert patched["metadata"]["annotations"] == {
        "llamaops.dev/restartedAt": "2024-05-01T10:00:00Z"
    }
    assert patched["metadata"]["resourceVersion"] == "5"


# --- The original is never changed ------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "patch"),
    [
        (MERGE, {"metadata": {"labels": None}, "spec": {"containers": [container("x")]}}),
        (JSON_PATCH, [{"op": "remove", "path": "/spec/containers/0/env/0"}]),
        (
            STRATEGIC,
            {
                "spec": {
                    "containers": [{"name": "app", "env": [{"name": "A", "$patch": "delete"}]}]
                },
                "metadata": {"finalizers": ["z"]},
            },
        ),
        (APPLY, pod(container("app", "vllm:9", env=[{"name": "A", "value": "2"}]))),
    ],
    ids=["merge", "json", "strategic", "apply"],
)
def test_patching_never_changes_the_original(content_type: str, patch: Any) -> None:
    original = with_metadata(
        pod(container("app", env=[{"name": "A", "value": "1"}])),
        labels={"app": "web"},
        finalizers=["a"],
    )
    before = copy.deepcopy(original)
    patched = patch_object(content_type, original, as_body(patch), builtin=True)
    assert patched != before
    assert original == before
    patched["spec"]["containers"][0]["name"] = "changed"
    assert original == before
