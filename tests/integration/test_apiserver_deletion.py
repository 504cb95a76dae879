"""What clients rely on from the API emulator: deletion, finalizers, garbage collection,
namespaces, and custom resource definitions added and removed at run time.

Each test sends what kopf, the official client or kubectl send (see
shared/reference/kube-api-for-kopf.md) and expects the answer kube-apiserver gives,
over plain HTTP (tests/integration/http_helpers.py). A failing test prints the
requests it made and the emulator's objects.
"""

import time

import pytest

from tests.builders import a_deployment, gpu_node
from tests.integration.http_helpers import (
    CONFIGMAPS,
    CRDS,
    JSON_PATCH,
    LLAMAS,
    NAMESPACES,
    NODES,
    PODS,
    WIDGETS,
    Http,
    causes_by_field,
    change,
    config_map,
    exists,
    gone,
    owned_by,
    pod,
    refused,
    wait_until,
    widget,
    widget_definition,
)

pytestmark = pytest.mark.usefixtures("cluster_evidence")


# --- finalizers and garbage collection -----------------------------------------------------
def test_an_immediate_delete_answers_with_the_object_or_a_status_by_kind(api: Http) -> None:
    """Pods and Services return the deleted object (ReturnDeletedObject in their storage, and
    the client's delete_namespaced_service returns V1Service); other kinds, custom resources
    included, return a Status."""
    service = {"metadata": {"name": "llama"}, "spec": {"ports": [{"port": 8000}]}}
    created = {
        f"{PODS}/engine-0": api.post(PODS, pod("engine-0")),
        "/api/v1/namespaces/default/services/llama": api.post(
            "/api/v1/namespaces/default/services", service
        ),
        f"{CONFIGMAPS}/settings": api.post(CONFIGMAPS, config_map("settings")),
        f"{NODES}/h100-0": api.post(NODES, gpu_node("h100-0")),
        f"{LLAMAS}/llama": api.post(LLAMAS, a_deployment("llama").obj()),
    }
    assert {answer.code for answer in created.values()} == {201}

    answered = {path.split("/")[-2]: api.delete(path).body["kind"] for path in created}

    assert answered == {
        "pods": "Pod",
        "services": "Service",
        "configmaps": "Status",
        "nodes": "Status",
        "llamadeployments": "Status",
    }


def test_a_finalizer_holds_a_deleted_object_until_it_is_removed(api: Http) -> None:
    path = f"{CONFIGMAPS}/held"
    api.post(CONFIGMAPS, config_map("held", finalizers=["llamaops.io/drain"]))

    deleting = api.delete(path)
    assert deleting.code == 200
    assert deleting.meta["deletionTimestamp"]
    assert api.get(path).meta["finalizers"] == ["llamaops.io/drain"]

    another = api.patch(path, {"metadata": {"finalizers": ["llamaops.io/drain", "x.io/more"]}})
    status = refused(another, 422, "Invalid")
    assert causes_by_field(status) == {"metadata.finalizers": "FieldValueForbidden"}

    released = api.patch(
        path,
        [
            {"op": "test", "path": "/metadata/resourceVersion", "value": str(deleting.rv)},
            {"op": "remove", "path": "/metadata/finalizers"},
        ],
        JSON_PATCH,
    )
    assert released.code == 200
    assert gone(api, path)


def test_removing_the_last_finalizer_deletes_without_writing_first(api: Http) -> None:
    """kube-apiserver deletes instead of storing an update that empties the finalizers of
    an object being deleted (errEmptiedFinalizers in the generic registry's store.go)."""
    path = f"{CONFIGMAPS}/held"
    created = api.post(CONFIGMAPS, config_map("held", finalizers=["llamaops.io/drain"]))

    with api.watch(CONFIGMAPS, resourceVersion=created.rv) as events:
        api.delete(path)
        api.patch(path, {"metadata": {"finalizers": None}})
        api.post(CONFIGMAPS, config_map("sentinel"))
        seen = events.take(3)

    assert [change(event) for event in seen] == [
        ("MODIFIED", "held"),
        ("DELETED", "held"),
        ("ADDED", "sentinel"),
    ]


def test_background_deletion_deletes_the_dependents_after_the_owner(api: Http) -> None:
    owner = api.post(CONFIGMAPS, config_map("owner")).body
    for name in ("dep-a", "dep-b"):
        last = api.post(CONFIGMAPS, config_map(name, ownerReferences=owned_by(owner)))

    with api.watch(CONFIGMAPS, resourceVersion=last.rv) as events:
        deleted = api.delete(f"{CONFIGMAPS}/owner", propagationPolicy="Background")
        seen = events.take(3)

    assert deleted.code == 200
    assert change(seen[0]) == ("DELETED", "owner")
    assert sorted(change(event) for event in seen[1:]) == [
        ("DELETED", "dep-a"),
        ("DELETED", "dep-b"),
    ]
    assert api.get(CONFIGMAPS).names == []


