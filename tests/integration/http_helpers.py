"""Plain HTTP to the API emulator, and the checks and objects the semantics tests share.

Requests go through http.client, so a test controls every header, a missing
Content-Type included. `Http` keeps a transcript of the requests and answers, which
the `api` fixture (conftest.py) prints when a test fails.
"""

import http.client
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urlencode, urlsplit

from llamaops.sim.apiserver.background import BackgroundApiServer
from llamaops.sim.apiserver.faults import Faults

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
