"""Prometheus scrape configs from ServiceMonitors and PodMonitors, for the local cluster.

On a real cluster the Prometheus Operator turns each monitor endpoint into a scrape job with
`kubernetes_sd_configs` and relabelings; here the same jobs discover through the local
cluster's `http_sd_configs` (`sim/cluster/prometheus_sd.py`), which label targets as
kubernetes_sd does, so the relabelings are the Operator's own (`pkg/prometheus/promcfg.go`):

1. `job` kept in `__tmp_prometheus_job_name`;
2. a `keep` per selector label, on `__meta_kubernetes_{service,pod}_label_<name>` and
   `..._labelpresent_<name>` (matchExpressions: keep/drop likewise);
3. a `keep` on the endpoint's port name (or number);
4. the target labels `namespace`, `service`, `pod`, `container` (`node` or `pod` from an
   endpoint's targetRef), a `drop` of Failed and Succeeded pods, `(pod)targetLabels`;
5. `job`: the Service's name (ServiceMonitor) or `<namespace>/<name>` (PodMonitor), or the
   `jobLabel`; `endpoint`: the port's name;
6. the monitor's own `relabelings`, in Prometheus' spelling (sourceLabels -> source_labels).

Namespaces (`namespaceSelector.any`: all; `matchNames`: those; neither: the monitor's own)
go to the discovery as `?namespace=`. Left out: sharding (one shard keeps every target),
TLS, authorization and the other HTTP settings, scrape classes, limits.
"""

from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlencode

from llamaops.sim.cluster.prometheus_sd import META, sanitize

Obj = dict[str, Any]
# The Operator's RelabelConfig fields, in the order it writes them, as Prometheus spells them.
RELABEL_FIELDS = {
    **{"sourceLabels": "source_labels", "separator": "separator", "targetLabel": "target_label"},
    **{"regex": "regex", "modulus": "modulus", "replacement": "replacement", "action": "action"},
}
ENDPOINT_SETTINGS = {
    **{"interval": "scrape_interval", "scrapeTimeout": "scrape_timeout", "path": "metrics_path"},
    **{"params": "params", "scheme": "scheme"},
}


def prometheus_config(
    monitors: Iterable[Obj],
    discovery_url: str,
    *,
    rule_files: Sequence[str] = (),
    scrape_interval: str = "30s",
    evaluation_interval: str = "30s",
    refresh_interval: str = "5s",
) -> Obj:
    """A whole Prometheus configuration: the monitors' jobs, and `rule_files`."""
    config: Obj = {
        "global": {"scrape_interval": scrape_interval, "evaluation_interval": evaluation_interval},
        "scrape_configs": scrape_configs(monitors, discovery_url, refresh_interval),
    }
    if rule_files:
        config["rule_files"] = list(rule_files)
    return config


def scrape_configs(
    monitors: Iterable[Obj], discovery_url: str, refresh_interval: str = "5s"
) -> list[Obj]:
    """One job per endpoint of each ServiceMonitor and PodMonitor (other kinds ignored)."""
    jobs = []
    for monitor in monitors:
        spec = monitor.get("spec") or {}
        if monitor.get("kind") == "ServiceMonitor":
            found = discovery(discovery_url, "endpoints", namespaces(monitor), refresh_interval)
            for index, endpoint in enumerate(spec.get("endpoints") or []):
                jobs.append(service_monitor_job(monitor, index, endpoint, found))
        elif monitor.get("kind") == "PodMonitor":
            found = discovery(discovery_url, "pod", namespaces(monitor), refresh_interval)
            for index, endpoint in enumerate(spec.get("podMetricsEndpoints") or []):
                jobs.append(pod_monitor_job(monitor, index, endpoint, found))
    return jobs


def service_monitor_job(monitor: Obj, index: int, endpoint: Obj, sd_config: Obj) -> Obj:
    """The scrape job of one ServiceMonitor endpoint, discovering with `sd_config`."""
    meta, spec = monitor["metadata"], monitor.get("spec") or {}
    relabelings = [
        *job_name_kept(),
        *selector_relabelings(spec.get("selector") or {}, "service"),
        *port_relabelings(endpoint, f"{META}endpoint_port_name", by_number=False),
        _from_target_ref("Node", "node"),
        _from_target_ref("Pod", "pod"),
        _copy(f"{META}namespace", "namespace"),
        _copy(f"{META}service_name", "service"),
        _copy(f"{META}pod_name", "pod"),
        _copy(f"{META}pod_container_name", "container"),
        *running_filter(endpoint),
        *[_label_from(f"{META}service_label_", name) for name in spec.get("targetLabels") or []],
        *[_label_from(f"{META}pod_label_", name) for name in spec.get("podTargetLabels") or []],
        {**_copy(f"{META}service_name", "job"), "replacement": "${1}"},
        *_job_label(spec, f"{META}service_label_"),
        *endpoint_label(endpoint),
        *relabel_configs(endpoint.get("relabelings") or []),
    ]
    name = f"serviceMonitor/{meta['namespace']}/{meta['name']}/{index}"
    return _job(name, endpoint, sd_config, relabelings)


def pod_monitor_job(monitor: Obj, index: int, endpoint: Obj, sd_config: Obj) -> Obj:
    """The scrape job of one PodMonitor endpoint, discovering with `sd_config`."""
    meta, spec = monitor["metadata"], monitor.get("spec") or {}
    relabelings = [
        *job_name_kept(),
        *running_filter(endpoint),
        *selector_relabelings(spec.get("selector") or {}, "pod"),
        *port_relabelings(endpoint, f"{META}pod_container_port_name", by_number=True),
        _copy(f"{META}namespace", "namespace"),
        _copy(f"{META}pod_container_name", "container"),
        _copy(f"{META}pod_name", "pod"),
        *[_label_from(f"{META}pod_label_", name) for name in spec.get("podTargetLabels") or []],
        {"target_label": "job", "replacement": f"{meta['namespace']}/{meta['name']}"},
        *_job_label(spec, f"{META}pod_label_"),
        *endpoint_label(endpoint),
        *relabel_configs(endpoint.get("relabelings") or []),
    ]
    name = f"podMonitor/{meta['namespace']}/{meta['name']}/{index}"
    return _job(name, endpoint, sd_config, relabelings)


