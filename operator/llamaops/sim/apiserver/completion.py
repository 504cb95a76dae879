"""Defaulting of built-in objects: the fields kube-apiserver fills in on every write.

What a real server returns differs from what a client sent: pkg/apis/*/v1/defaults.go,
the v1 conversions (podIP/podIPs, Secret stringData), the admission plugins every cluster
runs (DefaultTolerationSeconds, Priority, ServiceAccount) and Go's zero values for fields
without `omitempty`. The official Python client's models are strict and refuse objects
that lack those zero values (a container status without imageID, a node without nodeInfo
strings), so every built-in the emulator returns passes through `complete`.

Only missing fields are filled: what a client or a controller set is kept, which makes
`complete` idempotent. Allocations (cluster IPs, node ports) happen elsewhere.
"""

import base64
import copy
import re
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from typing import Any

from llamaops.sim.apiserver.resources import ResourceType

Obj = dict[str, Any]

DEFAULT_MODE = 0o644  # 420: secret, configMap, downwardAPI and projected volumes
NO_EXECUTE_TOLERATION_SECONDS = 300  # DefaultTolerationSeconds' default for both taints
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
SYSTEM_PRIORITIES = {"system-cluster-critical": 2000000000, "system-node-critical": 2000001000}
_QUANTITY = re.compile(
    r"(?P<number>[+-]?(?:\d+\.?\d*|\.\d+))"
    r"(?:(?P<binary>[KMGTPE]i)|(?P<decimal>[numkMGTPE])|[eE](?P<exponent>[+-]?\d+))?"
)
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}


def complete(resource: ResourceType, obj: Obj) -> Obj:
    """A copy of the built-in `obj` with the fields the real API server always sets."""
    completed = copy.deepcopy(obj)
    fill = _COMPLETERS.get((resource.group, resource.kind)) if resource.builtin else None
    if fill is not None:
        fill(completed)
    return completed


# --- Pod --------------------------------------------------------------------------------
def _pod(pod: Obj) -> None:
    spec = pod.setdefault("spec", {})
    _pod_spec(spec)
    status = pod.setdefault("status", {})
    status.setdefault("phase", "Pending")
    status.setdefault("qosClass", qos_class(spec))
    _pair_ips(status, "podIP", "podIPs")
    _pair_ips(status, "hostIP", "hostIPs")
    for condition in status.get("conditions") or []:
        condition.setdefault("lastProbeTime", None)
        condition.setdefault("lastTransitionTime", None)
    for statuses, containers in (
        ("containerStatuses", "containers"),
        ("initContainerStatuses", "initContainers"),
        ("ephemeralContainerStatuses", "ephemeralContainers"),
    ):
        images = {c.get("name"): c.get("image", "") for c in spec.get(containers) or []}
        for container_status in status.get(statuses) or []:
            _container_status(container_status, images)


def _pod_spec(spec: Obj) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("serviceAccountName", spec.get("serviceAccount") or "default")
    spec.setdefault("serviceAccount", spec["serviceAccountName"])  # the deprecated twin
    _priority(spec)
    host_network = bool(spec.get("hostNetwork"))
    for key in ("containers", "initContainers", "ephemeralContainers"):
        for container in spec.get(key) or []:
            _container(container, host_network, requests_from_limits=key != "ephemeralContainers")
    for volume in spec.get("volumes") or []:
        _volume(volume)
    spec["tolerations"] = default_tolerations(spec.get("tolerations") or [])
    if "overhead" in spec:
        spec["overhead"] = _quantities(spec["overhead"])


def _priority(spec: Obj) -> None:
    """The Priority admission plugin: 0 without a class (no global default class here)."""
    class_name = spec.get("priorityClassName", "")
    if "priority" not in spec and (not class_name or class_name in SYSTEM_PRIORITIES):
        spec["priority"] = SYSTEM_PRIORITIES.get(class_name, 0)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")


def default_tolerations(tolerations: list[Obj]) -> list[Obj]:
    """DefaultTolerationSeconds: tolerate not-ready and unreachable nodes for 300 s."""
    added = []
    for taint in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
        if not any(
            t.get("key", "") in ("", taint) and t.get("effect", "") in ("", "NoExecute")
            for t in tolerations
        ):
            added.append(
                {
                    "key": taint,
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": NO_EXECUTE_TOLERATION_SECONDS,
                }
            )
    return tolerations + added


def _container(container: Obj, host_network: bool, requests_from_limits: bool) -> None:
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    container.setdefault("imagePullPolicy", image_pull_policy(container.get("image", "")))
    resources = container.setdefault("resources", {})
    for kind in ("limits", "requests"):
        if kind in resources:
            resources[kind] = _quantities(resources[kind])
    if requests_from_limits and resources.get("limits"):
        resources["requests"] = {**resources["limits"], **(resources.get("requests") or {})}
    for port in container.get("ports") or []:
        port.setdefault("protocol", "TCP")
        if host_network and not port.get("hostPort"):
            port["hostPort"] = port.get("containerPort")
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        if isinstance(container.get(probe), dict):
            _probe(container[probe])
    for handler in (container.get("lifecycle") or {}).values():
        if isinstance(handler, dict):
            _handler(handler)
    for variable in container.get("env") or []:
        _value_from(variable.get("valueFrom") or {})


