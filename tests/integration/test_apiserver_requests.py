"""What clients rely on from the API emulator: selectors, paging, request bodies and
the Status errors it answers with.

Each test sends what kopf, the official client or kubectl send (see
shared/reference/kube-api-for-kopf.md) and expects the answer kube-apiserver gives,
over plain HTTP (tests/integration/http_helpers.py). A failing test prints the
requests it made and the emulator's objects.
"""

from collections.abc import Callable

import pytest

from tests.builders import a_deployment
from tests.integration.http_helpers import (
    ALL_PODS,
    CONFIGMAPS,
    JSON_PATCH,
    LLAMAS,
    NAMESPACES,
    PODS,
    STRATEGIC,
    Answer,
    Http,
    causes_by_field,
    config_map,
    exists,
    gone,
    mark_ready,
    pod,
    refused,
)

pytestmark = pytest.mark.usefixtures("cluster_evidence")

# --- selectors and paging ------------------------------------------------------------------
LABEL_SELECTORS = {
    "tier=gpu": ["a"],
    "tier==gpu": ["a"],
    "tier!=gpu": ["b", "c"],
    "tier in (gpu,cpu)": ["a", "b"],
    "tier notin (gpu)": ["b", "c"],
    "tier": ["a", "b"],
    "!tier": ["c"],
    "tier=gpu,zone=west": ["a"],
    "tier,zone notin (east)": ["a", "b"],
}


def test_label_selectors_filter_a_list(api: Http) -> None:
    api.post(CONFIGMAPS, config_map("a", {"tier": "gpu", "zone": "west"}))
    api.post(CONFIGMAPS, config_map("b", {"tier": "cpu"}))
    api.post(CONFIGMAPS, config_map("c"))

    found = {
        selector: sorted(api.get(CONFIGMAPS, labelSelector=selector).names)
        for selector in LABEL_SELECTORS
    }

    assert found == LABEL_SELECTORS


FIELD_SELECTORS = {
    "metadata.name=p1": ["p1"],
    "metadata.namespace=other": ["p4"],
    "metadata.namespace!=default": ["p4"],
    "spec.nodeName=n1": ["p1"],
    "spec.nodeName=": ["p3", "p4"],
    "spec.nodeName!=": ["p1", "p2"],
    "status.phase=Running": ["p1"],
    "status.phase!=Running": ["p2", "p3", "p4"],
    "spec.nodeName=n2,status.phase=Pending": ["p2"],
}


def test_field_selectors_filter_a_list(api: Http) -> None:
    api.post(NAMESPACES, {"metadata": {"name": "other"}})
    api.post(PODS, pod("p1", node="n1"))
    mark_ready(api, "p1")
    api.post(PODS, pod("p2", node="n2"))
    api.post(PODS, pod("p3"))
    api.post("/api/v1/namespaces/other/pods", pod("p4"))

    found = {
        selector: sorted(api.get(ALL_PODS, fieldSelector=selector).names)
        for selector in FIELD_SELECTORS
    }

    assert found == FIELD_SELECTORS


def pages_of(
    api: Http, path: str, limit: int, between_pages: Callable[[], object] = lambda: None
) -> list[Answer]:
    """A list read `limit` items at a time, following the continue tokens."""
    pages = [api.get(path, limit=limit)]
    while token := pages[-1].meta.get("continue"):
        between_pages()
        pages.append(api.get(path, limit=limit, **{"continue": token}))
    return pages


def test_paging_with_limit_and_continue_visits_every_object_once(api: Http) -> None:
    names = [f"cm-{n}" for n in range(7)]
    for name in names:
        api.post(CONFIGMAPS, config_map(name))

    pages = pages_of(api, CONFIGMAPS, limit=3)

    assert [page.names for page in pages] == [names[0:3], names[3:6], names[6:7]]
    assert [page.meta.get("remainingItemCount") for page in pages] == [4, 1, None]


def test_paging_reads_one_snapshot_even_when_objects_change_between_pages(api: Http) -> None:
    names = [f"cm-{n}" for n in range(7)]
    for name in names:
        api.post(CONFIGMAPS, config_map(name))

    def delete_a_visited_object_and_add_one() -> None:
        if exists(api, f"{CONFIGMAPS}/cm-0"):
            api.delete(f"{CONFIGMAPS}/cm-0")
            api.post(CONFIGMAPS, config_map("cm-7"))

    pages = pages_of(api, CONFIGMAPS, limit=3, between_pages=delete_a_visited_object_and_add_one)

    visited = [name for page in pages for name in page.names]
    assert visited == names, "the pages after the first read the first page's snapshot"


# --- requests ------------------------------------------------------------------------------
def test_a_body_without_content_type_is_read_as_json(api: Http) -> None:
    created = api.post(CONFIGMAPS, config_map("plain"), content_type=None)
    assert created.code == 201, created.body

    updated = api.put(
        f"{CONFIGMAPS}/plain", {**created.body, "data": {"a": "b"}}, content_type=None
    )

    assert updated.code == 200, updated.body
    assert updated.body["data"] == {"a": "b"}


def test_generate_name_adds_a_random_suffix(api: Http) -> None:
    made = [
        api.post(CONFIGMAPS, {"metadata": {"generateName": "engine-"}, "data": {}})
        for _ in range(3)
    ]

    names = [answer.meta["name"] for answer in made]
    assert [answer.code for answer in made] == [201, 201, 201]
    assert all(name.startswith("engine-") and len(name) == len("engine-") + 5 for name in names)
    assert len(set(names)) == 3
    assert all(answer.meta["generateName"] == "engine-" for answer in made)


