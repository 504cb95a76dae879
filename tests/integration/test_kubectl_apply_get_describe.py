"""kubectl, the pinned binary, against the API emulator: `apply`, `get` and `describe`
work as they do on a real cluster.

Each test gets a fresh emulator and drives it only through kubectl subprocesses
(tests/integration/kubectl_helpers.py). Every command and its output is echoed,
and a dump of the emulator's objects follows each test, so a failure shows what
kubectl sent, what it printed and what the cluster held.
"""

import re

import yaml

from llamaops.sim.apiserver.background import BackgroundApiServer
from tests.builders import gpu_node
from tests.integration.kubectl_helpers import (
    CRD,
    LLAMA,
    LLAMA3_70B,
    LLAMA_COLUMNS,
    LLAMAS,
    POD_WIDE_COLUMNS,
    REPO,
    Kubectl,
    columns,
    described,
    manifest,
    row_named,
    rows,
)
from tests.integration.kubectl_objects import engine_pod, llama, running_status, serving_status
from tests.waiting import wait_until


# --- apply -------------------------------------------------------------------------------
def test_apply_creates_the_crd_and_a_llama_from_the_repository_manifests(
    bare_kubectl: Kubectl,
) -> None:
    kubectl = bare_kubectl

    assert kubectl("apply", "-f", CRD) == (
        f"customresourcedefinition.apiextensions.k8s.io/{LLAMAS} created\n"
    )
    assert kubectl("apply", "-f", LLAMA3_70B) == f"{LLAMA}/llama3-70b created\n"

    assert kubectl.field("llama/llama3-70b", "{.spec.replicas}") == "2"
    assert kubectl.field("llama/llama3-70b", "{.spec.model.name}") == (
        "meta-llama/Llama-3.1-70B-Instruct"
    )
    assert kubectl.field("llama/llama3-70b", "{.spec.gpu.memoryUtilization}") == "0.9", (
        "the CRD's default should be filled in"
    )


def test_client_side_apply_of_a_changed_manifest_configures_the_object(kubectl: Kubectl) -> None:
    kubectl.apply(llama("llama3-8b", replicas=2))

    assert kubectl.apply(llama("llama3-8b", replicas=5)) == f"{LLAMA}/llama3-8b configured\n"
    assert kubectl.field("llama/llama3-8b", "{.spec.replicas}") == "5"
    assert kubectl.field("llama/llama3-8b", "{.metadata.generation}") == "2"
    assert kubectl.apply(llama("llama3-8b", replicas=5)) == f"{LLAMA}/llama3-8b unchanged\n"


def test_server_side_apply_of_the_crd_and_of_a_llama(bare_kubectl: Kubectl) -> None:
    kubectl = bare_kubectl

    assert kubectl("apply", "--server-side", "-f", CRD) == (
        f"customresourcedefinition.apiextensions.k8s.io/{LLAMAS} serverside-applied\n"
    )
    assert kubectl.apply(llama("llama3-8b", replicas=1), flags=("--server-side",)) == (
        f"{LLAMA}/llama3-8b serverside-applied\n"
    )
    assert kubectl.field("llama/llama3-8b", "{.spec.replicas}") == "1"

    kubectl.apply(llama("llama3-8b", replicas=3), flags=("--server-side",))

    assert kubectl.field("llama/llama3-8b", "{.spec.replicas}") == "3"
    assert kubectl.field("llama/llama3-8b", "{.metadata.generation}") == "2"


