"""Prometheus service discovery for the local cluster, over HTTP.

On a real cluster Prometheus finds its targets with `kubernetes_sd_configs`, which the
Prometheus Operator writes from ServiceMonitors and PodMonitors. Debian's Prometheus is
built without Kubernetes discovery, so the local cluster serves the same targets, with the
same `__meta_kubernetes_*` labels, in Prometheus' `http_sd_configs` format:

    [{"targets": ["127.0.0.7:8000"], "labels": {"__meta_kubernetes_pod_name": ...}}]

This module computes them from the API objects; `prometheus_sd_server.py` serves them.

The labels follow Prometheus' `discovery/kubernetes` (pod.go, endpoints.go):
- pod: a target per container port of each pod with an IP (a port-less target per
  container without ports), with the pod's name, IP, ready, phase, node, host IP, uid,
  controller, labels and annotations, and the container's name, image, port and init flag.
- endpoints: a target per address × port of each Endpoints object (notReadyAddresses with
  ready "false"), with its Service's name, labels and annotations; an address whose
  targetRef is a pod also gets that pod's labels and the container port that matches;
  that pod's other container ports become targets of their own.
Label names are sanitized as Prometheus does: every character outside [a-zA-Z0-9_] is `_`.
`discover(..., namespaces)` keeps only those namespaces, as `kubernetes_sd_configs`'
`namespaces.names` does. Not modelled: the endpointslice, service, node and ingress roles,
and `attach_metadata`.
"""

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

Obj = dict[str, Any]
Labels = dict[str, str]
TargetGroup = dict[str, Any]  # {"targets": ["ip:port"], "labels": {...}}
Key = tuple[str, str]  # (namespace, name)
META = "__meta_kubernetes_"
ROLES = ("pod", "endpoints")
INVALID_LABEL_CHARACTERS = re.compile(r"[^a-zA-Z0-9_]")


def sanitize(name: str) -> str:
    """A Kubernetes label or annotation name as a Prometheus label name."""
    return INVALID_LABEL_CHARACTERS.sub("_", name)


def object_labels(role: str, meta: Obj) -> Labels:
    """`<role>_label_<name>`, `_labelpresent_`, `_annotation_`, `_annotationpresent_`."""
    found: Labels = {}
    for kind, values in (("label", meta.get("labels")), ("annotation", meta.get("annotations"))):
        for key, value in (values or {}).items():
            found[f"{META}{role}_{kind}_{sanitize(key)}"] = str(value)
            found[f"{META}{role}_{kind}present_{sanitize(key)}"] = "true"
    return found


def pod_ready(pod: Obj) -> str:
    conditions = (pod.get("status") or {}).get("conditions") or []
    ready = next((c for c in conditions if c.get("type") == "Ready"), None)
    return "unknown" if ready is None else str(ready.get("status", "Unknown")).lower()


def pod_labels(pod: Obj) -> Labels:
    """What every target of a pod carries (Prometheus' podLabels; namespace aside)."""
    meta, status = pod["metadata"], pod.get("status") or {}
    labels = {
        f"{META}pod_name": meta["name"],
        f"{META}pod_ip": status.get("podIP", ""),
        f"{META}pod_ready": pod_ready(pod),
        f"{META}pod_phase": status.get("phase", ""),
        f"{META}pod_node_name": (pod.get("spec") or {}).get("nodeName", ""),
        f"{META}pod_host_ip": status.get("hostIP", ""),
        f"{META}pod_uid": meta.get("uid", ""),
        **object_labels("pod", meta),
    }
    owner = next((r for r in meta.get("ownerReferences") or [] if r.get("controller")), None)
    if owner is not None:
        labels[f"{META}pod_controller_kind"] = owner.get("kind", "")
        labels[f"{META}pod_controller_name"] = owner.get("name", "")
    return labels


def container_labels(container: Obj, port: Obj | None, init: bool = False) -> Labels:
    labels = {
        f"{META}pod_container_name": container["name"],
        f"{META}pod_container_image": container.get("image", ""),
        f"{META}pod_container_init": str(init).lower(),
    }
    if port is not None:
        labels[f"{META}pod_container_port_name"] = port.get("name", "")
        labels[f"{META}pod_container_port_number"] = str(port["containerPort"])
        labels[f"{META}pod_container_port_protocol"] = port.get("protocol", "TCP")
    return labels


def group(address: str, *label_sets: Labels) -> TargetGroup:
    labels: Labels = {}
    for label_set in label_sets:
        labels.update(label_set)
    return {"targets": [address], "labels": labels}


def pod_targets(pods: Iterable[Obj]) -> list[TargetGroup]:
    """Role pod: a target per container port of each pod that has an IP."""
    found = []
    for pod in pods:
        ip = (pod.get("status") or {}).get("podIP")
        if not ip:
            continue  # starting, or evicted: Prometheus lists nothing for it
        shared = {f"{META}namespace": pod["metadata"]["namespace"], **pod_labels(pod)}
        spec = pod.get("spec") or {}
        containers = [(c, False) for c in spec.get("containers") or []]
        containers += [(c, True) for c in spec.get("initContainers") or []]
        for container, init in containers:
            if not container.get("ports"):
                found.append(group(ip, shared, container_labels(container, None, init)))
            for port in container.get("ports") or []:
                address = f"{ip}:{port['containerPort']}"
                found.append(group(address, shared, container_labels(container, port, init)))
    return found


