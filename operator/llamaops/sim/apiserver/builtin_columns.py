"""The columns kube-apiserver prints for built-in kinds, and the ages it prints in them.

Mirrors kubernetes' pkg/printers/internalversion/printers.go as the server runs it
(always wide: `priority: 1` marks the columns kubectl shows only with `-o wide`), and
k8s.io/apimachinery/pkg/util/duration.HumanDuration for every age. Kinds without a
printer (and CustomResourceDefinitions) get the default convertor's Name and Created At.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

Obj = dict[str, Any]
Cells = list[Any]

NAME_DOC = (
    "Name must be unique within a namespace. Is required when creating resources, although "
    "some resources may allow a client to request the generation of an appropriate name "
    "automatically. Name is primarily intended for creation idempotence and configuration "
    "definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
)
CREATED_DOC = (
    "CreationTimestamp is a timestamp representing the server time when this object was "
    "created. It is not guaranteed to be set in happens-before order across separate "
    "operations. Clients may not set this value. It is represented in RFC3339 form and is in "
    "UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)")


# --- ages -------------------------------------------------------------------------------
def human_duration(elapsed: timedelta) -> str:
    """duration.HumanDuration: about two significant figures, "0s" for up to 2 s of skew."""
    seconds = int(elapsed.total_seconds())  # truncates toward zero, as Go's int() does
    if seconds < -1:
        return "<invalid>"
    if seconds < 120:
        return f"{max(seconds, 0)}s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if minutes < 10:
        return _two_units(minutes, "m", seconds % 60, "s")
    if minutes < 60 * 3:
        return f"{minutes}m"
    if hours < 8:
        return _two_units(hours, "h", minutes % 60, "m")
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return _two_units(days, "d", hours % 24, "h")
    if hours < 24 * 365 * 2:
        return f"{days}d"
    if hours < 24 * 365 * 8:
        return _two_units(days // 365, "y", days % 365, "d")
    return f"{days // 365}y"


def _two_units(big: int, big_unit: str, small: int, small_unit: str) -> str:
    return f"{big}{big_unit}" if small == 0 else f"{big}{big_unit}{small}{small_unit}"


def parse_timestamp(text: Any) -> datetime | None:
    """An RFC 3339 time as Go's time.Parse(time.RFC3339) reads it; None if it isn't one."""
    if not isinstance(text, str) or not _RFC3339.fullmatch(text):
        return None
    return datetime.fromisoformat(text.upper().replace("Z", "+00:00"))


def since(timestamp: Any, now: datetime) -> str:
    """translateTimestampSince: the age of a timestamp, "<unknown>" when it is unset."""
    moment = parse_timestamp(timestamp)
    if moment is None:
        return "<unknown>"
    return human_duration(_aware(now) - moment)


def _aware(now: datetime) -> datetime:
    return now if now.tzinfo is not None else now.replace(tzinfo=UTC)


# --- column definitions -----------------------------------------------------------------
def column(
    name: str, description: str = "", *, type_: str = "string", priority: int = 0, format_: str = ""
) -> Obj:
    """A TableColumnDefinition. Descriptions are the first sentence of the field's doc,
    where the real server sends the whole doc; kubectl does not show them."""
    return {
        "name": name,
        "type": type_,
        "format": format_,
        "description": description,
        "priority": priority,
    }


NAME = column("Name", NAME_DOC, format_="name")
AGE = column("Age", CREATED_DOC)
CREATED_AT = column("Created At", CREATED_DOC, type_="date")


@dataclass(frozen=True)
class Printer:
    """One kind's columns, and how an object of that kind fills a row of them."""

    columns: tuple[Obj, ...]
    cells: Callable[[Obj, datetime], Cells]
    conditions: Callable[[Obj], list[Obj]] = lambda obj: []


def _meta(obj: Obj) -> Obj:
    return obj.get("metadata") or {}


def _name_and_age(obj: Obj, now: datetime) -> tuple[str, str]:
    meta = _meta(obj)
    return meta.get("name", ""), since(meta.get("creationTimestamp"), now)


def default_cells(obj: Obj, now: datetime) -> Cells:
    """rest.defaultTableConvertor: the name and the creation time in RFC 3339, UTC."""
    created = parse_timestamp(_meta(obj).get("creationTimestamp"))
    shown = created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if created else None
    return [_meta(obj).get("name", ""), shown or "0001-01-01T00:00:00Z"]


