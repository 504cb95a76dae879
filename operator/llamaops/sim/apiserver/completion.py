"""Defaulting of built-in objects: the fields kube-apiserver fills in on every write.

What a real server returns differs from what a client sent: pkg/apis/*/v1/defaults.go,
the v1 conversions (podIP/podIPs, Secret stringData), the admission plugins every cluster
runs (DefaultTolerationSeconds, Priority, ServiceAccount) and Go's zero values for fields
without `omitempty`. The official Python client's models are strict and refuse objects
that lack those zero values (a container status without imageID, a node without nodeInfo
strings), so every built-in the emulator returns passes through `complete`.

Only missing fields are filled: what a client or a controller set is kept, which makes
`complete` idempotent. Allocations (cluster IPs, node ports) happen elsewhere.

Pods are defaulted in pod_defaults.py, quantities read and written in quantities.py.
"""

import base64
import copy
from collections.abc import Callable
from typing import Any

from llamaops.sim.apiserver.pod_defaults import complete_pod
from llamaops.sim.apiserver.quantities import quantities_as_text
from llamaops.sim.apiserver.resources import ResourceType

Obj = dict[str, Any]

NODE_INFO_FIELDS = (
    "machineID",
    "systemUUID",
    "bootID",
    "kernelVersion",
    "osImage",
    "containerRuntimeVersion",
    "kubeletVersion",
    "kubeProxyVersion",
    "operatingSystem",
    "architecture",
)


def complete(resource: ResourceType, obj: Obj) -> Obj:
    """A copy of the built-in `obj` with the fields the real API server always sets."""
    completed = copy.deepcopy(obj)
    fill = _COMPLETERS.get((resource.group, resource.kind)) if resource.builtin else None
    if fill is not None:
        fill(completed)
    return completed


# --- Service ----------------------------------------------------------------------------
def _service(service: Obj) -> None:
    spec = service.setdefault("spec", {})
    kind = spec.setdefault("type", "ClusterIP")
    if spec.setdefault("sessionAffinity", "None") == "ClientIP":
        config = spec.setdefault("sessionAffinityConfig", {}).setdefault("clientIP", {})
        config.setdefault("timeoutSeconds", 10800)
    for port in spec.get("ports") or []:
        port.setdefault("protocol", "TCP")
        if not port.get("targetPort"):
            port["targetPort"] = port.get("port")
    if kind in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    if kind == "LoadBalancer":
        spec.setdefault("allocateLoadBalancerNodePorts", True)
    if kind != "ExternalName":
        spec.setdefault("internalTrafficPolicy", "Cluster")
        _cluster_ips(spec)
    load_balancer = service.setdefault("status", {}).setdefault("loadBalancer", {})
    for ingress in load_balancer.get("ingress") or []:
        if ingress.get("ip"):
            ingress.setdefault("ipMode", "VIP")


def _cluster_ips(spec: Obj) -> None:
    if spec.get("clusterIP") and not spec.get("clusterIPs"):
        spec["clusterIPs"] = [spec["clusterIP"]]
    elif spec.get("clusterIPs") and not spec.get("clusterIP"):
        spec["clusterIP"] = spec["clusterIPs"][0]
    addresses = [ip for ip in spec.get("clusterIPs") or [] if ip != "None"]
    spec.setdefault("ipFamilies", [_family(ip) for ip in addresses] or ["IPv4"])
    spec.setdefault("ipFamilyPolicy", "SingleStack")


def _family(address: str) -> str:
    return "IPv6" if ":" in address else "IPv4"


# --- Namespace, Node --------------------------------------------------------------------
def _namespace(namespace: Obj) -> None:
    meta = namespace.setdefault("metadata", {})
    if meta.get("name"):
        meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta["name"]
    spec = namespace.setdefault("spec", {})
    # Set on create only; namespace finalization removes it, so never add it back then.
    if "finalizers" not in spec and not meta.get("deletionTimestamp"):
        spec["finalizers"] = ["kubernetes"]
    namespace.setdefault("status", {}).setdefault("phase", "Active")