# --- patches -------------------------------------------------------------------------------
def test_a_strategic_merge_patch_puts_new_list_items_before_the_existing_ones(api: Http) -> None:
    """Without $setElementOrder, kube-apiserver's mergeSlice orders patch items first
    (normalizeElementOrder); the order of env matters to $(VAR) references."""
    api.post(PODS, pod("engine-0"))
    api.patch(
        f"{PODS}/engine-0",
        {"spec": {"containers": [{"name": "engine", "env": [{"name": "OLD", "value": "1"}]}]}},
        STRATEGIC,
    )

    patched = api.patch(
        f"{PODS}/engine-0",
        {"spec": {"containers": [{"name": "engine", "env": [{"name": "NEW", "value": "2"}]}]}},
        STRATEGIC,
    )

    (engine,) = patched.body["spec"]["containers"]
    assert [env["name"] for env in engine["env"]] == ["NEW", "OLD"]


# --- errors --------------------------------------------------------------------------------
def test_errors_are_status_objects_with_the_right_code_and_reason(api: Http) -> None:
    api.post(CONFIGMAPS, config_map("present"))
    stale = api.post(CONFIGMAPS, config_map("stale")).body
    api.patch(f"{CONFIGMAPS}/stale", {"data": {"model": "newer"}})
    api.post(LLAMAS, a_deployment("llama").obj())
    failing_test_op = [{"op": "test", "path": "/data/model", "value": "not this"}]

    answers = {
        "get a missing object": api.get(f"{CONFIGMAPS}/missing"),
        "get an unknown resource": api.get("/api/v1/namespaces/default/gadgets"),
        "create in a missing namespace": api.post(
            "/api/v1/namespaces/missing/configmaps", config_map("x")
        ),
        "create what exists": api.post(CONFIGMAPS, config_map("present")),
        "update from a stale read": api.put(f"{CONFIGMAPS}/stale", stale),
        "merge patch with a stale version": api.patch(
            f"{CONFIGMAPS}/stale",
            {"metadata": {"resourceVersion": stale["metadata"]["resourceVersion"]}},
        ),
        "strategic merge patch of a custom resource": api.patch(
            f"{LLAMAS}/llama", {"spec": {"replicas": 2}}, STRATEGIC
        ),
        "json patch whose test fails": api.patch(
            f"{CONFIGMAPS}/present", failing_test_op, JSON_PATCH
        ),
        "create with a body that is not JSON": api.post(CONFIGMAPS, b'{"metadata": '),
        "patch with a body that is not JSON": api.patch(f"{CONFIGMAPS}/present", b"{nope"),
    }

    expected = {
        "get a missing object": (404, "NotFound"),
        "get an unknown resource": (404, "NotFound"),
        "create in a missing namespace": (404, "NotFound"),
        "create what exists": (409, "AlreadyExists"),
        "update from a stale read": (409, "Conflict"),
        "merge patch with a stale version": (409, "Conflict"),
        "strategic merge patch of a custom resource": (415, "UnsupportedMediaType"),
        "json patch whose test fails": (422, "Invalid"),
        "create with a body that is not JSON": (400, "BadRequest"),
        "patch with a body that is not JSON": (400, "BadRequest"),
    }
    seen = {
        what: (answer.code, (answer.body or {}).get("kind"), (answer.body or {}).get("reason"))
        for what, answer in answers.items()
    }
    assert seen == {what: (code, "Status", reason) for what, (code, reason) in expected.items()}
    assert all(answer.body["code"] == answer.code for answer in answers.values())


def test_not_found_names_the_object_and_its_kind(api: Http) -> None:
    status = refused(api.get(f"{LLAMAS}/missing"), 404, "NotFound")

    assert status["message"] == 'llamadeployments.serving.llamaops.io "missing" not found'
    assert status["details"] == {
        "name": "missing",
        "group": "serving.llamaops.io",
        "kind": "llamadeployments",
    }


def test_an_invalid_llama_deployment_is_refused_with_a_cause_per_field(api: Http) -> None:
    bad = (
        a_deployment("bad")
        .replicas(-1)
        .dtype("int4")
        .set("spec.model.checkpoint", {"revision": "main"})
        .obj()
    )

    status = refused(api.post(LLAMAS, bad), 422, "Invalid")

    assert causes_by_field(status) == {
        "spec.replicas": "FieldValueInvalid",
        "spec.model.dtype": "FieldValueNotSupported",
        "spec.model.checkpoint.uri": "FieldValueRequired",
    }
    assert (status["details"]["name"], status["details"]["kind"]) == ("bad", "LlamaDeployment")
    assert status["message"].startswith('LlamaDeployment.serving.llamaops.io "bad" is invalid')
    assert gone(api, f"{LLAMAS}/bad")


def test_a_broken_validation_rule_is_refused_naming_its_field(api: Http) -> None:
    status = refused(
        api.post(LLAMAS, a_deployment("bad").autoscaling(enabled=True).obj()), 422, "Invalid"
    )

    assert causes_by_field(status) == {"spec.autoscaling.maxReplicas": "FieldValueInvalid"}
    assert "autoscaling.maxReplicas is required when autoscaling is enabled" in status["message"]
