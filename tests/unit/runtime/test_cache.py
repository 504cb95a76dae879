"""The operator's cache: replica pods per deployment, GPUs held per node kept as pods come
and go, the inventory computed again only when it can differ, and versions deciding
between a watch event and a write's answer."""

import copy
from typing import Any

from llamaops.inventory import GPU_TOLERATION, take_inventory
from llamaops.reconcile import names
from llamaops.runtime.cache import Cache, slim_pod
from llamaops.runtime.observe import replica_pod
from tests.builders import gpu_node, gpu_pod

Obj = dict[str, Any]
TOLERATIONS = (GPU_TOLERATION,)


def replica(
    name: str, node: str | None, deployment: str = "m", version: int = 1, **meta: Any
) -> Obj:
    pod = gpu_pod(node, 4, name=name)
    pod["metadata"].update(
        labels={**names.replica_selector(deployment), names.LABEL_SERVING: "true"},
        uid=f"uid-{name}",
        resourceVersion=str(version),
        creationTimestamp="2026-12-07T00:00:00Z",
        **meta,
    )
    pod["status"].update(
        podIP="10.0.0.9",
        conditions=[{"type": "Ready", "status": "True"}],
        containerStatuses=[{"name": "vllm", "restartCount": 2, "state": {"running": {}}}],
    )
    return pod


def a_cache() -> tuple[Cache, list[tuple[str, str]]]:
    told: list[tuple[str, str]] = []
    cache = Cache(replica_changed=lambda namespace, name: told.append((namespace, name)))
    cache.nodes_relisted([gpu_node("n1"), gpu_node("n2")])
    return cache, told


def free(cache: Cache) -> dict[str, int]:
    return {n.name: n.free for n in cache.inventory(TOLERATIONS, {}).nodes}


def test_a_relist_groups_replicas_by_deployment_and_counts_everyones_gpus() -> None:
    cache, told = a_cache()
    other = gpu_pod("n2", 2, name="someone-elses")
    cache.pods_relisted([replica("a", "n1"), replica("b", "n1", "other"), other])

    assert [p["metadata"]["name"] for p in cache.replica_pods("default", "m")] == ["a"]
    assert free(cache) == {"n1": 0, "n2": 6}
    assert sorted(told) == [("default", "m"), ("default", "other")]
    pods = [replica("a", "n1"), replica("b", "n1", "other"), other]
    expected = take_inventory([gpu_node("n1"), gpu_node("n2")], pods, TOLERATIONS)
    assert cache.inventory(TOLERATIONS, {}) == expected


def test_gpus_return_when_a_pod_finishes_or_goes() -> None:
    cache, _ = a_cache()
    cache.pods_relisted([replica("a", "n1"), gpu_pod("n2", 8, name="job")])
    finished = gpu_pod("n2", 8, name="job", phase="Succeeded")

    cache.pod_changed("MODIFIED", finished)
    cache.pod_changed("DELETED", replica("a", "n1", version=5))

    assert free(cache) == {"n1": 8, "n2": 8}
    assert cache.replica_pods("default", "m") == []


def test_the_inventory_is_computed_again_only_when_nodes_or_gpus_changed() -> None:
    cache, _ = a_cache()
    cache.pods_relisted([replica("a", "n1")])
    first = cache.inventory(TOLERATIONS, {})

    relabelled = replica("a", "n1", version=2)
    relabelled["metadata"]["labels"][names.LABEL_SERVING] = "false"
    cache.pod_changed("MODIFIED", relabelled)  # same GPUs on the same node

    assert cache.inventory(TOLERATIONS, {}) is first
    cache.node_changed("MODIFIED", gpu_node("n2", cordoned=True))
    assert cache.inventory(TOLERATIONS, {}) is not first
    excluded = {n.name: n.excluded for n in cache.inventory(TOLERATIONS, {}).nodes}
    assert excluded == {"n1": None, "n2": "cordoned"}


def test_an_event_older_than_a_write_already_put_in_is_ignored() -> None:
    cache, told = a_cache()
    cache.pods_relisted([replica("a", "n1", version=3)])
    draining = replica("a", "n1", version=9)
    draining["metadata"]["labels"][names.LABEL_SERVING] = "false"
    cache.absorb(draining)  # the answer to the drain's patch

    cache.pod_changed("MODIFIED", replica("a", "n1", version=5))  # the watch, catching up

    (pod,) = cache.replica_pods("default", "m")
    assert pod["metadata"]["labels"][names.LABEL_SERVING] == "false"
    assert told[-1] == ("default", "m")


def test_a_created_pod_is_seen_before_its_watch_event() -> None:
    cache, _ = a_cache()
    cache.pods_relisted([])

    cache.absorb(replica("new", None, version=4))

    assert [p["metadata"]["name"] for p in cache.replica_pods("default", "m")] == ["new"]


