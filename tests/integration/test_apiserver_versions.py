"""What clients rely on from the API emulator: resourceVersion and generation.

Each test sends what kopf, the official client or kubectl send (see
shared/reference/kube-api-for-kopf.md) and expects the answer kube-apiserver gives,
over plain HTTP (tests/integration/http_helpers.py). A failing test prints the
requests it made and the emulator's objects.
"""

import pytest

from tests.builders import a_deployment, gpu_node
from tests.integration.http_helpers import (
    CONFIGMAPS,
    LLAMAS,
    NODES,
    PODS,
    Http,
    change,
    config_map,
    pod,
    versions,
)

pytestmark = pytest.mark.usefixtures("cluster_evidence")


# --- resourceVersion and generation --------------------------------------------------------
def test_one_resource_version_counts_the_writes_to_every_kind(api: Http) -> None:
    written = [
        api.post(CONFIGMAPS, config_map("settings")).rv,
        api.post(PODS, pod("engine-0")).rv,
        api.post(NODES, gpu_node("h100-0")).rv,
        api.post(LLAMAS, a_deployment("llama").obj()).rv,
        api.patch(f"{CONFIGMAPS}/settings", {"data": {"model": "other"}}).rv,
        api.delete(f"{PODS}/engine-0").rv,
    ]

    assert written == sorted(set(written)), "strictly increasing across kinds"
    assert api.get(NODES).rv >= written[-1], "a list is as new as the last write"


def test_a_write_that_changes_nothing_keeps_the_version_and_sends_no_event(api: Http) -> None:
    created = api.post(CONFIGMAPS, config_map("settings"))
    with api.watch(CONFIGMAPS, resourceVersion=created.rv) as events:
        same_put = api.put(f"{CONFIGMAPS}/settings", created.body)
        same_patch = api.patch(f"{CONFIGMAPS}/settings", {"data": created.body["data"]})
        api.post(CONFIGMAPS, config_map("sentinel"))
        first = events.next()

    assert same_put.rv == same_patch.rv == created.rv
    assert change(first) == ("ADDED", "sentinel")


def test_a_repeated_status_patch_keeps_the_version_and_sends_no_event(api: Http) -> None:
    """kopf's timers re-patch identical status, then wait for an event with that version."""
    api.post(LLAMAS, a_deployment("llama").obj())
    first = api.patch(f"{LLAMAS}/llama/status", {"status": {"readyReplicas": 1}})
    with api.watch(LLAMAS, resourceVersion=first.rv) as events:
        again = api.patch(f"{LLAMAS}/llama/status", {"status": {"readyReplicas": 1}})
        labelled = api.patch(f"{LLAMAS}/llama", {"metadata": {"labels": {"team": "ml"}}})
        event = events.next()

    assert again.rv == first.rv
    assert change(event) == ("MODIFIED", "llama")
    assert versions([event]) == [labelled.rv]


def test_generation_counts_spec_changes_only(api: Http) -> None:
    api.post(LLAMAS, a_deployment("llama").replicas(1).obj())
    llama = f"{LLAMAS}/llama"
    changes = [
        ("a label", llama, {"metadata": {"labels": {"team": "ml"}}}),
        ("an annotation", llama, {"metadata": {"annotations": {"note": "x"}}}),
        ("status through /status", f"{llama}/status", {"status": {"readyReplicas": 1}}),
        ("the spec", llama, {"spec": {"replicas": 2}}),
        ("status through the main endpoint", llama, {"status": {"readyReplicas": 7}}),
        ("the spec again", llama, {"spec": {"replicas": 3}}),
    ]

    generations = {what: api.patch(where, body).meta["generation"] for what, where, body in changes}

    assert generations == {
        "a label": 1,
        "an annotation": 1,
        "status through /status": 1,
        "the spec": 2,
        "status through the main endpoint": 2,
        "the spec again": 3,
    }
    assert api.get(llama).body["status"]["readyReplicas"] == 1, "the main endpoint ignores status"


def test_the_status_subresource_ignores_spec_changes(api: Http) -> None:
    api.post(LLAMAS, a_deployment("llama").replicas(2).obj())
    read = api.get(f"{LLAMAS}/llama").body
    read["spec"]["replicas"] = 9
    read["status"] = {"readyReplicas": 2}

    put = api.put(f"{LLAMAS}/llama/status", read)
    patched = api.patch(
        f"{LLAMAS}/llama/status", {"spec": {"replicas": 8}, "status": {"replicas": 2}}
    )

    assert put.code == patched.code == 200
    stored = api.get(f"{LLAMAS}/llama").body
    assert stored["spec"]["replicas"] == 2
    assert stored["status"] == {"readyReplicas": 2, "replicas": 2}
    assert stored["metadata"]["generation"] == 1
