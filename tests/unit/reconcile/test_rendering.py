"""The objects a LlamaDeployment owns: pod metadata and hashes, names, Service, budget.

Every object must also be one the Kubernetes client can read, and a rendered pod's command
line must mean to the local cluster's engine what the operator meant.
"""

import json
import re
from typing import Any

import pytest
from kubernetes.client import ApiClient

from llamaops.api.resource import LlamaDeployment
from llamaops.api.spec import LlamaDeploymentSpec
from llamaops.reconcile.rendering import (
    checkpoint_id,
    disruption_budget,
    replica_name,
    service,
    template_hash,
)
from llamaops.sim.engine.args import parse_command_line
from tests.builders import DeploymentBuilder
from tests.unit.reconcile.rendering_builders import (
    H100,
    NAMESPACE,
    UID,
    llama_8b,
    llama_70b,
    placed,
    render,
    stored,
)

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
OWNER = {
    "apiVersion": "serving.llamaops.io/v1alpha1",
    "kind": "LlamaDeployment",
    "name": "llama",
    "uid": UID,
    "controller": True,
    "blockOwnerDeletion": True,
}
SELECTOR = {
    "app.kubernetes.io/name": "vllm",
    "app.kubernetes.io/managed-by": "llamaops",
    "serving.llamaops.io/deployment": "llama",
}


def spec_of(deployment: DeploymentBuilder) -> LlamaDeploymentSpec:
    return stored(deployment).spec


def hashes(deployment: DeploymentBuilder) -> tuple[str, str]:
    """The checkpoint and template hashes of a deployment's replicas."""
    spec = spec_of(deployment)
    return checkpoint_id(spec), template_hash(spec, placed(spec))


# --- the pod's metadata -----------------------------------------------------------------


def test_a_replica_pod_is_named_labelled_annotated_and_owned() -> None:
    replica = render(llama_70b(), pod_name="llama-1a2b3-x7k2p")
    metadata = replica.pod["metadata"]
    spec = replica.deployment.spec

    assert (replica.pod["apiVersion"], replica.pod["kind"]) == ("v1", "Pod")
    assert (metadata["name"], metadata["namespace"]) == ("llama-1a2b3-x7k2p", NAMESPACE)
    assert metadata["labels"] == {
        **SELECTOR,
        "serving.llamaops.io/checkpoint": checkpoint_id(spec),
        "serving.llamaops.io/template-hash": template_hash(spec, replica.placement),
        "serving.llamaops.io/serving": "true",
    }
    assert metadata["annotations"] == {
        "serving.llamaops.io/placement": f"TP 4 x PP 1 on {H100}",
    }
    assert metadata["ownerReferences"] == [OWNER]
    (container,) = replica.pod["spec"]["containers"]
    assert (container["name"], container["image"]) == ("vllm", spec.engine.image)


def test_a_deployment_without_a_uid_cannot_own_children() -> None:
    deployment = LlamaDeployment.model_validate(llama_8b().obj())  # never stored

    with pytest.raises(ValueError, match=r"no metadata\.uid"):
        service(deployment)


# --- hashes -----------------------------------------------------------------------------


def test_hashes_are_short_label_values_and_the_same_every_time() -> None:
    first, second = hashes(llama_70b()), hashes(llama_70b())

    assert first == second
    assert all(len(h) == 10 and DNS_LABEL.match(h) for h in first)


def test_the_checkpoint_id_is_the_same_in_every_run() -> None:
    # A golden value: the label on running pods must survive an operator upgrade.
    # printf '{"model":"llama3.1-8b-instruct"}' | sha256sum | cut -c1-10
    assert checkpoint_id(spec_of(llama_8b())) == "8cf2d1265d"


CHECKPOINT = {"uri": "hf://acme/llama-ft", "revision": "v1"}


def with_checkpoint(**fields: str) -> DeploymentBuilder:
    return llama_70b().set("spec.model.checkpoint", {**CHECKPOINT, **fields})


