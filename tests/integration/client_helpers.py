"""Objects and checks shared by the tests that drive the API emulator with the official
Python client (test_apiserver_client_*.py).
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes.client import (
    ApiException,
)

REPO = Path(__file__).resolve().parents[2]
GROUP, VERSION, PLURAL = "serving.llamaops.io", "v1alpha1", "llamadeployments"
NAMESPACE = "default"
APPLY = "application/apply-patch+yaml"
JSON_PATCH = "application/json-patch+json"


# --- builders ------------------------------------------------------------------------------
def a_pod(name: str, **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "containers": [
                {
                    "name": "engine",
                    "image": "vllm/vllm-openai:v0.6.3",
                    "env": [{"name": "HF_HOME", "value": "/models"}],
                }
            ]
        },
    }


def a_service(name: str, port: int = 8000) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"selector": {"app": name}, "ports": [{"name": "http", "port": port}]},
    }


def the_manifest(name: str) -> dict[str, Any]:
    """A LlamaDeployment from the repository's manifests/."""
    loaded: dict[str, Any] = yaml.safe_load((REPO / "manifests" / f"{name}.yaml").read_text())
    return loaded


@contextmanager
def expect_api_error(code: int, reason: str) -> Iterator[dict[str, Any]]:
    """Expect the block to fail with `code`; yields the Status body once it has."""
    status: dict[str, Any] = {}
    with pytest.raises(ApiException) as raised:
        yield status
    assert raised.value.status == code, raised.value.body
    status.update(json.loads(raised.value.body))
    assert status["kind"] == "Status", status
    assert (status["code"], status["reason"]) == (code, reason), status