def endpoints_targets(
    endpoints: Iterable[Obj], services: Mapping[Key, Obj], pods: Mapping[Key, Obj]
) -> list[TargetGroup]:
    """Role endpoints: a target per address × port of each Endpoints object."""
    found = []
    for eps in endpoints:
        meta = eps["metadata"]
        shared = {
            f"{META}namespace": meta["namespace"],
            f"{META}endpoints_name": meta["name"],
            **object_labels("endpoints", meta),
        }
        service = services.get((meta["namespace"], meta["name"]))
        if service is not None:
            shared[f"{META}service_name"] = service["metadata"]["name"]
            shared.update(object_labels("service", service["metadata"]))
        found += _endpoints_targets(eps, shared, pods)
    return found


def _endpoints_targets(eps: Obj, shared: Labels, pods: Mapping[Key, Obj]) -> list[TargetGroup]:
    found = []
    seen: dict[Key, tuple[Obj, set[int]]] = {}  # pods behind an address, and their ports used
    for subset in eps.get("subsets") or []:
        for port in subset.get("ports") or []:
            addresses = [(a, "true") for a in subset.get("addresses") or []]
            addresses += [(a, "false") for a in subset.get("notReadyAddresses") or []]
            for address, ready in addresses:
                target = {
                    f"{META}endpoint_port_name": port.get("name", ""),
                    f"{META}endpoint_port_protocol": port.get("protocol", "TCP"),
                    f"{META}endpoint_ready": ready,
                    **_address_labels(address),
                }
                pod = _pod_of(address, eps["metadata"]["namespace"], pods)
                if pod is not None:
                    target.update(pod_labels(pod))
                    target.update(_matching_container(pod, int(port["port"])))
                    seen.setdefault(_key(pod), (pod, set()))[1].add(int(port["port"]))
                found.append(group(f"{address['ip']}:{port['port']}", shared, target))
    for pod, used in seen.values():
        found += [group(address, shared, labels) for address, labels in _other_ports(pod, used)]
    return found


def _other_ports(pod: Obj, used: set[int]) -> list[tuple[str, Labels]]:
    """The pod's container ports no endpoint port reached: targets of their own."""
    found = []
    for container in (pod.get("spec") or {}).get("containers") or []:
        for cport in container.get("ports") or []:
            if int(cport["containerPort"]) not in used:
                labels = {**_container_port_labels(container, cport), **pod_labels(pod)}
                found.append((f"{pod['status']['podIP']}:{cport['containerPort']}", labels))
    return found


def _address_labels(address: Obj) -> Labels:
    labels: Labels = {}
    ref = address.get("targetRef")
    if ref:
        labels[f"{META}endpoint_address_target_kind"] = ref.get("kind", "")
        labels[f"{META}endpoint_address_target_name"] = ref.get("name", "")
    if address.get("nodeName"):
        labels[f"{META}endpoint_node_name"] = address["nodeName"]
    if address.get("hostname"):
        labels[f"{META}endpoint_hostname"] = address["hostname"]
    return labels


def _pod_of(address: Obj, namespace: str, pods: Mapping[Key, Obj]) -> Obj | None:
    ref = address.get("targetRef") or {}
    if ref.get("kind") != "Pod":
        return None
    return pods.get((ref.get("namespace") or namespace, ref.get("name", "")))


def _matching_container(pod: Obj, port: int) -> Labels:
    """The container port an endpoint port lands on, if the pod declares it."""
    for container in (pod.get("spec") or {}).get("containers") or []:
        for cport in container.get("ports") or []:
            if int(cport["containerPort"]) == port:
                return _container_port_labels(container, cport)
    return {}


def _container_port_labels(container: Obj, port: Obj) -> Labels:
    """As the endpoints role puts them: without the init flag."""
    labels = container_labels(container, port)
    del labels[f"{META}pod_container_init"]
    return labels


def _key(obj: Obj) -> Key:
    return (obj["metadata"].get("namespace", ""), obj["metadata"]["name"])


def discover(
    role: str, objects: Callable[[str], list[Obj]], namespaces: Sequence[str] = ()
) -> list[TargetGroup]:
    """The target groups of `role`, from `objects(plural)`, in `namespaces` (all if none)."""

    def listed(plural: str) -> list[Obj]:
        found = objects(plural)
        return [o for o in found if not namespaces or o["metadata"]["namespace"] in namespaces]

    if role == "pod":
        return pod_targets(listed("pods"))
    if role == "endpoints":
        services = {_key(o): o for o in objects("services")}
        pods = {_key(o): o for o in objects("pods")}
        return endpoints_targets(listed("endpoints"), services, pods)
    raise ValueError(f"unknown role {role!r}; known: {', '.join(ROLES)}")