def image_pull_policy(image: str) -> str:
    """Always for the latest tag, written or implied; IfNotPresent for other tags and digests."""
    name, _, digest = image.partition("@")
    last_part = name.rsplit("/", 1)[-1]
    tag = last_part.partition(":")[2] if ":" in last_part else ""
    if not tag and not digest and name:
        tag = "latest"
    return "Always" if tag == "latest" else "IfNotPresent"


def _probe(probe: Obj) -> None:
    for key, default in (
        ("timeoutSeconds", 1),
        ("periodSeconds", 10),
        ("successThreshold", 1),
        ("failureThreshold", 3),
    ):
        if not probe.get(key):  # Go defaults zero as well as unset
            probe[key] = default
    _handler(probe)
    if isinstance(probe.get("grpc"), dict):
        probe["grpc"].setdefault("service", "")


def _handler(handler: Obj) -> None:
    if isinstance(handler.get("httpGet"), dict):
        if not handler["httpGet"].get("path"):
            handler["httpGet"]["path"] = "/"
        if not handler["httpGet"].get("scheme"):
            handler["httpGet"]["scheme"] = "HTTP"


def _value_from(source: Obj) -> None:
    if isinstance(source.get("fieldRef"), dict):
        source["fieldRef"].setdefault("apiVersion", "v1")
    if isinstance(source.get("resourceFieldRef"), dict):
        source["resourceFieldRef"].setdefault("divisor", "0")


def _volume(volume: Obj) -> None:
    if set(volume) <= {"name"}:
        volume["emptyDir"] = {}
    for source in ("secret", "configMap", "downwardAPI", "projected"):
        if isinstance(volume.get(source), dict):
            volume[source].setdefault("defaultMode", DEFAULT_MODE)
    for item in (volume.get("downwardAPI") or {}).get("items") or []:
        _value_from(item)
    for projection in (volume.get("projected") or {}).get("sources") or []:
        token = projection.get("serviceAccountToken")
        if isinstance(token, dict):
            token.setdefault("expirationSeconds", 3600)


def _container_status(status: Obj, images: dict[Any, str]) -> None:
    """Go zero values for a status's required fields, which the client's models demand."""
    status.setdefault("image", images.get(status.get("name"), ""))
    status.setdefault("imageID", "")
    status.setdefault("ready", False)
    status.setdefault("restartCount", 0)
    for key in ("state", "lastState"):
        state = status.setdefault(key, {})
        if isinstance(state.get("terminated"), dict):
            state["terminated"].setdefault("exitCode", 0)


def _pair_ips(status: Obj, single: str, plural: str) -> None:
    """The v1 conversion: the single field is authoritative, the list follows it."""
    listed = status.get(plural) or []
    if status.get(single) and (not listed or listed[0].get("ip") != status[single]):
        status[plural] = [{"ip": status[single]}]
    elif listed and not status.get(single):
        status[single] = listed[0].get("ip", "")


def qos_class(spec: Obj) -> str:
    """GetPodQOS over cpu and memory: Guaranteed, Burstable or BestEffort."""
    requests: dict[str, Fraction] = {}
    limits: dict[str, Fraction] = {}
    guaranteed = True
    for container in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        resources = container.get("resources") or {}
        for name, amount in _qos_amounts(resources.get("requests")).items():
            requests[name] = requests.get(name, Fraction(0)) + amount
        container_limits = _qos_amounts(resources.get("limits"))
        for name, amount in container_limits.items():
            limits[name] = limits.get(name, Fraction(0)) + amount
        if set(container_limits) != {"cpu", "memory"}:
            guaranteed = False
    if not requests and not limits:
        return "BestEffort"
    if guaranteed and requests == limits:
        return "Guaranteed"
    return "Burstable"


def _qos_amounts(resources: Obj | None) -> dict[str, Fraction]:
    amounts = {}
    for name in ("cpu", "memory"):
        amount = parse_quantity((resources or {}).get(name))
        if amount is not None and amount > 0:
            amounts[name] = amount
    return amounts


def parse_quantity(value: Any) -> Fraction | None:
    """A resource.Quantity's value ("500m", "1Gi", "2", 1.5), or None if it is not one."""
    match = _QUANTITY.fullmatch(str(value).strip()) if value is not None else None
    if match is None:
        return None
    amount = Fraction(match["number"])
    if match["binary"]:
        return amount * _BINARY[match["binary"]]
    power = int(match["exponent"]) if match["exponent"] else _DECIMAL.get(match["decimal"], 0)
    return amount * Fraction(10) ** power


def _quantities(amounts: Any) -> Any:
    """Quantities sent as JSON numbers come back as strings, as the client's models expect."""
    if not isinstance(amounts, dict):
        return amounts
    return {name: _quantity_text(value) for name, value in amounts.items()}


def _quantity_text(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if value == int(value):
        return str(int(value))
    return format(Decimal(repr(value)), "f")


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
            status[key] = _quantities(status[key])
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
    ("", "Pod"): _pod,
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