@pytest.mark.parametrize(
    ("changed", "checkpoint_changes", "template_changes"),
    [
        pytest.param(with_checkpoint(uri="hf://acme/llama-ft2"), True, True, id="checkpoint uri"),
        pytest.param(with_checkpoint(revision="v2"), True, True, id="checkpoint revision"),
        pytest.param(llama_70b(), True, True, id="no checkpoint: the model name"),
        pytest.param(
            with_checkpoint().set("spec.engine.image", "vllm/vllm-openai:v0.12.0"),
            False,
            True,
            id="engine image",
        ),
        pytest.param(
            with_checkpoint().set("spec.engine.extraArgs", ["--enforce-eager"]),
            False,
            True,
            id="extra args",
        ),
        pytest.param(
            with_checkpoint().set("spec.engine.env", [{"name": "A", "value": "1"}]),
            False,
            True,
            id="env",
        ),
        pytest.param(with_checkpoint().max_model_len(4096), False, True, id="max model len"),
        pytest.param(with_checkpoint().dtype("fp8"), False, True, id="dtype"),
        pytest.param(
            with_checkpoint().gpu(tensorParallelSize=8), False, True, id="tensor parallel size"
        ),
        pytest.param(
            with_checkpoint().set("spec.scheduling.nodeSelector", {"pool": "a"}),
            False,
            True,
            id="node selector",
        ),
        pytest.param(
            with_checkpoint().rollout(drainTimeoutSeconds=30), False, True, id="drain timeout"
        ),
        pytest.param(
            with_checkpoint().rollout(readinessTimeoutSeconds=600),
            False,
            True,
            id="readiness timeout",
        ),
        pytest.param(
            with_checkpoint().set("spec.model.hfTokenSecretRef", {"name": "hf"}),
            False,
            True,
            id="token secret",
        ),
        pytest.param(with_checkpoint().replicas(7), False, False, id="replicas"),
        pytest.param(
            with_checkpoint().autoscaling(enabled=True, maxReplicas=9),
            False,
            False,
            id="autoscaling",
        ),
        pytest.param(
            with_checkpoint().rollout(maxSurge="50%", maxUnavailable=1, paused=True),
            False,
            False,
            id="rollout pace and pause",
        ),
        pytest.param(
            with_checkpoint().rollout(warmup={"prompt": "Hi."}), False, False, id="warm-up"
        ),
    ],
)
def test_what_changes_the_checkpoint_and_the_template(
    changed: DeploymentBuilder, checkpoint_changes: bool, template_changes: bool
) -> None:
    before_checkpoint, before_template = hashes(with_checkpoint())
    after_checkpoint, after_template = hashes(changed)

    assert (after_checkpoint != before_checkpoint) == checkpoint_changes
    assert (after_template != before_template) == template_changes


def test_the_template_hash_follows_the_placement() -> None:
    spec = spec_of(llama_70b())

    assert template_hash(spec, placed(spec, H100)) != template_hash(
        spec, placed(spec, "NVIDIA-A100-SXM4-80GB")
    )


# --- names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("deployment", "name"),
    [
        ("llama3-70b", "llama3-70b-1a2b3-x7k2p"),
        ("llama.prod", "llama-prod-1a2b3-x7k2p"),
        ("a" * 63, "a" * 51 + "-1a2b3-x7k2p"),
        ("a" * 50 + "-b" * 10, "a" * 50 + "-1a2b3-x7k2p"),
        ("x" * 253, "x" * 51 + "-1a2b3-x7k2p"),
    ],
)
def test_a_replica_name_is_a_dns_label_that_keeps_hash_and_suffix(
    deployment: str, name: str
) -> None:
    rendered = replica_name(deployment, "1a2b3c4d5e", "x7k2p")

    assert rendered == name
    assert len(rendered) <= 63
    assert DNS_LABEL.match(rendered)