def namespaces(monitor: Obj) -> list[str]:
    """The namespaces a monitor selects; empty for all."""
    selector = (monitor.get("spec") or {}).get("namespaceSelector") or {}
    if selector.get("any"):
        return []
    return list(selector.get("matchNames") or [monitor["metadata"]["namespace"]])


def discovery(url: str, role: str, names: Sequence[str], refresh_interval: str) -> Obj:
    query = f"?{urlencode({'namespace': list(names)}, doseq=True)}" if names else ""
    return {"url": f"{url}/{role}{query}", "refresh_interval": refresh_interval}


def job_name_kept() -> list[Obj]:
    return [{"source_labels": ["job"], "target_label": "__tmp_prometheus_job_name"}]


def selector_relabelings(selector: Obj, role: str) -> list[Obj]:
    """A label selector as keep/drop rules on the role's label meta labels."""
    label, present = f"{META}{role}_label_", f"{META}{role}_labelpresent_"
    rules = [
        _rule("keep", [label + sanitize(key), present + sanitize(key)], f"({value});true")
        for key, value in sorted((selector.get("matchLabels") or {}).items())
    ]
    for expression in selector.get("matchExpressions") or []:
        key, operator = sanitize(expression["key"]), expression["operator"]
        action = "keep" if operator in ("In", "Exists") else "drop"
        if operator in ("In", "NotIn"):
            values = "|".join(expression.get("values") or [])
            rules.append(_rule(action, [label + key, present + key], f"({values});true"))
        else:
            rules.append(_rule(action, [present + key], "true"))
    return rules


def port_relabelings(endpoint: Obj, port_name_label: str, *, by_number: bool) -> list[Obj]:
    """Keep the endpoint's port: by `port` name, else (PodMonitor) `portNumber`, else the
    deprecated `targetPort`, a container port's name or number."""
    if endpoint.get("port"):
        return [_keep(port_name_label, str(endpoint["port"]))]
    if by_number and endpoint.get("portNumber"):
        return [_keep(f"{META}pod_container_port_number", str(endpoint["portNumber"]))]
    target = endpoint.get("targetPort")
    if isinstance(target, str) and target:
        return [_keep(f"{META}pod_container_port_name", target)]
    if target:
        return [_keep(f"{META}pod_container_port_number", str(target))]
    return []


def running_filter(endpoint: Obj) -> list[Obj]:
    if endpoint.get("filterRunning", True) is False:
        return []
    return [_rule("drop", [f"{META}pod_phase"], "(Failed|Succeeded)")]


def endpoint_label(endpoint: Obj) -> list[Obj]:
    port = endpoint.get("port") or endpoint.get("targetPort")
    return [{"target_label": "endpoint", "replacement": str(port)}] if port else []


def relabel_configs(relabelings: Iterable[Obj]) -> list[Obj]:
    """A monitor's `relabelings` in Prometheus' own spelling (action in lower case)."""
    found = [_renamed(relabeling, RELABEL_FIELDS) for relabeling in relabelings]
    for rule in found:
        if "action" in rule:
            rule["action"] = str(rule["action"]).lower()
    return found


def _job(name: str, endpoint: Obj, sd_config: Obj, relabelings: list[Obj]) -> Obj:
    job: Obj = {"job_name": name, "honor_labels": bool(endpoint.get("honorLabels", False))}
    if "honorTimestamps" in endpoint:
        job["honor_timestamps"] = bool(endpoint["honorTimestamps"])
    job["http_sd_configs"] = [sd_config]
    job.update(_renamed(endpoint, ENDPOINT_SETTINGS))
    job["relabel_configs"] = relabelings
    if endpoint.get("metricRelabelings"):
        job["metric_relabel_configs"] = relabel_configs(endpoint["metricRelabelings"])
    return job


def _renamed(source: Obj, names: dict[str, str]) -> Obj:
    return {ours: source[theirs] for theirs, ours in names.items() if theirs in source}


def _from_target_ref(kind: str, target: str) -> Obj:
    """An endpoint address's targetRef of `kind` names the target's `target` label."""
    return {
        "source_labels": [
            f"{META}endpoint_address_target_kind",
            f"{META}endpoint_address_target_name",
        ],
        "separator": ";",
        "regex": f"{kind};(.*)",
        "replacement": "${1}",
        "target_label": target,
    }


def _copy(source: str, target: str) -> Obj:
    return {"source_labels": [source], "target_label": target}


def _keep(label: str, regex: str) -> Obj:
    return _rule("keep", [label], regex)


def _rule(action: str, source_labels: list[str], regex: str) -> Obj:
    return {"action": action, "source_labels": source_labels, "regex": regex}


def _label_from(prefix: str, name: str) -> Obj:
    """`targetLabels`/`podTargetLabels`: an object's label onto the target, when set."""
    return {
        "source_labels": [f"{prefix}{sanitize(name)}"],
        "target_label": sanitize(name),
        "regex": "(.+)",
        "replacement": "${1}",
    }


def _job_label(spec: Obj, prefix: str) -> list[Obj]:
    if not spec.get("jobLabel"):
        return []
    return [{**_label_from(prefix, spec["jobLabel"]), "target_label": "job"}]