DEFAULT = Printer((NAME, CREATED_AT), default_cells)


# --- Pod --------------------------------------------------------------------------------
@dataclass
class _PodSummary:
    """What printPod accumulates over the container statuses."""

    reason: str
    ready: int = 0
    restarts: int = 0
    last_restart: datetime | None = None
    sidecar_restarts: int = 0
    sidecar_last_restart: datetime | None = None
    initializing: bool = False


def pod_cells(pod: Obj, now: datetime) -> Cells:
    """printPod: READY, STATUS (the reason kubectl shows), RESTARTS, AGE, then wide."""
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    name, age = _name_and_age(pod, now)
    sidecars = {
        c.get("name")
        for c in spec.get("initContainers") or []
        if c.get("restartPolicy") == "Always"
    }
    summary = _PodSummary(reason=status.get("reason") or status.get("phase", ""))
    if any(
        c.get("type") == "PodScheduled" and c.get("reason") == "SchedulingGated"
        for c in status.get("conditions") or []
    ):
        summary.reason = "SchedulingGated"
    _count_init_containers(summary, spec, status, sidecars)
    if not summary.initializing or _has_condition(status, "Initialized"):
        _count_containers(summary, status)
    if _meta(pod).get("deletionTimestamp"):
        if status.get("reason") == "NodeLost":
            summary.reason = "Unknown"
        elif status.get("phase") not in ("Succeeded", "Failed"):
            summary.reason = "Terminating"
    restarts = str(summary.restarts)
    if summary.restarts and summary.last_restart is not None:
        ago = human_duration(_aware(now) - summary.last_restart)
        restarts = f"{summary.restarts} ({ago} ago)"
    total = len(spec.get("containers") or []) + len(sidecars)
    ips = status.get("podIPs") or []
    gates = spec.get("readinessGates") or []
    return [
        name,
        f"{summary.ready}/{total}",
        summary.reason,
        restarts,
        age,
        (ips[0].get("ip") if ips else "") or "<none>",
        spec.get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        f"{_true_gates(gates, status)}/{len(gates)}" if gates else "<none>",
    ]


def pod_conditions(pod: Obj) -> list[Obj]:
    """Rows of finished pods carry a Completed condition, as printPod sets it."""
    phase = (pod.get("status") or {}).get("phase")
    message = {"Succeeded": "The pod has completed successfully.", "Failed": "The pod failed."}
    if phase not in message:
        return []
    return [{"type": "Completed", "status": "True", "reason": phase, "message": message[phase]}]


def _count_init_containers(
    summary: _PodSummary, spec: Obj, status: Obj, sidecars: set[Any]
) -> None:
    init_count = len(spec.get("initContainers") or [])
    for index, container in enumerate(status.get("initContainerStatuses") or []):
        sidecar = container.get("name") in sidecars
        summary.restarts += container.get("restartCount", 0)
        summary.last_restart = _later(summary.last_restart, _last_finished(container))
        if sidecar:
            summary.sidecar_restarts += container.get("restartCount", 0)
            summary.sidecar_last_restart = _later(
                summary.sidecar_last_restart, _last_finished(container)
            )
        state = container.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting") or {}
        if terminated is not None and terminated.get("exitCode", 0) == 0:
            continue
        if sidecar and container.get("started"):
            summary.ready += 1 if container.get("ready") else 0
            continue
        summary.initializing = True
        if terminated is not None:
            summary.reason = "Init:" + _terminated_reason(terminated)
        elif waiting.get("reason") and waiting["reason"] != "PodInitializing":
            summary.reason = "Init:" + waiting["reason"]
        else:
            summary.reason = f"Init:{index}/{init_count}"
        return


def _count_containers(summary: _PodSummary, status: Obj) -> None:
    summary.restarts = summary.sidecar_restarts
    summary.last_restart = summary.sidecar_last_restart
    has_running = False
    for container in reversed(status.get("containerStatuses") or []):
        summary.restarts += container.get("restartCount", 0)
        summary.last_restart = _later(summary.last_restart, _last_finished(container))
        state = container.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting") or {}
        if waiting.get("reason"):
            summary.reason = waiting["reason"]
        elif terminated is not None:
            summary.reason = _terminated_reason(terminated)
        elif container.get("ready") and state.get("running") is not None:
            has_running = True
            summary.ready += 1
    if summary.reason == "Completed" and has_running:
        summary.reason = "Running" if _has_condition(status, "Ready") else "NotReady"