def test_foreground_deletion_keeps_the_owner_until_its_dependents_are_gone(api: Http) -> None:
    owner = api.post(CONFIGMAPS, config_map("owner")).body
    blocking = owned_by(owner, blocking=True)
    api.post(CONFIGMAPS, config_map("dep-a", ownerReferences=blocking))
    api.post(CONFIGMAPS, config_map("dep-held", ownerReferences=blocking, finalizers=["x.io/hold"]))

    deleting = api.delete(f"{CONFIGMAPS}/owner", propagationPolicy="Foreground")

    assert deleting.code == 200
    assert (
        deleting.meta["deletionTimestamp"] and "foregroundDeletion" in deleting.meta["finalizers"]
    )
    wait_until(lambda: gone(api, f"{CONFIGMAPS}/dep-a"), what="dep-a is collected")
    wait_until(
        lambda: "deletionTimestamp" in api.get(f"{CONFIGMAPS}/dep-held").meta,
        what="dep-held is being deleted",
    )
    waiting_owner = api.get(f"{CONFIGMAPS}/owner")
    assert waiting_owner.code == 200
    assert waiting_owner.meta["finalizers"] == ["foregroundDeletion"]

    api.patch(f"{CONFIGMAPS}/dep-held", {"metadata": {"finalizers": None}})
    wait_until(lambda: gone(api, f"{CONFIGMAPS}/owner"), what="the owner goes after dep-held")


def test_orphan_deletion_keeps_the_dependents_and_drops_their_owner_reference(api: Http) -> None:
    owner = api.post(CONFIGMAPS, config_map("owner")).body
    api.post(CONFIGMAPS, config_map("dep-a", ownerReferences=owned_by(owner)))

    api.delete(f"{CONFIGMAPS}/owner", propagationPolicy="Orphan")

    wait_until(lambda: gone(api, f"{CONFIGMAPS}/owner"), what="the owner is deleted")
    time.sleep(0.1)  # give a wrongful collection the chance to happen
    orphan = api.get(f"{CONFIGMAPS}/dep-a")
    assert orphan.code == 200
    assert not orphan.meta.get("ownerReferences")


def test_deleting_a_namespace_removes_its_objects_then_the_namespace(api: Http) -> None:
    team = "/api/v1/namespaces/team"
    api.post(NAMESPACES, {"metadata": {"name": "team"}})
    api.post(f"{team}/configmaps", config_map("plain"))
    api.post(f"{team}/configmaps", config_map("held", finalizers=["x.io/hold"]))
    api.post(f"{team}/pods", pod("engine-0"))

    deleting = api.delete(team)

    assert deleting.code == 200
    assert deleting.body["status"]["phase"] == "Terminating"
    wait_until(
        lambda: gone(api, f"{team}/configmaps/plain") and gone(api, f"{team}/pods/engine-0"),
        what="the namespace's objects are deleted",
    )
    assert exists(api, team), "the namespace waits for its last object"
    refused(api.post(f"{team}/configmaps", config_map("late")), 403, "Forbidden")

    api.patch(f"{team}/configmaps/held", {"metadata": {"finalizers": None}})
    wait_until(lambda: gone(api, team), what="the emptied namespace is deleted")


# --- custom resource definitions -----------------------------------------------------------
def test_a_definition_posted_at_run_time_is_discoverable_and_watchable_at_once(api: Http) -> None:
    created = api.post(CRDS, widget_definition())
    assert created.code == 201

    groups = {group["name"]: group for group in api.get("/apis").body["groups"]}
    resources = api.get("/apis/example.com/v1").body["resources"]
    with api.watch(WIDGETS, resourceVersion=created.rv) as events:
        api.post(WIDGETS, widget("w1"))
        added = events.next()

    assert groups["example.com"]["preferredVersion"]["groupVersion"] == "example.com/v1"
    (widgets,) = [entry for entry in resources if entry["name"] == "widgets"]
    assert (widgets["kind"], widgets["namespaced"], widgets["singularName"]) == (
        "Widget",
        True,
        "widget",
    )
    assert {"list", "watch", "patch"} <= set(widgets["verbs"])
    assert change(added) == ("ADDED", "w1")


def test_deleting_a_definition_removes_its_objects(api: Http) -> None:
    api.post(CRDS, widget_definition())
    assert api.post(WIDGETS, widget("w1")).code == 201

    assert api.delete(f"{CRDS}/widgets.example.com").code == 200
    wait_until(lambda: gone(api, f"{CRDS}/widgets.example.com"), what="the CRD is deleted")

    assert gone(api, WIDGETS)
    assert gone(api, "/apis/example.com/v1")
    assert "example.com" not in [group["name"] for group in api.get("/apis").body["groups"]]
    assert api.post(CRDS, widget_definition()).code == 201
    assert api.get(WIDGETS).names == [], "the objects went with the definition"


def test_a_definition_whose_schema_omits_metadata_still_keeps_metadata(api: Http) -> None:
    """apiVersion, kind and metadata are never pruned, declared or not."""
    api.post(CRDS, widget_definition(declares_metadata=False))

    created = api.post(WIDGETS, widget("w1"))

    assert created.code == 201, created.body
    assert created.meta["name"] == "w1" and created.meta["uid"]


@pytest.mark.parametrize(
    "rule",
    ["self.size >", "self.colour == 'red'", "self.size == 'big'"],
    ids=["syntax error", "undeclared field", "type mismatch"],
)
def test_a_definition_whose_rule_cannot_compile_is_refused(api: Http, rule: str) -> None:
    status = refused(api.post(CRDS, widget_definition(rule)), 422, "Invalid")

    fields = [cause.get("field", "") for cause in status["details"]["causes"]]
    assert any(field.startswith("spec.versions[0].schema.openAPIV3Schema") for field in fields)
    assert gone(api, f"{CRDS}/widgets.example.com")