def _node(node: Obj) -> None:
    node.setdefault("spec", {})
    status = node.setdefault("status", {})
    for key in ("capacity", "allocatable"):
        if key in status:
            status[key] = quantities_as_text(status[key])
    if "capacity" in status and "allocatable" not in status:
        status["allocatable"] = dict(status["capacity"])
    info = status.setdefault("nodeInfo", {})
    for key in NODE_INFO_FIELDS:
        info.setdefault(key, "")
    endpoint = status.setdefault("daemonEndpoints", {}).setdefault("kubeletEndpoint", {})
    endpoint.setdefault("Port", 0)
    for condition in status.get("conditions") or []:
        condition.setdefault("lastHeartbeatTime", None)
        condition.setdefault("lastTransitionTime", None)


# --- the smaller kinds ------------------------------------------------------------------
def _secret(secret: Obj) -> None:
    """Type Opaque by default; stringData is merged into data (base64) and never returned."""
    secret.setdefault("type", "Opaque")
    written = secret.pop("stringData", None) or {}
    if written:
        encoded = {k: base64.b64encode(str(v).encode()).decode() for k, v in written.items()}
        secret["data"] = {**(secret.get("data") or {}), **encoded}


def _event(event: Obj) -> None:
    event.setdefault("involvedObject", {})
    event.setdefault("source", {})
    event.setdefault("reportingComponent", "")
    event.setdefault("reportingInstance", "")
    for key in ("firstTimestamp", "lastTimestamp", "eventTime"):
        event.setdefault(key, None)


def _endpoints(endpoints: Obj) -> None:
    for subset in endpoints.get("subsets") or []:
        for port in subset.get("ports") or []:
            port.setdefault("protocol", "TCP")


def _endpoint_slice(slice_: Obj) -> None:
    for port in slice_.get("ports") or []:
        port.setdefault("name", "")
        port.setdefault("protocol", "TCP")
    for endpoint in slice_.get("endpoints") or []:
        endpoint.setdefault("conditions", {})


def _pod_disruption_budget(budget: Obj) -> None:
    status = budget.setdefault("status", {})
    for key in ("disruptionsAllowed", "currentHealthy", "desiredHealthy", "expectedPods"):
        status.setdefault(key, 0)


def _lease(lease: Obj) -> None:
    lease.setdefault("spec", {})


def _custom_resource_definition(crd: Obj) -> None:
    spec = crd.setdefault("spec", {})
    names = spec.setdefault("names", {})
    if names.get("kind"):
        names.setdefault("singular", names["kind"].lower())
        names.setdefault("listKind", names["kind"] + "List")
    conversion = spec.setdefault("conversion", {"strategy": "None"})
    service = ((conversion.get("webhook") or {}).get("clientConfig") or {}).get("service")
    if isinstance(service, dict):
        service.setdefault("port", 443)
    status = crd.setdefault("status", {})
    accepted = status.setdefault("acceptedNames", {})
    accepted.setdefault("plural", "")
    accepted.setdefault("kind", "")
    if not status.get("storedVersions"):
        storage = [v["name"] for v in spec.get("versions") or [] if v.get("storage")]
        status["storedVersions"] = storage[:1]


_COMPLETERS: dict[tuple[str, str], Callable[[Obj], None]] = {
    ("", "Pod"): complete_pod,
    ("", "Service"): _service,
    ("", "Namespace"): _namespace,
    ("", "Node"): _node,
    ("", "Secret"): _secret,
    ("", "Event"): _event,
    ("", "Endpoints"): _endpoints,
    ("discovery.k8s.io", "EndpointSlice"): _endpoint_slice,
    ("policy", "PodDisruptionBudget"): _pod_disruption_budget,
    ("coordination.k8s.io", "Lease"): _lease,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): _custom_resource_definition,
}
