"""Pods, Services and Endpoints as the API returns them, built in sentences, for
test_prometheus_sd.py:

a_pod("p").with_labels(VLLM_LABELS).serving("http", 8000).ready("False").obj()
an_endpoints("svc", {"name": "http", "port": 8000}, [address_of(pod)])
"""

from typing import Any, Self

Obj = dict[str, Any]

VLLM_LABELS = {
    "app.kubernetes.io/name": "vllm",
    "app.kubernetes.io/managed-by": "llamaops",
    "serving.llamaops.io/deployment": "llama3-70b",
}


class PodBuilder:
    """A pod as the API returns it: `a_pod("p").labelled(...).serving("http", 8000).obj()`."""

    def __init__(self, name: str, namespace: str = "default") -> None:
        self.pod: Obj = {
            "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}"},
            "spec": {"nodeName": "h100-0", "containers": []},
            "status": {
                "phase": "Running",
                "podIP": "127.0.0.7",
                "hostIP": "10.0.0.1",
                "conditions": [{"type": "Ready", "status": "True"}],
            },
        }

    def labelled(self, **labels: str) -> Self:
        self.pod["metadata"].setdefault("labels", {}).update(labels)
        return self

    def with_labels(self, labels: dict[str, str]) -> Self:
        return self.labelled(**labels)

    def container(self, name: str, *ports: tuple[str, int], init: bool = False) -> Self:
        declared = [{"name": n, "containerPort": p, "protocol": "TCP"} for n, p in ports]
        container = {"name": name, "image": f"{name}:1", **({"ports": declared} if ports else {})}
        self.pod["spec"].setdefault("initContainers" if init else "containers", []).append(
            container
        )
        return self

    def serving(self, port_name: str = "http", port: int = 8000) -> Self:
        return self.container("vllm", (port_name, port))

    def ready(self, status: str | None) -> Self:
        conditions = [{"type": "Ready", "status": status}] if status is not None else []
        self.pod["status"]["conditions"] = conditions
        return self

    def without_ip(self) -> Self:
        del self.pod["status"]["podIP"]
        return self

    def controlled_by(self, kind: str, name: str) -> Self:
        ref = {"kind": kind, "name": name, "controller": True}
        self.pod["metadata"]["ownerReferences"] = [ref]
        return self

    def obj(self) -> Obj:
        return self.pod


def a_pod(name: str = "llama3-70b-abc", namespace: str = "default") -> PodBuilder:
    return PodBuilder(name, namespace)


def a_service(name: str, namespace: str = "default", **labels: str) -> Obj:
    return {"metadata": {"name": name, "namespace": namespace, "labels": labels}}


def an_endpoints(name: str, port: Obj, ready: list[Obj], not_ready: list[Obj] | None = None) -> Obj:
    subset: Obj = {"ports": [port], "addresses": ready}
    if not_ready:
        subset["notReadyAddresses"] = not_ready
    return {"metadata": {"name": name, "namespace": "default"}, "subsets": [subset]}


def address_of(pod: Obj) -> Obj:
    meta = pod["metadata"]
    ref = {"kind": "Pod", "name": meta["name"], "namespace": meta["namespace"]}
    return {"ip": pod["status"]["podIP"], "nodeName": "h100-0", "targetRef": ref}