def test_server_side_apply_takes_over_a_client_side_applied_llama(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", LLAMA3_70B)
    changed = yaml.safe_load((REPO / LLAMA3_70B).read_text())
    changed["spec"]["replicas"] = 4

    kubectl.apply(changed, flags=("--server-side",))

    assert kubectl.field("llama/llama3-70b", "{.spec.replicas}") == "4"


# --- get -------------------------------------------------------------------------------
def test_get_llama_prints_the_crd_printer_columns(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", LLAMA3_70B)

    output = kubectl("get", "llama")

    assert columns(output) == LLAMA_COLUMNS
    row = row_named(output, "llama3-70b")
    assert row["MODEL"] == "meta-llama/Llama-3.1-70B-Instruct"
    assert [row[c] for c in ("GPU", "TP", "READY", "DESIRED", "QUEUE", "CHECKPOINT")] == [""] * 6
    assert re.fullmatch(r"\d+s", row["AGE"]), row


def test_get_llama_shows_the_status_written_through_the_status_subresource(
    kubectl: Kubectl,
) -> None:
    kubectl("apply", "-f", LLAMA3_70B)
    status = serving_status(
        gpu="NVIDIA-H100-80GB-HBM3",
        tensor_parallel=4,
        ready=1,
        desired=2,
        queue=7,
        checkpoint="s3://weights/llama3-70b/v2",
    )

    kubectl.write_status("llama/llama3-70b", status)

    row = row_named(kubectl("get", "llama"), "llama3-70b")
    assert row["GPU"] == "NVIDIA-H100-80GB-HBM3"
    assert (row["TP"], row["READY"], row["DESIRED"], row["QUEUE"]) == ("4", "1", "2", "7")
    assert row["CHECKPOINT"] == "s3://weights/llama3-70b/v2"
    assert kubectl.field("llama/llama3-70b", "{.metadata.generation}") == "1", (
        "a status write must not bump generation"
    )


def test_get_llama_watch_prints_the_changes_made_by_other_commands(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", LLAMA3_70B)

    with kubectl.start("get", "llama", "-w", "--output-watch-events", "--show-labels") as watch:
        wait_until(lambda: "llama3-70b" in watch.output(), what="the watch lists llama3-70b")
        kubectl("label", "llama", "llama3-70b", "team=serving")
        wait_until(
            lambda: re.search(r"^MODIFIED +llama3-70b .*team=serving", watch.output(), re.M),
            what="the watch prints the label change",
        )
        kubectl("scale", "llama/llama3-70b", "--replicas=3")
        wait_until(
            lambda: len(re.findall(r"^MODIFIED +llama3-70b ", watch.output(), re.M)) == 2,
            what="the watch prints the replica change",
        )
        kubectl("delete", "llama", "llama3-70b")
        wait_until(
            lambda: re.search(r"^DELETED +llama3-70b ", watch.output(), re.M),
            what="the watch prints the deletion",
        )
        assert watch.is_running(), "a watch runs until stopped"


def test_get_pods_watch_prints_a_pod_that_starts_running(kubectl: Kubectl) -> None:
    kubectl.apply(gpu_node("gpu-node-1"), engine_pod("engine-0", node="gpu-node-1"))

    with kubectl.start("get", "pods", "--watch") as watch:
        wait_until(lambda: "Pending" in watch.output(), what="the watch lists the Pending pod")
        kubectl.write_status("pod/engine-0", running_status("10.0.0.7"))
        wait_until(
            lambda: re.search(r"^engine-0 +1/2 +Running +1 ", watch.output(), re.M),
            what="the watch prints engine-0 Running",
        )


def test_get_pods_wide_prints_the_usual_columns(kubectl: Kubectl) -> None:
    kubectl.apply(
        gpu_node("gpu-node-1"),
        engine_pod("engine-0"),
        engine_pod("engine-1", node="gpu-node-1"),
    )
    kubectl.write_status("pod/engine-1", running_status("10.0.0.7"))

    output = kubectl("get", "pods", "-o", "wide")

    assert columns(output) == POD_WIDE_COLUMNS
    pending, running = row_named(output, "engine-0"), row_named(output, "engine-1")
    assert pending | {"AGE": ""} == {
        "NAME": "engine-0",
        "READY": "0/2",
        "STATUS": "Pending",
        "RESTARTS": "0",
        "AGE": "",
        "IP": "<none>",
        "NODE": "<none>",
        "NOMINATED NODE": "<none>",
        "READINESS GATES": "<none>",
    }
    assert running | {"AGE": ""} == {
        "NAME": "engine-1",
        "READY": "1/2",
        "STATUS": "Running",
        "RESTARTS": "1",
        "AGE": "",
        "IP": "10.0.0.7",
        "NODE": "gpu-node-1",
        "NOMINATED NODE": "<none>",
        "READINESS GATES": "<none>",
    }


def test_get_namespaces_lists_the_namespaces_every_cluster_has(bare_kubectl: Kubectl) -> None:
    output = bare_kubectl("get", "ns")

    assert columns(output) == ["NAME", "STATUS", "AGE"]
    assert {row["NAME"]: row["STATUS"] for row in rows(output)} == {
        "default": "Active",
        "kube-node-lease": "Active",
        "kube-public": "Active",
        "kube-system": "Active",
    }


def test_get_of_two_kinds_prints_a_table_for_each(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", LLAMA3_70B)
    kubectl.apply(engine_pod("engine-0"))

    output = kubectl("get", "llama,pods")

    llama_table, pod_table = output.split("\n\n")
    assert columns(llama_table) == LLAMA_COLUMNS
    assert row_named(llama_table, f"{LLAMA}/llama3-70b")
    assert columns(pod_table) == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert row_named(pod_table, "pod/engine-0")["STATUS"] == "Pending"


def test_label_selection_finds_only_the_llamas_with_that_label(kubectl: Kubectl) -> None:
    kubectl.apply(llama("gold-llama"), llama("plain-llama"))
    kubectl("label", "llama", "gold-llama", "tier=gold")

    assert kubectl("get", "llama", "-l", "tier=gold", "-o", "name") == f"{LLAMA}/gold-llama\n"
    assert kubectl("get", "llama", "-l", "tier!=gold", "-o", "name") == f"{LLAMA}/plain-llama\n"
    nothing = kubectl.run("get", "llama", "-l", "tier=silver")
    assert (nothing.code, nothing.out) == (0, "")
    assert nothing.err == "No resources found in default namespace.\n"


def test_field_selection_on_pod_phase_and_node(kubectl: Kubectl) -> None:
    kubectl.apply(
        gpu_node("gpu-node-1"),
        engine_pod("engine-0"),
        engine_pod("engine-1", node="gpu-node-1"),
    )
    kubectl.write_status("pod/engine-1", running_status("10.0.0.7"))

    assert kubectl("get", "pods", "--field-selector", "status.phase=Pending", "-o", "name") == (
        "pod/engine-0\n"
    )
    assert kubectl("get", "pods", "--field-selector", "status.phase!=Pending", "-o", "name") == (
        "pod/engine-1\n"
    )
    assert kubectl("get", "pods", "--field-selector", "spec.nodeName=gpu-node-1", "-o", "name") == (
        "pod/engine-1\n"
    )


def test_an_unsupported_field_selector_is_refused(kubectl: Kubectl) -> None:
    kubectl.apply(engine_pod("engine-0"))

    refused = kubectl.fails("get", "pods", "--field-selector", "spec.containers.image=busybox")

    assert "field label not supported: spec.containers.image" in refused.err


# --- describe ----------------------------------------------------------------------------
def test_describe_llama_shows_metadata_spec_status_and_events(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", LLAMA3_70B)
    kubectl("label", "llama", "llama3-70b", "team=serving")
    uid = kubectl.field("llama/llama3-70b", "{.metadata.uid}")
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "llama3-70b.scaled"},
        "involvedObject": {
            "apiVersion": "serving.llamaops.io/v1alpha1",
            "kind": "LlamaDeployment",
            "name": "llama3-70b",
            "namespace": "default",
            "uid": uid,
        },
        "reason": "ScaledUp",
        "message": "Scaled llama3-70b from 1 to 2 replicas",
        "type": "Normal",
        "count": 1,
        "source": {"component": "llamaops"},
    }
    kubectl("create", "-f", "-", stdin=manifest(event))

    output = kubectl("describe", "llama", "llama3-70b")

    assert described(output, "Name") == "llama3-70b"
    assert described(output, "Namespace") == "default"
    assert described(output, "Labels") == "team=serving"
    assert described(output, "API Version") == "serving.llamaops.io/v1alpha1"
    assert described(output, "Kind") == "LlamaDeployment"
    assert described(output, "Replicas") == "2"
    assert described(output, "Drain Timeout Seconds") == "120"
    assert described(output, "Memory Utilization") == "0.9"
    assert re.search(
        r"^Events:\n +Type +Reason +Age +From +Message\n.*\n"
        r" +Normal +ScaledUp +\S+ +llamaops +Scaled llama3-70b from 1 to 2 replicas$",
        output,
        re.M,
    ), "the llama's Event should be listed"


def test_describe_pod_shows_node_ip_containers_and_their_state(kubectl: Kubectl) -> None:
    kubectl.apply(gpu_node("gpu-node-1"), engine_pod("engine-0", node="gpu-node-1"))
    kubectl.write_status("pod/engine-0", running_status("10.0.0.7", restarts=3))

    output = kubectl("describe", "pod", "engine-0")

    assert described(output, "Name") == "engine-0"
    assert described(output, "Node").startswith("gpu-node-1/")
    assert described(output, "Labels") == "app=vllm"
    assert described(output, "Status") == "Running"
    assert described(output, "IP") == "10.0.0.7"
    vllm = output[output.index("  vllm:") : output.index("  metrics:")]
    assert described(vllm, "Image") == "vllm/vllm-openai:v0.11.0"
    assert described(vllm, "State") == "Running"
    assert described(vllm, "Ready") == "True"
    assert described(vllm, "Restart Count") == "3"
    assert described(vllm, "VLLM_PORT") == "8000"
    assert described(output, "QoS Class") == "BestEffort"


def test_get_lists_more_than_a_page_of_500(
    bare_kubectl: Kubectl, apiserver: BackgroundApiServer
) -> None:
    """kubectl asks for 500 rows at a time and follows the continue token."""
    for index in range(510):
        body = {"metadata": {"name": f"c-{index:03d}", "namespace": "default"}}
        apiserver.run(lambda b=body: configmaps(apiserver).create("default", b))

    shown = [row["NAME"] for row in rows(bare_kubectl("get", "configmaps"))]

    assert sorted(n for n in shown if n.startswith("c-")) == [f"c-{i:03d}" for i in range(510)]


class _ConfigMaps:
    def __init__(self, apiserver: BackgroundApiServer) -> None:
        assert apiserver.server is not None
        self.server = apiserver.server

    def create(self, namespace: str, body: dict) -> None:  # type: ignore[type-arg]
        resource = self.server.registry.find("", "v1", "configmaps")
        assert resource is not None
        self.server.api.create(resource, namespace, body)


def configmaps(apiserver: BackgroundApiServer) -> _ConfigMaps:
    return _ConfigMaps(apiserver)
