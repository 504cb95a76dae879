"""What clients rely on from the API emulator, checked over plain HTTP.

Each test sends what kopf, the official client or kubectl send (see
shared/reference/kube-api-for-kopf.md) and expects the answer kube-apiserver gives.
Requests go through http.client, so a test controls every header, a missing
Content-Type included. A failing test prints the requests it made and the emulator's
objects.
"""

import http.client
import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from llamaops.api.crd import PRINTER_COLUMNS, custom_resource_definition
from llamaops.sim.apiserver.background import BackgroundApiServer
from llamaops.sim.apiserver.faults import Faults
from tests.builders import a_deployment, gpu_node

pytestmark = pytest.mark.usefixtures("cluster_evidence")

JSON = "application/json"
MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
TABLE = "application/json;as=Table;g=meta.k8s.io;v=v1"

NAMESPACES = "/api/v1/namespaces"
NODES = "/api/v1/nodes"
ALL_PODS = "/api/v1/pods"
PODS = "/api/v1/namespaces/default/pods"
CONFIGMAPS = "/api/v1/namespaces/default/configmaps"
PDBS = "/apis/policy/v1/namespaces/default/poddisruptionbudgets"
CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
LLAMAS = "/apis/serving.llamaops.io/v1alpha1/namespaces/default/llamadeployments"
WIDGETS = "/apis/example.com/v1/namespaces/default/widgets"


# --- HTTP ----------------------------------------------------------------------------------
@dataclass
class Answer:
    """An HTTP answer: the status code and the decoded JSON body."""

    code: int
    body: Any

    @property
    def rv(self) -> int:
        return int(self.body["metadata"]["resourceVersion"])

    @property
    def names(self) -> list[str]:
        return [item["metadata"]["name"] for item in self.body["items"]]

    @property
    def meta(self) -> dict[str, Any]:
        metadata: dict[str, Any] = self.body["metadata"]
        return metadata


class WatchStream:
    """One watch, read an event at a time; None once the server ends the stream."""

    def __init__(self, http: "Http", path: str, timeout: float) -> None:
        self._http = http
        self._connection = http.connect(timeout)
        self._connection.request("GET", path, headers={"Accept": JSON})
        self._response = self._connection.getresponse()
        http.transcript.append(f"WATCH {path} -> {self._response.status}")
        assert self._response.status == 200, self._response.read()

    def next(self) -> dict[str, Any] | None:
        line = self._response.readline()
        event = json.loads(line) if line.strip() else None
        self._http.transcript.append(f"  event {_short(event)}")
        return event

    def take(self, count: int) -> list[dict[str, Any]]:
        events = [self.next() for _ in range(count)]
        assert None not in events, f"the stream ended early: {events}"
        return [event for event in events if event is not None]

    def rest(self) -> list[dict[str, Any]]:
        """Every event until the server ends the stream."""
        events = []
        while (event := self.next()) is not None:
            events.append(event)
        return events

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> "WatchStream":
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