def _terminated_reason(terminated: Obj) -> str:
    if terminated.get("reason"):
        return str(terminated["reason"])
    if terminated.get("signal"):
        return f"Signal:{terminated['signal']}"
    return f"ExitCode:{terminated.get('exitCode', 0)}"


def _last_finished(container: Obj) -> datetime | None:
    terminated = (container.get("lastState") or {}).get("terminated") or {}
    return parse_timestamp(terminated.get("finishedAt"))


def _later(current: datetime | None, candidate: datetime | None) -> datetime | None:
    if candidate is None or (current is not None and current >= candidate):
        return current
    return candidate


def _has_condition(status: Obj, kind: str) -> bool:
    return any(
        c.get("type") == kind and c.get("status") == "True" for c in status.get("conditions") or []
    )


def _true_gates(gates: list[Obj], status: Obj) -> int:
    return sum(1 for gate in gates if _has_condition(status, gate.get("conditionType", "")))


# --- Node -------------------------------------------------------------------------------
def node_cells(node: Obj, now: datetime) -> Cells:
    spec, status = node.get("spec") or {}, node.get("status") or {}
    name, age = _name_and_age(node, now)
    ready = [c for c in status.get("conditions") or [] if c.get("type") == "Ready"]
    shown = ["Ready" if ready[-1].get("status") == "True" else "NotReady"] if ready else ["Unknown"]
    if spec.get("unschedulable"):
        shown.append("SchedulingDisabled")
    info = status.get("nodeInfo") or {}
    return [
        name,
        ",".join(shown),
        ",".join(_node_roles(_meta(node).get("labels") or {})) or "<none>",
        age,
        info.get("kubeletVersion", ""),
        _node_address(status, "InternalIP"),
        _node_address(status, "ExternalIP"),
        info.get("osImage") or "<unknown>",
        info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


def _node_roles(labels: dict[str, str]) -> list[str]:
    """node-role.kubernetes.io/<role> keys and the kubernetes.io/role value (Go: unordered)."""
    roles = {
        key.removeprefix("node-role.kubernetes.io/")
        for key in labels
        if key.startswith("node-role.kubernetes.io/") and key != "node-role.kubernetes.io/"
    }
    if labels.get("kubernetes.io/role"):
        roles.add(labels["kubernetes.io/role"])
    return sorted(roles)


def _node_address(status: Obj, kind: str) -> str:
    found = [a.get("address", "") for a in status.get("addresses") or [] if a.get("type") == kind]
    return found[0] if found else "<none>"


# --- Service ----------------------------------------------------------------------------
def service_cells(service: Obj, now: datetime) -> Cells:
    spec = service.get("spec") or {}
    name, age = _name_and_age(service, now)
    cluster_ips = spec.get("clusterIPs") or []
    return [
        name,
        spec.get("type", ""),
        cluster_ips[0] if cluster_ips else "<none>",
        _external_ip(service),
        _service_ports(spec.get("ports") or []) or "<none>",
        age,
        _labels(spec.get("selector") or {}),
    ]


def _external_ip(service: Obj) -> str:
    spec = service.get("spec") or {}
    external = list(spec.get("externalIPs") or [])
    kind = spec.get("type", "")
    if kind in ("ClusterIP", "NodePort"):
        return ",".join(external) or "<none>"
    if kind == "ExternalName":
        return str(spec.get("externalName", ""))
    if kind != "LoadBalancer":
        return "<unknown>"
    ingress = ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    balancers = [i.get("ip") or i.get("hostname") for i in ingress]
    shown = list(dict.fromkeys(b for b in balancers if b)) + external
    return ",".join(shown) or "<pending>"


def _service_ports(ports: list[Obj]) -> str:
    shown = []
    for port in ports:
        node_port = f":{port['nodePort']}" if port.get("nodePort") else ""
        shown.append(f"{port.get('port', 0)}{node_port}/{port.get('protocol', 'TCP')}")
    return ",".join(shown)


def _labels(selector: dict[str, str]) -> str:
    """labels.FormatLabels: sorted key=value pairs, "<none>" when empty."""
    return ",".join(f"{k}={v}" for k, v in sorted(selector.items())) or "<none>"


# --- Event ------------------------------------------------------------------------------
def event_cells(event: Obj, now: datetime) -> Cells:
    first = since(event.get("firstTimestamp"), now)
    if parse_timestamp(event.get("firstTimestamp")) is None:
        first = since(event.get("eventTime"), now)
    last = first
    if parse_timestamp(event.get("lastTimestamp")) is not None:
        last = since(event.get("lastTimestamp"), now)
    count = event.get("count") or 1  # singleton events of the new API carry no count
    if event.get("series"):
        last = since(event["series"].get("lastObservedTime"), now)
        count = event["series"].get("count", 0)
    involved = event.get("involvedObject") or {}
    kind = str(involved.get("kind", "")).lower()
    source = event.get("source") or {}
    component = source.get("component") or event.get("reportingComponent") or ""
    host = source.get("host") or event.get("reportingInstance") or ""
    return [
        last,
        event.get("type", ""),
        event.get("reason", ""),
        f"{kind}/{involved['name']}" if involved.get("name") else kind,
        involved.get("fieldPath", ""),
        f"{component}, {host}" if host else component,
        str(event.get("message", "")).strip(),
        first,
        count,
        _meta(event).get("name", ""),
    ]


# --- the smaller kinds ------------------------------------------------------------------
def namespace_cells(namespace: Obj, now: datetime) -> Cells:
    name, age = _name_and_age(namespace, now)
    return [name, (namespace.get("status") or {}).get("phase", ""), age]


def config_map_cells(config_map: Obj, now: datetime) -> Cells:
    name, age = _name_and_age(config_map, now)
    entries = len(config_map.get("data") or {}) + len(config_map.get("binaryData") or {})
    return [name, entries, age]


def secret_cells(secret: Obj, now: datetime) -> Cells:
    name, age = _name_and_age(secret, now)
    return [name, secret.get("type", ""), len(secret.get("data") or {}), age]


def endpoints_cells(endpoints: Obj, now: datetime) -> Cells:
    """formatEndpoints: the first three host:port pairs, then "+ N more..."."""
    name, age = _name_and_age(endpoints, now)
    subsets = endpoints.get("subsets") or []
    if not subsets:
        return [name, "<none>", age]
    pairs = []
    for subset in subsets:
        hosts = [a.get("ip", "") for a in subset.get("addresses") or []]
        ports = subset.get("ports") or []
        if not ports:  # headless services may have no ports
            pairs.extend(hosts)
        for port in ports:
            pairs.extend(_host_port(host, port.get("port", 0)) for host in hosts)
    return [name, _first_three(pairs, empty=""), age]


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _first_three(items: list[str], empty: str) -> str:
    if len(items) > 3:
        return ",".join(items[:3]) + f" + {len(items) - 3} more..."
    return ",".join(items) or empty


def endpoint_slice_cells(slice_: Obj, now: datetime) -> Cells:
    name, age = _name_and_age(slice_, now)
    ports = [
        str(p["port"]) if p.get("port") is not None else p.get("name") or "*"
        for p in slice_.get("ports") or []
    ]
    addresses = [a for e in slice_.get("endpoints") or [] for a in e.get("addresses") or []]
    return [
        name,
        slice_.get("addressType", ""),
        _first_three(ports, empty="<unset>"),
        _first_three(addresses, empty="<unset>"),
        age,
    ]


def pod_disruption_budget_cells(budget: Obj, now: datetime) -> Cells:
    name, age = _name_and_age(budget, now)
    spec = budget.get("spec") or {}
    allowed = (budget.get("status") or {}).get("disruptionsAllowed", 0)
    return [
        name,
        _int_or_string(spec, "minAvailable"),
        _int_or_string(spec, "maxUnavailable"),
        allowed,
        age,
    ]


def _int_or_string(spec: Obj, key: str) -> str:
    return str(spec[key]) if spec.get(key) is not None else "N/A"


def lease_cells(lease: Obj, now: datetime) -> Cells:
    name, age = _name_and_age(lease, now)
    return [name, (lease.get("spec") or {}).get("holderIdentity") or "", age]


WIDE = 1  # priority of the columns kubectl shows only with -o wide
PRINTERS: dict[tuple[str, str], Printer] = {
    ("", "Pod"): Printer(
        (
            NAME,
            column("Ready", "The aggregate readiness state of this pod for accepting traffic."),
            column("Status", "The aggregate status of the containers in this pod."),
            column(
                "Restarts",
                "The number of times the containers in this pod have been "
                "restarted and when the last container in this pod has restarted.",
            ),
            AGE,
            column("IP", "podIP address allocated to the pod.", priority=WIDE),
            column(
                "Node", "NodeName indicates in which node this pod is scheduled.", priority=WIDE
            ),
            column("Nominated Node", priority=WIDE),
            column("Readiness Gates", priority=WIDE),
        ),
        pod_cells,
        pod_conditions,
    ),
    ("", "Node"): Printer(
        (
            NAME,
            column("Status", "The status of the node"),
            column("Roles", "The roles of the node"),
            AGE,
            column("Version", "Kubelet Version reported by the node."),
            column("Internal-IP", "List of addresses reachable to the node.", priority=WIDE),
            column("External-IP", "List of addresses reachable to the node.", priority=WIDE),
            column("OS-Image", priority=WIDE),
            column("Kernel-Version", priority=WIDE),
            column("Container-Runtime", priority=WIDE),
        ),
        node_cells,
    ),
    ("", "Service"): Printer(
        (
            NAME,
            column("Type", "type determines how the Service is exposed."),
            column("Cluster-IP"),
            column("External-IP"),
            column("Port(s)", "The list of ports that are exposed by this service."),
            AGE,
            column("Selector", priority=WIDE),
        ),
        service_cells,
    ),
    ("", "Namespace"): Printer(
        (NAME, column("Status", "The status of the namespace"), AGE), namespace_cells
    ),
    ("", "Event"): Printer(
        (
            column(
                "Last Seen",
                "The time at which the most recent occurrence of this event was recorded.",
            ),
            column(
                "Type",
                "Type of this event (Normal, Warning), new types could be added in the future",
            ),
            column("Reason"),
            column("Object"),
            column("Subobject", priority=WIDE),
            column("Source", priority=WIDE),
            column("Message", "A human-readable description of the status of this operation."),
            column(
                "First Seen",
                "The time at which the event was first recorded. (Time of "
                "server receipt is in TypeMeta.)",
                priority=WIDE,
            ),
            column("Count", "The number of times this event has occurred.", priority=WIDE),
            column("Name", NAME_DOC, priority=WIDE, format_="name"),
        ),
        event_cells,
    ),
    ("", "ConfigMap"): Printer(
        (NAME, column("Data", "Data contains the configuration data."), AGE), config_map_cells
    ),
    ("", "Secret"): Printer(
        (
            NAME,
            column("Type", "Used to facilitate programmatic handling of secret data."),
            column("Data", "Data contains the secret data."),
            AGE,
        ),
        secret_cells,
    ),
    ("", "Endpoints"): Printer(
        (NAME, column("Endpoints", "The set of all endpoints is the union of all subsets."), AGE),
        endpoints_cells,
    ),
    ("discovery.k8s.io", "EndpointSlice"): Printer(
        (
            NAME,
            column("AddressType"),
            column("Ports"),
            column("Endpoints", "endpoints is a list of unique endpoints in this slice."),
            AGE,
        ),
        endpoint_slice_cells,
    ),
    ("policy", "PodDisruptionBudget"): Printer(
        (
            NAME,
            column("Min Available", "The minimum number of pods that must be available."),
            column("Max Unavailable", "The maximum number of pods that may be unavailable."),
            column(
                "Allowed Disruptions",
                "Calculated number of pods that may be disrupted at this time.",
                type_="integer",
            ),
            AGE,
        ),
        pod_disruption_budget_cells,
    ),
    ("coordination.k8s.io", "Lease"): Printer((NAME, column("Holder"), AGE), lease_cells),
}


def printer_for(group: str, kind: str) -> Printer:
    """The kind's printer; CustomResourceDefinitions and unknown kinds get the default one."""
    return PRINTERS.get((group, kind), DEFAULT)
