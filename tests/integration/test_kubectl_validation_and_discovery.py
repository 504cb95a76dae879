"""kubectl, the pinned binary, against the API emulator: `explain`, `api-resources`,
and objects refused or warned about as a real cluster does.

Each test gets a fresh emulator and drives it only through kubectl subprocesses
(tests/integration/kubectl_helpers.py). Every command and its output is echoed,
and a dump of the emulator's objects follows each test, so a failure shows what
kubectl sent, what it printed and what the cluster held.
"""

import re

import pytest

from tests.integration.kubectl_helpers import (
    LLAMA,
    LLAMA3_70B,
    LLAMAS,
    Kubectl,
    columns,
    described,
    manifest,
    not_found,
    row_named,
)
from tests.integration.kubectl_objects import llama


# --- explain, discovery ------------------------------------------------------------------
def test_explain_prints_the_field_descriptions_of_spec_gpu(kubectl: Kubectl) -> None:
    output = kubectl("explain", "llamadeployment.spec.gpu")

    assert described(output, "GROUP") == "serving.llamaops.io"
    assert described(output, "KIND") == "LlamaDeployment"
    assert described(output, "VERSION") == "v1alpha1"
    assert described(output, "FIELD") == "gpu <Object>"
    assert "DESCRIPTION:\n    GPU choice and model layout.\n" in output
    assert (
        "  memoryUtilization\t<number>\n"
        "    Share of each GPU's memory vLLM may use (--gpu-memory-utilization).\n"
    ) in output
    fields = re.findall(r"^  (\w+)\t<", output, re.M)
    assert fields == [
        "memoryUtilization",
        "minKvSequences",
        "pipelineParallelSize",
        "product",
        "tensorParallelSize",
    ]


def test_api_resources_lists_llamadeployments_with_their_short_names(kubectl: Kubectl) -> None:
    output = kubectl("api-resources")

    assert columns(output) == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    assert row_named(output, "llamadeployments") == {
        "NAME": "llamadeployments",
        "SHORTNAMES": "llama,ld",
        "APIVERSION": "serving.llamaops.io/v1alpha1",
        "NAMESPACED": "true",
        "KIND": "LlamaDeployment",
    }
    kubectl("apply", "-f", LLAMA3_70B)
    for name in ("llama", "ld", "llamadeployment", "llamadeployments", "llamaops"):
        assert kubectl("get", name, "-o", "name") == f"{LLAMA}/llama3-70b\n", f"kubectl get {name}"


# --- validation --------------------------------------------------------------------------
INVALID_FIELDS = (
    "* spec.gpu.memoryUtilization: Invalid value: 1.5: spec.gpu.memoryUtilization in body "
    "should be less than or equal to 0.98\n"
    "* spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or "
    "equal to 0\n"
)


@pytest.mark.parametrize(
    "command",
    [("apply",), ("create",), ("apply", "--server-side")],
    ids=["apply", "create", "server-side-apply"],
)
def test_an_invalid_llama_is_refused_naming_each_field(
    kubectl: Kubectl, command: tuple[str, ...]
) -> None:
    bad = llama("bad-llama", replicas=-1)
    bad["spec"]["gpu"]["memoryUtilization"] = 1.5

    refused = kubectl.fails(*command, "-f", "-", stdin=manifest(bad))

    assert refused.err == f'The LlamaDeployment "bad-llama" is invalid: \n{INVALID_FIELDS}'
    assert kubectl.fails("get", "llama", "bad-llama").err == not_found(LLAMAS, "bad-llama") + "\n"


@pytest.mark.parametrize("command", ["apply", "create"])
def test_a_misspelled_field_is_a_strict_decoding_error(kubectl: Kubectl, command: str) -> None:
    typo = llama("typo-llama")
    typo["spec"]["replica"] = typo["spec"].pop("replicas")

    refused = kubectl.fails(command, "-f", "-", stdin=manifest(typo))

    assert refused.err == (
        'Error from server (BadRequest): error when creating "STDIN": LlamaDeployment in '
        'version "v1alpha1" cannot be handled as a LlamaDeployment: '
        'strict decoding error: unknown field "spec.replica"\n'
    )
    assert kubectl.fails("get", "llama", "typo-llama").code == 1


def test_a_misspelled_field_only_warns_when_validation_is_warn(kubectl: Kubectl) -> None:
    typo = llama("typo-llama")
    typo["spec"]["replica"] = typo["spec"].pop("replicas")

    applied = kubectl.run("apply", "--validate=warn", "-f", "-", stdin=manifest(typo))

    assert applied.code == 0, applied
    assert applied.out == f"{LLAMA}/typo-llama created\n"
    assert applied.err == 'Warning: unknown field "spec.replica"\n'
    assert kubectl.field("llama/typo-llama", "{.spec.replicas}") == "1", "pruned, then defaulted"
