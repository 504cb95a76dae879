"""The official Python client against the API emulator: an informer's list and watch
through a 410 Gone, and the errors the client raises.

Every call goes through the client's typed API classes, so every answer must
deserialize into the client's strict v37 models; a field the real API server
always returns and the emulator forgets fails here before it fails in the operator.
"""

from collections.abc import Iterator

import pytest
from kubernetes import watch
from kubernetes.client import ApiException, CoreV1Api, CustomObjectsApi, V1Pod

from llamaops.sim.apiserver.background import BackgroundApiServer
from tests.integration.client_helpers import (
    GROUP,
    NAMESPACE,
    PLURAL,
    VERSION,
    a_pod,
    expect_api_error,
    the_manifest,
)

pytestmark = pytest.mark.usefixtures("cluster_evidence")


# --- watching ------------------------------------------------------------------------------
def follow_pods(core: CoreV1Api) -> Iterator[tuple[str, dict[str, V1Pod]]]:
    """List, then watch from the list's resourceVersion, as an informer does; on 410 Gone
    (an exception, or an ERROR event) list again. Yields each step and the cache after it."""
    while True:
        listed = core.list_namespaced_pod(NAMESPACE)
        cache = {pod.metadata.name: pod for pod in listed.items}
        yield "RELISTED", cache
        try:
            for event in watch.Watch().stream(
                core.list_namespaced_pod,
                NAMESPACE,
                resource_version=listed.metadata.resource_version,
                timeout_seconds=10,
                _request_timeout=10,
            ):
                if event["type"] == "ERROR":
                    assert event["raw_object"]["code"] == 410, event["raw_object"]
                    break
                pod: V1Pod = event["object"]
                if event["type"] == "DELETED":
                    cache.pop(pod.metadata.name, None)
                else:
                    cache[pod.metadata.name] = pod
                yield event["type"], cache
        except ApiException as error:
            if error.status != 410:
                raise


def expire_watches(apiserver: BackgroundApiServer) -> int:
    """Compact the emulator's history and send 410 Gone to every open watch."""
    assert apiserver.server is not None
    expired: int = apiserver.run(apiserver.server.faults.expire_watches)
    return expired


def test_a_watch_that_expires_relists_and_sees_the_changes_made_after(
    core: CoreV1Api, apiserver: BackgroundApiServer
) -> None:
    core.create_namespaced_pod(NAMESPACE, a_pod("engine-0"))
    steps = follow_pods(core)
    try:
        step, cache = next(steps)
        assert (step, sorted(cache)) == ("RELISTED", ["engine-0"])
        core.create_namespaced_pod(NAMESPACE, a_pod("engine-1"))
        step, cache = next(steps)
        assert (step, sorted(cache)) == ("ADDED", ["engine-0", "engine-1"])

        assert expire_watches(apiserver) == 1
        core.create_namespaced_pod(NAMESPACE, a_pod("engine-2"))
        step, cache = next(steps)
        assert (step, sorted(cache)) == ("RELISTED", ["engine-0", "engine-1", "engine-2"])

        core.delete_namespaced_pod("engine-0", NAMESPACE)
        core.patch_namespaced_pod("engine-2", NAMESPACE, {"metadata": {"labels": {"ready": "yes"}}})
        step, cache = next(steps)
        assert (step, sorted(cache)) == ("DELETED", ["engine-1", "engine-2"])
        step, cache = next(steps)
        assert step == "MODIFIED"
        assert cache["engine-2"].metadata.labels == {"ready": "yes"}
    finally:
        steps.close()
    server_view = {
        pod.metadata.name: pod.metadata.resource_version
        for pod in core.list_namespaced_pod(NAMESPACE).items
    }
    assert {name: pod.metadata.resource_version for name, pod in cache.items()} == server_view


# --- errors --------------------------------------------------------------------------------
def test_an_update_from_a_stale_read_is_refused_with_409_conflict(
    core: CoreV1Api, custom: CustomObjectsApi
) -> None:
    stale_pod = core.create_namespaced_pod(NAMESPACE, a_pod("engine-0"))
    core.patch_namespaced_pod("engine-0", NAMESPACE, {"metadata": {"labels": {"a": "1"}}})
    stale_pod.metadata.labels = {"a": "2"}
    with expect_api_error(409, "Conflict"):
        core.replace_namespaced_pod("engine-0", NAMESPACE, stale_pod)

    stale_llama = custom.create_namespaced_custom_object(
        GROUP, VERSION, NAMESPACE, PLURAL, the_manifest("llama3-8b")
    )
    custom.patch_namespaced_custom_object(
        GROUP, VERSION, NAMESPACE, PLURAL, "llama3-8b", {"spec": {"replicas": 5}}
    )
    stale_llama["spec"]["replicas"] = 6
    with expect_api_error(409, "Conflict"):
        custom.replace_namespaced_custom_object(
            GROUP, VERSION, NAMESPACE, PLURAL, "llama3-8b", stale_llama
        )
    assert core.read_namespaced_pod("engine-0", NAMESPACE).metadata.labels == {"a": "1"}


def test_creating_what_exists_is_refused_with_409_already_exists(
    core: CoreV1Api, custom: CustomObjectsApi
) -> None:
    core.create_namespaced_pod(NAMESPACE, a_pod("engine-0"))
    with expect_api_error(409, "AlreadyExists") as status:
        core.create_namespaced_pod(NAMESPACE, a_pod("engine-0"))
    assert status["details"] == {"name": "engine-0", "kind": "pods"}

    custom.create_namespaced_custom_object(
        GROUP, VERSION, NAMESPACE, PLURAL, the_manifest("llama3-8b")
    )
    with expect_api_error(409, "AlreadyExists"):
        custom.create_namespaced_custom_object(
            GROUP, VERSION, NAMESPACE, PLURAL, the_manifest("llama3-8b")
        )


def test_what_does_not_exist_is_404_with_a_status_body(
    core: CoreV1Api, custom: CustomObjectsApi
) -> None:
    with expect_api_error(404, "NotFound") as status:
        core.read_namespaced_pod("ghost", NAMESPACE)
    assert status["status"] == "Failure"
    assert status["message"] == 'pods "ghost" not found'
    assert status["details"] == {"name": "ghost", "kind": "pods"}

    with expect_api_error(404, "NotFound") as status:
        custom.get_namespaced_custom_object(GROUP, VERSION, NAMESPACE, PLURAL, "ghost")
    assert status["details"]["group"] == GROUP

    with expect_api_error(404, "NotFound"):
        core.delete_node("ghost")
