"""Defaulting of Pods: the fields kube-apiserver fills in on every write of one.

pkg/apis/core/v1/defaults.go for the spec (containers, probes, volumes), the
DefaultTolerationSeconds and Priority admission plugins, the podIP/podIPs conversion,
the QoS class, and Go's zero values for container statuses. Only missing fields are
filled, so `complete_pod` is idempotent.
"""

from fractions import Fraction
from typing import Any

from llamaops.sim.apiserver.quantities import parse_quantity, quantities_as_text

Obj = dict[str, Any]

DEFAULT_MODE = 0o644  # 420: secret, configMap, downwardAPI and projected volumes
NO_EXECUTE_TOLERATION_SECONDS = 300  # DefaultTolerationSeconds' default for both taints
SYSTEM_PRIORITIES = {"system-cluster-critical": 2000000000, "system-node-critical": 2000001000}


def complete_pod(pod: Obj) -> None:
    """Fill in, in place, the Pod's spec and status defaults."""
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
        spec["overhead"] = quantities_as_text(spec["overhead"])


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
            resources[kind] = quantities_as_text(resources[kind])
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
