"""The endpoints controller: each Service's Endpoints and EndpointSlice list its ready,
non-terminating pods (not-ready ones as notReadyAddresses / ready=false)."""

from typing import Any

from llamaops.sim.apiserver.selectors import selector_from_match_labels
from llamaops.sim.cluster.controller import Controller

Obj = dict[str, Any]
SERVICE_NAME_LABEL = "kubernetes.io/service-name"


class EndpointsController(Controller):
    watches = ("pods", "services")
    name = "endpoints"

    def reconcile(self) -> None:
        services = self.api.list("services")
        for service in services:
            self.sync(service)
        self._forget_gone(services)

    def _forget_gone(self, services: list[Obj]) -> None:
        """Endpoints of a deleted Service go with it (slices go by garbage collection)."""
        alive = {(s["metadata"]["namespace"], s["metadata"]["name"]) for s in services}
        for endpoints in self.api.list("endpoints"):
            meta = endpoints["metadata"]
            managed = SERVICE_NAME_LABEL in (meta.get("labels") or {})
            if managed and (meta["namespace"], meta["name"]) not in alive:
                self.api.delete("endpoints", meta["namespace"], meta["name"])

    def sync(self, service: Obj) -> None:
        selector = (service.get("spec") or {}).get("selector")
        if not selector:
            return
        meta = service["metadata"]
        pods = [
            p
            for p in self.api.list(
                "pods", meta["namespace"], selector_from_match_labels({"matchLabels": selector})
            )
            if (p.get("status") or {}).get("podIP")
        ]
        ports = (service.get("spec") or {}).get("ports") or []
        self._write("endpoints", meta, endpoints_of(service, pods, ports))
        self._write(
            "endpointslices",
            {**meta, "name": f"{meta['name']}-sim"},
            endpoint_slice_of(service, pods, ports),
        )

    def _write(self, plural: str, meta: Obj, body: Obj) -> None:
        current = self.api.get(plural, meta["namespace"], meta["name"])
        if current is None:
            self.api.create(plural, meta["namespace"], body)
        else:
            self.api.update(
                plural,
                current,
                lambda obj: obj.update({k: v for k, v in body.items() if k != "metadata"}),
            )


def is_ready(pod: Obj) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def target_port(port: Obj, pod: Obj) -> int:
    target: Any = port.get("targetPort", port.get("port"))
    if isinstance(target, str):
        for container in pod["spec"].get("containers") or []:
            for candidate in container.get("ports") or []:
                if candidate.get("name") == target:
                    return int(candidate["containerPort"])
        return int(port["port"])
    return int(target)


def _address(pod: Obj) -> Obj:
    meta = pod["metadata"]
    return {
        "ip": pod["status"]["podIP"],
        "nodeName": pod["spec"].get("nodeName", ""),
        "targetRef": {
            "kind": "Pod",
            "name": meta["name"],
            "namespace": meta["namespace"],
            "uid": meta["uid"],
        },
    }


def endpoints_of(service: Obj, pods: list[Obj], ports: list[Obj]) -> Obj:
    meta = service["metadata"]
    live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
    ready = [_address(p) for p in live if is_ready(p)]
    not_ready = [_address(p) for p in live if not is_ready(p)]
    subset: Obj = (
        {
            "ports": [
                {
                    "name": p.get("name", ""),
                    "port": target_port(p, live[0]),
                    "protocol": p.get("protocol", "TCP"),
                }
                for p in ports
            ]
        }
        if live
        else {}
    )
    if ready:
        subset["addresses"] = ready
    if not_ready:
        subset["notReadyAddresses"] = not_ready
    return {
        "metadata": {
            "name": meta["name"],
            "namespace": meta["namespace"],
            "labels": {SERVICE_NAME_LABEL: meta["name"]},
        },
        "subsets": [subset] if live else [],
    }


def endpoint_slice_of(service: Obj, pods: list[Obj], ports: list[Obj]) -> Obj:
    meta = service["metadata"]
    endpoints = []
    for pod in pods:
        terminating = bool(pod["metadata"].get("deletionTimestamp"))
        ready = is_ready(pod)
        endpoints.append(
            {
                "addresses": [pod["status"]["podIP"]],
                "conditions": {
                    "ready": ready and not terminating,
                    "serving": ready,
                    "terminating": terminating,
                },
                "nodeName": pod["spec"].get("nodeName", ""),
                "targetRef": _address(pod)["targetRef"],
            }
        )
    return {
        "metadata": {
            "name": f"{meta['name']}-sim",
            "namespace": meta["namespace"],
            "labels": {
                SERVICE_NAME_LABEL: meta["name"],
                "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
            },
            "ownerReferences": [
                {
                    "apiVersion": "v1",
                    "kind": "Service",
                    "name": meta["name"],
                    "uid": meta["uid"],
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "addressType": "IPv4",
        "endpoints": endpoints,
        "ports": [
            {
                "name": p.get("name", ""),
                "port": target_port(p, pods[0]) if pods else int(p.get("port", 0)),
                "protocol": p.get("protocol", "TCP"),
            }
            for p in ports
        ],
    }
