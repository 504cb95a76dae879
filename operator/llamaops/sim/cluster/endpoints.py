"""The endpoints controller: each Service's Endpoints and EndpointSlice list its ready,
non-terminating pods (not-ready ones as notReadyAddresses / ready=false).

Its first pass syncs every Service; after that only the Services a change touched: a
Service that changed, and those a changed pod belongs to, or belonged to before (its
labels moved it out). Which pods each Service selects is kept from the watch events, so a
sync reads its own pods, not the namespace's (thousands of pods, as kube-controller-
manager's endpoints controller keeps them in its informer's indexes).
"""

from typing import Any

from llamaops.sim.apiserver.selectors import LabelSelector, selector_from_match_labels
from llamaops.sim.cluster.access import ClusterApi
from llamaops.sim.cluster.controller import Controller

Obj = dict[str, Any]
Key = tuple[str, str]  # (namespace, name)
SERVICE_NAME_LABEL = "kubernetes.io/service-name"


class EndpointsController(Controller):
    watches = ("pods", "services")
    name = "endpoints"

    def __init__(self, api: ClusterApi) -> None:
        super().__init__(api)
        self._everything = True  # the next pass syncs every Service
        self._dirty: set[Key] = set()
        self._selectors: dict[Key, LabelSelector] = {}  # Services that select pods
        self._pods: dict[Key, Obj] = {}  # every pod, as its last event showed it
        self._members: dict[Key, set[Key]] = {}  # Service -> the pods it selects
        self._member_of: dict[Key, set[Key]] = {}  # pod -> the Services selecting it

    def wants(self, plural: str, kind: str, obj: Obj) -> bool:
        meta = obj["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        if plural == "services":
            self._service_changed(key, None if kind == "DELETED" else obj)
        else:
            self._pod_changed(key, None if kind == "DELETED" else obj)
        return True

    def _service_changed(self, key: Key, service: Obj | None) -> None:
        selector = ((service or {}).get("spec") or {}).get("selector")
        for pod in self._members.pop(key, set()):
            self._member_of.get(pod, set()).discard(key)
        self._selectors.pop(key, None)
        self._dirty.add(key)
        if service is None:
            self._everything = True  # its Endpoints go: a full pass forgets them
            return
        if selector:
            chosen = selector_from_match_labels({"matchLabels": selector})
            self._selectors[key] = chosen
            members = {p for p, pod in self._pods.items() if p[0] == key[0] and chosen.matches(pod)}
            self._members[key] = members
            for pod in members:
                self._member_of.setdefault(pod, set()).add(key)

    def _pod_changed(self, key: Key, pod: Obj | None) -> None:
        before = self._member_of.pop(key, set())
        now: set[Key] = set()
        if pod is None:
            self._pods.pop(key, None)
        else:
            self._pods[key] = pod
            now = {
                s for s, chosen in self._selectors.items() if s[0] == key[0] and chosen.matches(pod)
            }
            self._member_of[key] = now
        for service in before - now:
            self._members.get(service, set()).discard(key)
        for service in now:
            self._members.setdefault(service, set()).add(key)
        self._dirty |= before | now

    def reconcile(self) -> None:
        if self._everything:
            self._everything, self._dirty = False, set()
            services = self.api.list("services")
            for service in services:
                self.sync(service)
            self._forget_gone(services)
            return
        dirty, self._dirty = self._dirty, set()
        for namespace, name in sorted(dirty):
            changed = self.api.get("services", namespace, name)
            if changed is not None:
                self.sync(changed)

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
        key = (meta["namespace"], meta["name"])
        chosen = selector_from_match_labels({"matchLabels": selector})
        members = sorted(self._members.get(key, set()))
        found = [self.api.get("pods", namespace, name) for namespace, name in members]
        pods = [
            p
            for p in found
            if p is not None and chosen.matches(p) and (p.get("status") or {}).get("podIP")
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
