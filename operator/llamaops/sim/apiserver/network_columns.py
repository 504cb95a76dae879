"""The columns kube-apiserver prints for Services and their endpoints.

Mirrors printService, printEndpoints and printEndpointSlice in kubernetes'
pkg/printers/internalversion/printers.go (always wide: `priority: 1` marks the columns
kubectl shows only with `-o wide`).
"""

from datetime import datetime

from llamaops.sim.apiserver.columns import (
    AGE,
    NAME,
    WIDE,
    Cells,
    Obj,
    Printer,
    column,
    name_and_age,
)


# --- Service ----------------------------------------------------------------------------
def service_cells(service: Obj, now: datetime) -> Cells:
    spec = service.get("spec") or {}
    name, age = name_and_age(service, now)
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


# --- Endpoints, EndpointSlice -----------------------------------------------------------
def endpoints_cells(endpoints: Obj, now: datetime) -> Cells:
    """formatEndpoints: the first three host:port pairs, then "+ N more..."."""
    name, age = name_and_age(endpoints, now)
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
    name, age = name_and_age(slice_, now)
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


SERVICE_PRINTER = Printer(
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
)
ENDPOINTS_PRINTER = Printer(
    (NAME, column("Endpoints", "The set of all endpoints is the union of all subsets."), AGE),
    endpoints_cells,
)
ENDPOINT_SLICE_PRINTER = Printer(
    (
        NAME,
        column("AddressType"),
        column("Ports"),
        column("Endpoints", "endpoints is a list of unique endpoints in this slice."),
        AGE,
    ),
    endpoint_slice_cells,
)
