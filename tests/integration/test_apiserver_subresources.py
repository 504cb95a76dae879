"""What clients rely on from the API emulator: the scale, binding and eviction
subresources, and Table answers.

Each test sends what kopf, the official client or kubectl send (see
shared/reference/kube-api-for-kopf.md) and expects the answer kube-apiserver gives,
over plain HTTP (tests/integration/http_helpers.py). A failing test prints the
requests it made and the emulator's objects.
"""

import pytest

from llamaops.api.crd import PRINTER_COLUMNS
from tests.builders import a_deployment, gpu_node
from tests.integration.http_helpers import (
    LLAMAS,
    NODES,
    PDBS,
    PODS,
    TABLE,
    Answer,
    Http,
    exists,
    gone,
    mark_ready,
    pod,
    refused,
    wait_until,
)

pytestmark = pytest.mark.usefixtures("cluster_evidence")


# --- subresources --------------------------------------------------------------------------
def test_the_scale_subresource_reads_and_writes_the_replicas(api: Http) -> None:
    llama, scale = f"{LLAMAS}/llama", f"{LLAMAS}/llama/scale"
    api.post(LLAMAS, a_deployment("llama").replicas(2).obj())
    api.patch(f"{llama}/status", {"status": {"replicas": 2, "selector": "app=llama"}})

    read = api.get(scale)
    put = api.put(scale, {**read.body, "spec": {"replicas": 4}})
    patched = api.patch(scale, {"spec": {"replicas": 3}})
    stale = api.put(scale, {**read.body, "spec": {"replicas": 5}})

    assert (read.body["kind"], read.body["apiVersion"]) == ("Scale", "autoscaling/v1")
    assert read.body["spec"] == {"replicas": 2}
    assert read.body["status"] == {"replicas": 2, "selector": "app=llama"}
    assert (put.code, put.body["spec"]) == (200, {"replicas": 4})
    assert (patched.code, patched.body["spec"]) == (200, {"replicas": 3})
    refused(stale, 409, "Conflict")
    stored = api.get(llama)
    assert stored.body["spec"]["replicas"] == 3
    assert stored.meta["generation"] == 3
    assert patched.rv == stored.rv


def test_a_binding_assigns_a_pod_to_a_node_once(api: Http) -> None:
    api.post(NODES, gpu_node("h100-0"))
    api.post(NODES, gpu_node("h100-1"))
    api.post(PODS, pod("engine-0"))

    def bind(node: str) -> Answer:
        binding = {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": "engine-0"},
            "target": {"apiVersion": "v1", "kind": "Node", "name": node},
        }
        return api.post(f"{PODS}/engine-0/binding", binding)

    first = bind("h100-0")
    second = bind("h100-1")

    assert (first.code, first.body["status"]) == (201, "Success")
    refused(second, 409, "Conflict")
    bound = api.get(f"{PODS}/engine-0").body
    assert bound["spec"]["nodeName"] == "h100-0"
    scheduled = {c["type"]: c["status"] for c in bound["status"]["conditions"]}
    assert scheduled["PodScheduled"] == "True"


def test_an_eviction_is_refused_with_429_while_a_budget_allows_no_disruption(api: Http) -> None:
    for name in ("web-0", "web-1"):
        api.post(PODS, pod(name, app="web"))
        mark_ready(api, name)
    budget = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "web"},
        "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "web"}}},
    }
    api.post(PDBS, budget)
    eviction = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "web-0"}}

    status = refused(api.post(f"{PODS}/web-0/eviction", eviction), 429, "TooManyRequests")
    assert [cause["reason"] for cause in status["details"]["causes"]] == ["DisruptionBudget"]
    assert exists(api, f"{PODS}/web-0")

    api.patch(f"{PDBS}/web", {"spec": {"minAvailable": 1}})
    allowed = api.post(f"{PODS}/web-0/eviction", eviction)

    assert (allowed.code, allowed.body["status"]) == (201, "Success")
    wait_until(lambda: gone(api, f"{PODS}/web-0"), what="the evicted pod is deleted")
    assert exists(api, f"{PODS}/web-1")


# --- tables --------------------------------------------------------------------------------
def test_a_table_of_llama_deployments_has_the_printer_columns(api: Http) -> None:
    api.post(LLAMAS, a_deployment("llama3-8b").model("llama3.1-8b-instruct").obj())
    api.patch(f"{LLAMAS}/llama3-8b/status", {"status": {"readyReplicas": 1}})

    listed = api.get(LLAMAS, accept=TABLE).body
    single = api.get(f"{LLAMAS}/llama3-8b", accept=TABLE).body

    assert (listed["kind"], listed["apiVersion"]) == ("Table", "meta.k8s.io/v1")
    columns = [column["name"] for column in listed["columnDefinitions"]]
    assert columns == ["Name", *(column["name"] for column in PRINTER_COLUMNS)]
    (row,) = listed["rows"]
    cells = dict(zip(columns, row["cells"], strict=True))
    assert cells["Name"] == "llama3-8b"
    assert cells["Model"] == "llama3.1-8b-instruct"
    assert cells["Ready"] == 1
    assert cells["GPU"] is None, "a missing value is a null cell"
    assert row["object"]["kind"] == "PartialObjectMetadata"
    assert row["object"]["metadata"]["name"] == "llama3-8b"
    assert [r["cells"][0] for r in single["rows"]] == ["llama3-8b"]


def test_a_table_of_pods_has_the_columns_kubectl_prints(api: Http) -> None:
    api.post(PODS, pod("engine-0"))

    table = api.get(PODS, accept=TABLE).body

    columns = {column["name"]: column["priority"] for column in table["columnDefinitions"]}
    assert columns == {
        "Name": 0,
        "Ready": 0,
        "Status": 0,
        "Restarts": 0,
        "Age": 0,
        "IP": 1,
        "Node": 1,
        "Nominated Node": 1,
        "Readiness Gates": 1,
    }
    (row,) = table["rows"]
    cells = dict(zip(columns, row["cells"], strict=True))
    assert [cells[name] for name in ("Name", "Ready", "Status", "Restarts")] == [
        "engine-0",
        "0/1",
        "Pending",
        "0",
    ]
    assert [cells[name] for name in ("IP", "Node", "Nominated Node", "Readiness Gates")] == [
        "<none>"
    ] * 4