class Http:
    """Requests as any client sends them, and a transcript of them for a failing test."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port
        self.transcript: list[str] = []

    def connect(self, timeout: float = 10.0) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content_type: str | None = JSON,
        accept: str = JSON,
    ) -> Answer:
        data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Accept": accept}
        if data is not None and content_type is not None:
            headers["Content-Type"] = content_type
        connection = self.connect()
        try:
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            raw = response.read()
        finally:
            connection.close()
        answer = Answer(response.status, json.loads(raw) if raw else None)
        self.transcript.append(f"{method} {path} {_short(body)}\n  -> {answer.code} {_short(raw)}")
        return answer

    def get(self, path: str, *, accept: str = JSON, **query: Any) -> Answer:
        return self.request("GET", _with_query(path, query), accept=accept)

    def post(self, path: str, body: Any, *, content_type: str | None = JSON) -> Answer:
        return self.request("POST", path, body, content_type=content_type)

    def put(self, path: str, body: Any, *, content_type: str | None = JSON) -> Answer:
        return self.request("PUT", path, body, content_type=content_type)

    def patch(self, path: str, body: Any, patch_type: str = MERGE) -> Answer:
        return self.request("PATCH", path, body, content_type=patch_type)

    def delete(self, path: str, **options: Any) -> Answer:
        body = {"kind": "DeleteOptions", "apiVersion": "v1", **options} if options else None
        return self.request("DELETE", path, body)

    def watch(self, path: str, *, timeout: float = 5.0, **query: Any) -> WatchStream:
        return WatchStream(self, _with_query(path, {"watch": "true", **query}), timeout)


def _with_query(path: str, query: dict[str, Any]) -> str:
    return f"{path}?{urlencode(query)}" if query else path


def _short(value: Any, limit: int = 400) -> str:
    text = value.decode(errors="replace") if isinstance(value, bytes) else json.dumps(value)
    return text if len(text) <= limit else text[:limit] + "..."


# --- helpers that read like sentences ------------------------------------------------------
def wait_until(predicate: Callable[[], bool], timeout: float = 3.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting until {what or predicate}")
        time.sleep(0.02)


def refused(answer: Answer, code: int, reason: str) -> dict[str, Any]:
    """Assert the answer is a Kubernetes Status with this code and reason; return it."""
    assert answer.code == code, answer.body
    status: dict[str, Any] = answer.body
    assert (status["kind"], status["apiVersion"], status["status"]) == ("Status", "v1", "Failure")
    assert (status["code"], status["reason"]) == (code, reason), status
    return status


def exists(api: Http, path: str) -> bool:
    return api.get(path).code == 200


def gone(api: Http, path: str) -> bool:
    return api.get(path).code == 404


def change(event: dict[str, Any] | None) -> tuple[str, str]:
    """An event as (type, object name)."""
    assert event is not None, "the stream ended"
    return event["type"], event["object"]["metadata"].get("name", "")


def versions(events: list[dict[str, Any]]) -> list[int]:
    return [int(event["object"]["metadata"]["resourceVersion"]) for event in events]


def faults(apiserver: BackgroundApiServer) -> Faults:
    assert apiserver.server is not None
    return apiserver.server.faults


def causes_by_field(status: dict[str, Any]) -> dict[str, str]:
    return {
        cause["field"]: cause["reason"]
        for cause in status["details"].get("causes", [])
        if cause.get("field")
    }


# --- builders ------------------------------------------------------------------------------
def config_map(name: str, labels: dict[str, str] | None = None, **metadata: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": labels or {}, **metadata},
        "data": {"model": "llama3.1-8b-instruct"},
    }


def pod(name: str, node: str | None = None, **labels: str) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "engine", "image": "vllm/vllm-openai"}]}
    if node is not None:
        spec["nodeName"] = node
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels},
        "spec": spec,
    }


def owned_by(owner: dict[str, Any], blocking: bool = False) -> list[dict[str, Any]]:
    reference = {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
    }
    if blocking:
        reference["blockOwnerDeletion"] = True
    return [reference]


def widget_definition(rule: str | None = None, declares_metadata: bool = True) -> dict[str, Any]:
    """A small CRD of the kind a user posts while the server runs."""
    spec_schema: dict[str, Any] = {"type": "object", "properties": {"size": {"type": "integer"}}}
    if rule is not None:
        spec_schema["x-kubernetes-validations"] = [{"rule": rule, "message": "bad size"}]
    properties: dict[str, Any] = {"spec": spec_schema}
    if declares_metadata:
        properties["metadata"] = {"type": "object"}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {
                "plural": "widgets",
                "singular": "widget",
                "kind": "Widget",
                "listKind": "WidgetList",
            },
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": {"type": "object", "properties": properties}},
                }
            ],
        },
    }


def widget(name: str, size: int = 1) -> dict[str, Any]:
    return {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": name},
        "spec": {"size": size},
    }


def mark_ready(api: Http, name: str) -> None:
    """Write the status a kubelet writes once the pod's containers are ready."""
    ready = {"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}
    assert api.patch(f"{PODS}/{name}/status", ready).code == 200


# --- fixtures ------------------------------------------------------------------------------
@pytest.fixture
def api(apiserver: BackgroundApiServer, request: pytest.FixtureRequest) -> Iterator[Http]:
    """Plain HTTP to the emulator, with the LlamaDeployment CRD installed."""
    client = Http(apiserver.url)
    assert client.post(CRDS, custom_resource_definition()).code == 201
    client.transcript.clear()  # the CRD is the same in every test: keep the evidence short
    failed_before = request.session.testsfailed
    yield client
    if request.session.testsfailed > failed_before:
        print("Requests the test made:\n" + "\n".join(client.transcript))


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


# --- watches -------------------------------------------------------------------------------
def test_a_watch_without_a_version_starts_with_what_exists(api: Http) -> None:
    api.post(CONFIGMAPS, config_map("a"))
    api.post(CONFIGMAPS, config_map("b"))

    with api.watch(CONFIGMAPS) as events:
        initial = events.take(2)
        api.post(CONFIGMAPS, config_map("c"))
        live = events.next()

    assert sorted(change(event) for event in initial) == [("ADDED", "a"), ("ADDED", "b")]
    assert change(live) == ("ADDED", "c")


def test_a_watch_from_a_version_replays_what_happened_after_it_in_order(api: Http) -> None:
    since = api.post(CONFIGMAPS, config_map("a")).rv
    api.patch(f"{CONFIGMAPS}/a", {"data": {"model": "b"}})
    api.post(CONFIGMAPS, config_map("b"))
    api.delete(f"{CONFIGMAPS}/a")

    with api.watch(CONFIGMAPS, resourceVersion=since) as events:
        replayed = events.take(3)
        api.post(CONFIGMAPS, config_map("c"))
        api.patch(f"{CONFIGMAPS}/b", {"data": {"model": "c"}})
        live = events.take(2)

    assert [change(event) for event in replayed + live] == [
        ("MODIFIED", "a"),
        ("ADDED", "b"),
        ("DELETED", "a"),
        ("ADDED", "c"),
        ("MODIFIED", "b"),
    ]
    seen = versions(replayed + live)
    assert seen == sorted(set(seen)) and seen[0] > since, "events come in resourceVersion order"


def test_an_open_watch_gets_410_gone_when_history_expires(
    api: Http, apiserver: BackgroundApiServer
) -> None:
    created = api.post(CONFIGMAPS, config_map("a"))
    latest = api.patch(f"{CONFIGMAPS}/a", {"data": {"model": "b"}})

    with api.watch(CONFIGMAPS, resourceVersion=latest.rv) as events:
        apiserver.run(faults(apiserver).expire_watches)
        error = events.next()
        assert events.next() is None, "the stream ends after the error"
    with api.watch(CONFIGMAPS, resourceVersion=created.rv) as events:
        too_old = events.next()

    for event in (error, too_old):
        assert event is not None and event["type"] == "ERROR"
        status = event["object"]
        assert (status["kind"], status["code"], status["reason"]) == ("Status", 410, "Expired")


def test_a_version_older_than_the_history_gets_410_gone(tmp_path: Path) -> None:
    with BackgroundApiServer(kubeconfig=tmp_path / "small", history_size=5) as small:
        api = Http(small.url)
        oldest = api.post(CONFIGMAPS, config_map("a")).rv
        for n in range(6):
            api.patch(f"{CONFIGMAPS}/a", {"data": {"model": f"m{n}"}})
        recent = api.get(CONFIGMAPS).rv - 2

        with api.watch(CONFIGMAPS, resourceVersion=oldest) as events:
            too_old = events.next()
        with api.watch(CONFIGMAPS, resourceVersion=recent) as events:
            replayed = events.take(2)

    assert too_old is not None and too_old["type"] == "ERROR"
    assert (too_old["object"]["code"], too_old["object"]["reason"]) == (410, "Expired")
    assert [change(event) for event in replayed] == [("MODIFIED", "a"), ("MODIFIED", "a")]


def test_an_idle_watch_that_allows_bookmarks_gets_them(api: Http) -> None:
    created = api.post(CONFIGMAPS, config_map("a"))

    with api.watch(CONFIGMAPS, resourceVersion=created.rv, allowWatchBookmarks="true") as events:
        bookmark = events.next()

    assert bookmark is not None and bookmark["type"] == "BOOKMARK"
    assert (bookmark["object"]["kind"], bookmark["object"]["apiVersion"]) == ("ConfigMap", "v1")
    assert (
        created.rv
        <= int(bookmark["object"]["metadata"]["resourceVersion"])
        <= api.get(CONFIGMAPS).rv
    )


def test_a_bookmark_comes_just_before_timeout_seconds_ends_the_stream(tmp_path: Path) -> None:
    # A server whose periodic bookmarks are far away, so the one seen is the closing one.
    with BackgroundApiServer(kubeconfig=tmp_path / "quiet", bookmark_interval=60.0) as quiet:
        api = Http(quiet.url)
        started = time.monotonic()
        with (
            api.watch(CONFIGMAPS, timeoutSeconds=1, allowWatchBookmarks="true") as bookmarked,
            api.watch(CONFIGMAPS, timeoutSeconds=1) as plain,
        ):
            with_bookmarks, without = bookmarked.rest(), plain.rest()
        elapsed = time.monotonic() - started

    assert [event["type"] for event in with_bookmarks] == ["BOOKMARK"]
    assert without == []
    assert 0.9 <= elapsed < 3


def write_while_too_busy_to_stream(apiserver: BackgroundApiServer, names: list[str]) -> None:
    """Create config maps, then hold the server's loop past a 1 s watch timeout, as a server
    busy with a long request does: the watch wakes up with events queued and time up."""
    server = apiserver.server
    assert server is not None
    config_maps = server.registry.find("", "v1", "configmaps")
    assert config_maps is not None
    for name in names:
        server.api.create(config_maps, "default", config_map(name))
    time.sleep(1.2)


def test_resuming_from_the_closing_bookmark_misses_no_event(
    api: Http, apiserver: BackgroundApiServer
) -> None:
    """A client resumes from the last version it saw, bookmarks included."""
    since = api.post(CONFIGMAPS, config_map("first")).rv
    with api.watch(
        CONFIGMAPS, resourceVersion=since, timeoutSeconds=1, allowWatchBookmarks="true"
    ) as events:
        apiserver.run(lambda: write_while_too_busy_to_stream(apiserver, ["a", "b", "c"]))
        before_timeout = events.rest()
    last_seen = versions(before_timeout)[-1]
    api.post(CONFIGMAPS, config_map("sentinel"))
    with api.watch(CONFIGMAPS, resourceVersion=last_seen) as events:
        resumed = []
        while not resumed or change(resumed[-1]) != ("ADDED", "sentinel"):
            resumed += events.take(1)

    added = [change(e)[1] for e in before_timeout + resumed if e["type"] == "ADDED"]
    assert added == ["a", "b", "c", "sentinel"]


def test_a_label_change_moves_an_object_into_and_out_of_a_selector_watch(api: Http) -> None:
    created = api.post(CONFIGMAPS, config_map("engine-args", {"tier": "cpu"}))
    path = f"{CONFIGMAPS}/engine-args"

    with api.watch(CONFIGMAPS, resourceVersion=created.rv, labelSelector="tier=gpu") as gpu:
        moved_in = api.patch(path, {"metadata": {"labels": {"tier": "gpu"}}})
        changed = api.patch(path, {"data": {"model": "other"}})
        moved_out = api.patch(path, {"metadata": {"labels": {"tier": "cpu"}}})
        api.post(CONFIGMAPS, config_map("sentinel", {"tier": "gpu"}))
        events = gpu.take(4)

    assert [change(event) for event in events] == [
        ("ADDED", "engine-args"),
        ("MODIFIED", "engine-args"),
        ("DELETED", "engine-args"),
        ("ADDED", "sentinel"),
    ]
    assert versions(events)[:3] == [moved_in.rv, changed.rv, moved_out.rv]


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


# --- faults --------------------------------------------------------------------------------
@pytest.mark.parametrize(("code", "reason"), [(500, "InternalError"), (429, "TooManyRequests")])
def test_an_injected_error_is_answered_once_then_service_resumes(
    api: Http, apiserver: BackgroundApiServer, code: int, reason: str
) -> None:
    api.post(CONFIGMAPS, config_map("a"))
    apiserver.run(lambda: faults(apiserver).inject("get", "configmaps", code=code))

    listed = api.get(CONFIGMAPS)
    faulted = api.get(f"{CONFIGMAPS}/a")
    recovered = api.get(f"{CONFIGMAPS}/a")

    assert listed.code == 200, "other verbs are unaffected"
    refused(faulted, code, reason)
    assert recovered.code == 200


def timed(action: Callable[[], Answer]) -> float:
    started = time.monotonic()
    assert action().code == 200
    return time.monotonic() - started


def test_an_injected_delay_slows_the_matching_request(
    api: Http, apiserver: BackgroundApiServer
) -> None:
    apiserver.run(lambda: faults(apiserver).inject("list", "configmaps", code=None, delay=0.3))

    slow = timed(lambda: api.get(CONFIGMAPS))
    fast = timed(lambda: api.get(CONFIGMAPS))

    assert slow >= 0.3 > fast


def test_a_paused_server_holds_requests_until_it_resumes(
    api: Http, apiserver: BackgroundApiServer
) -> None:
    apiserver.run(faults(apiserver).pause)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(api.get, CONFIGMAPS)
        time.sleep(0.2)
        held = not pending.done()
        apiserver.run(faults(apiserver).resume)
        answer = pending.result(timeout=3)

    assert held, "the request waited while the server was paused"
    assert answer.code == 200


def test_closing_watches_ends_their_streams(api: Http, apiserver: BackgroundApiServer) -> None:
    api.post(CONFIGMAPS, config_map("a"))
    since = api.post(PODS, pod("engine-0")).rv

    with api.watch(CONFIGMAPS) as config_maps, api.watch(PODS, resourceVersion=since) as pods:
        assert change(config_maps.next()) == ("ADDED", "a")  # the watch is open
        closed = apiserver.run(lambda: faults(apiserver).close_watches("configmaps"))
        ended = config_maps.next()
        api.post(PODS, pod("engine-1"))
        still_open = pods.next()

    assert closed == 1
    assert ended is None
    assert change(still_open) == ("ADDED", "engine-1")


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
