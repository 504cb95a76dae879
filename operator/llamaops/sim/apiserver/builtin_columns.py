"""The columns kube-apiserver prints for built-in kinds, and which printer a kind gets.

Mirrors kubernetes' pkg/printers/internalversion/printers.go as the server runs it
(always wide: `priority: 1` marks the columns kubectl shows only with `-o wide`). The Pod
printer lives in pod_columns.py, Services' and endpoints' in network_columns.py,
ServiceAccounts', bindings' and Deployments' in access_columns.py, the shared
columns and ages in columns.py. Kinds without a printer (and CustomResourceDefinitions) get
the default convertor's Name and Created At.
"""

from datetime import datetime

from llamaops.sim.apiserver.access_columns import (
    BINDING_PRINTER,
    DEPLOYMENT_PRINTER,
    SERVICE_ACCOUNT_PRINTER,
)
from llamaops.sim.apiserver.columns import (
    AGE,
    DEFAULT,
    NAME,
    NAME_DOC,
    WIDE,
    Cells,
    Obj,
    Printer,
    column,
    meta_of,
    name_and_age,
    parse_timestamp,
    since,
)
from llamaops.sim.apiserver.network_columns import (
    ENDPOINT_SLICE_PRINTER,
    ENDPOINTS_PRINTER,
    SERVICE_PRINTER,
)
from llamaops.sim.apiserver.pod_columns import POD_PRINTER


# --- Node -------------------------------------------------------------------------------
def node_cells(node: Obj, now: datetime) -> Cells:
    spec, status = node.get("spec") or {}, node.get("status") or {}
    name, age = name_and_age(node, now)
    ready = [c for c in status.get("conditions") or [] if c.get("type") == "Ready"]
    shown = ["Ready" if ready[-1].get("status") == "True" else "NotReady"] if ready else ["Unknown"]
    if spec.get("unschedulable"):
        shown.append("SchedulingDisabled")
    info = status.get("nodeInfo") or {}
    return [
        name,
        ",".join(shown),
        ",".join(_node_roles(meta_of(node).get("labels") or {})) or "<none>",
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
        meta_of(event).get("name", ""),
    ]


# --- the smaller kinds ------------------------------------------------------------------
def namespace_cells(namespace: Obj, now: datetime) -> Cells:
    name, age = name_and_age(namespace, now)
    return [name, (namespace.get("status") or {}).get("phase", ""), age]


def config_map_cells(config_map: Obj, now: datetime) -> Cells:
    name, age = name_and_age(config_map, now)
    entries = len(config_map.get("data") or {}) + len(config_map.get("binaryData") or {})
    return [name, entries, age]


def secret_cells(secret: Obj, now: datetime) -> Cells:
    name, age = name_and_age(secret, now)
    return [name, secret.get("type", ""), len(secret.get("data") or {}), age]


def pod_disruption_budget_cells(budget: Obj, now: datetime) -> Cells:
    name, age = name_and_age(budget, now)
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
    name, age = name_and_age(lease, now)
    return [name, (lease.get("spec") or {}).get("holderIdentity") or "", age]


PRINTERS: dict[tuple[str, str], Printer] = {
    ("", "Pod"): POD_PRINTER,
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
    ("", "Service"): SERVICE_PRINTER,
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
    ("", "Endpoints"): ENDPOINTS_PRINTER,
    ("discovery.k8s.io", "EndpointSlice"): ENDPOINT_SLICE_PRINTER,
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
    ("", "ServiceAccount"): SERVICE_ACCOUNT_PRINTER,
    ("rbac.authorization.k8s.io", "RoleBinding"): BINDING_PRINTER,
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): BINDING_PRINTER,
    ("apps", "Deployment"): DEPLOYMENT_PRINTER,
}


def printer_for(group: str, kind: str) -> Printer:
    """The kind's printer; CustomResourceDefinitions and unknown kinds get the default one."""
    return PRINTERS.get((group, kind), DEFAULT)