def test_services_follow_versions_and_a_deletion_is_remembered() -> None:
    cache, _ = a_cache()
    service = {
        "kind": "Service",
        "metadata": {"name": "m", "namespace": "default", "resourceVersion": "8"},
    }
    assert not cache.known("Service", "default", "m")
    cache.absent("Service", "default", "m")
    assert cache.known("Service", "default", "m") and cache.get("Service", "default", "m") is None

    cache.absorb(service)
    older = copy.deepcopy(service)
    older["metadata"]["resourceVersion"] = "6"
    cache.absorb(older)
    assert cache.get("Service", "default", "m") == service
    cache.deleted(older)  # the deletion of an older incarnation
    assert cache.get("Service", "default", "m") == service

    gone = copy.deepcopy(service)
    gone["metadata"]["resourceVersion"] = "11"
    cache.deleted(gone)
    assert cache.known("Service", "default", "m") and cache.get("Service", "default", "m") is None
    cache.absorb({"kind": "Status", "status": "Success"})  # a DELETE's answer: nothing kept


def test_a_slim_pod_reads_as_the_whole_one() -> None:
    pod = replica("a", "n1", **{"annotations": {names.ANNOTATION_WARMUP: "passed"}})
    pod["spec"]["containers"][0].update(image="vllm", args=["--model", "x"] * 50)
    pod["status"]["containerStatuses"][0].update(
        state={"waiting": {"reason": "CreateContainerConfigError", "message": "no secret"}},
        imageID="sha256:" + "0" * 64,
        lastState={"terminated": {"exitCode": 1, "reason": "Error"}},
    )
    pod["status"]["conditions"].append(
        {
            "type": "PodScheduled",
            "status": "False",
            "message": "0/2 nodes are available",
            "lastTransitionTime": "2026-12-07T00:00:00Z",
        }
    )

    slim = slim_pod(pod)

    assert replica_pod(slim, {"n1"}, None) == replica_pod(pod, {"n1"}, None)
    assert replica_pod(slim, {"n1"}, None).config_error == "no secret"
    assert len(str(slim)) < len(str(pod)) / 2
    assert slim_pod(slim) == slim, "the informer trims, the cache trims again: the same"


def test_a_deleted_deployments_children_are_forgotten_and_only_its_children_are_its() -> None:
    cache, _ = a_cache()
    deployment = {"kind": "LlamaDeployment", "metadata": {"name": "m", "namespace": "default"}}
    child = {"kind": "Service", "metadata": {"name": "m", "namespace": "default", "labels": {}}}
    stranger = {"kind": "Service", "metadata": {"name": "web", "namespace": "default"}}
    cache.absorb(deployment)
    cache.absorb(child)

    assert cache.renders(child) and not cache.renders(stranger)
    cache.deleted(deployment)
    assert not cache.known("Service", "default", "m"), "read again if m comes back"
    assert not cache.renders(child)


def test_a_node_that_stops_or_starts_being_ready_wakes_only_the_deployments_on_it() -> None:
    cache, told = a_cache()
    cache.pods_relisted([replica("a", "n1"), replica("b", "n2", "other")])
    told.clear()

    cache.node_changed("MODIFIED", gpu_node("n1", labels={"rack": "7"}))
    assert told == [], "a change that is not readiness says nothing"
    cache.node_changed("MODIFIED", gpu_node("n1", ready=False))
    assert told == [("default", "m")]
    cache.node_changed("MODIFIED", gpu_node("n1"))
    assert told == [("default", "m")] * 2
    cache.node_changed("DELETED", gpu_node("n2"))
    assert told[2:] == [("default", "other")]

    told.clear()
    cache.nodes_relisted([gpu_node("n2")])  # n1 went while the watch was away; n2 is back
    assert sorted(told) == [("default", "m"), ("default", "other")]


def test_nodes_are_kept_slim_and_read_as_the_whole_ones() -> None:
    cache, _ = a_cache()
    whole = gpu_node("n1", taints=[{"key": "k", "effect": "NoSchedule"}])
    whole["status"]["images"] = [{"names": [f"registry/image-{i}"]} for i in range(200)]
    cache.node_changed("MODIFIED", whole)

    assert "images" not in cache.nodes["n1"]["status"]
    expected = take_inventory([whole, gpu_node("n2")], [], TOLERATIONS)
    assert cache.inventory(TOLERATIONS, {}) == expected


def test_objects_are_kept_without_managed_fields() -> None:
    cache, _ = a_cache()
    service = {"kind": "Service", "metadata": {"name": "m", "namespace": "default"}}
    service["metadata"]["managedFields"] = [{"manager": "llamaops", "fieldsV1": {}}]
    cache.absorb(service)

    assert cache.get("Service", "default", "m") == {
        "kind": "Service",
        "metadata": {"name": "m", "namespace": "default"},
    }


def test_a_child_listed_before_its_deployment_is_kept() -> None:
    cache, _ = a_cache()
    owner = {"kind": "LlamaDeployment", "name": "m", "controller": True, "uid": "u"}
    child = {
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "m", "namespace": "default", "ownerReferences": [owner]},
    }
    someone_elses = {
        "kind": "Service",
        "metadata": {
            "name": "m",
            "namespace": "default",
            "ownerReferences": [{**owner, "kind": "X"}],
        },
    }

    assert cache.renders(child), "after a restart kopf may list the budgets first"
    assert not cache.renders(someone_elses)
    cache.absorb(child)
    assert cache.known("PodDisruptionBudget", "default", "m")