# --- Service and PodDisruptionBudget ----------------------------------------------------


def test_the_service_sends_port_8000_to_serving_replicas_only() -> None:
    rendered = service(stored(llama_8b()))

    assert (rendered["apiVersion"], rendered["kind"]) == ("v1", "Service")
    assert rendered["metadata"] == {
        "name": "llama",
        "namespace": NAMESPACE,
        "labels": SELECTOR,
        "ownerReferences": [OWNER],
    }
    assert rendered["spec"]["selector"] == {**SELECTOR, "serving.llamaops.io/serving": "true"}
    assert rendered["spec"]["ports"] == [
        {"name": "http", "port": 8000, "targetPort": 8000, "protocol": "TCP"}
    ]


@pytest.mark.parametrize(
    ("max_unavailable", "budget"),
    [
        pytest.param(0, 1, id="0 would block every node drain: 1"),
        pytest.param("0%", 1, id="0% likewise"),
        pytest.param(2, 2, id="a count is kept"),
        pytest.param("25%", "25%", id="a percentage is kept"),
    ],
)
def test_the_disruption_budget_allows_the_rollouts_max_unavailable(
    max_unavailable: int | str, budget: int | str
) -> None:
    deployment = llama_8b().rollout(maxSurge=1, maxUnavailable=max_unavailable)
    rendered = disruption_budget(stored(deployment))

    assert (rendered["apiVersion"], rendered["kind"]) == ("policy/v1", "PodDisruptionBudget")
    assert rendered["metadata"]["name"] == "llama"
    assert rendered["metadata"]["ownerReferences"] == [OWNER]
    assert rendered["spec"] == {"selector": {"matchLabels": SELECTOR}, "maxUnavailable": budget}


# --- what real readers make of it -------------------------------------------------------


def a_pod_with_every_part() -> dict[str, Any]:
    """A pod with a mounted checkpoint, a token, resources, tolerations and affinity."""
    return render(
        llama_70b()
        .set("spec.model.checkpoint", {"uri": "pvc://weights/llama"})
        .set("spec.model.hfTokenSecretRef", {"name": "hf"})
        .set("spec.engine.resources", {"requests": {"cpu": 8}})
        .set("spec.scheduling.tolerations", [{"operator": "Exists"}])
        .set("spec.scheduling.affinity", {"podAntiAffinity": {}})
        .set("spec.scheduling.priorityClassName", "serving")
    ).pod


@pytest.mark.parametrize(
    ("render_object", "model_class"),
    [
        pytest.param(
            a_pod_with_every_part,
            "V1Pod",
            id="pod",
        ),
        pytest.param(lambda: service(stored(llama_8b())), "V1Service", id="service"),
        pytest.param(
            lambda: disruption_budget(stored(llama_8b())),
            "V1PodDisruptionBudget",
            id="disruption budget",
        ),
    ],
)
def test_the_official_client_reads_every_object_back_whole(
    render_object: Any, model_class: str
) -> None:
    rendered = render_object()
    client = ApiClient()
    typed = client.deserialize(json.dumps(rendered), model_class, "application/json")

    assert client.sanitize_for_serialization(typed) == rendered


def test_the_local_clusters_engine_reads_the_command_line_as_meant() -> None:
    replica = render(llama_70b(context=16384).rollout(drainTimeoutSeconds=75))

    engine = parse_command_line(replica.command_line)

    assert engine.model == "meta-llama/Llama-3.1-70B-Instruct"
    assert engine.model_name == "llama3.1-70b-instruct"
    assert engine.tensor_parallel_size == replica.placement.tensor_parallel_size == 4
    assert engine.pipeline_parallel_size == 1
    assert engine.max_model_len == 16384
    assert engine.shutdown_timeout == 75
    assert engine.port == 8000
    assert (engine.dtype, engine.quantization) == ("bfloat16", None)
