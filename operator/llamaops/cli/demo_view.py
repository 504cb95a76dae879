"""The demo's live view: the deployment, its replicas and the traffic, as a few lines.

The elapsed time is the wall's; the traffic's figures are cluster time (the summary's).
"""

from typing import Any

from llamaops.sim.traffic.summary import Summary

Obj = dict[str, Any]


def view(
    elapsed: float,
    deployment: Obj | None,
    pods: list[Obj],
    summary: Summary,
    kubeconfig: str,
    *,
    prometheus: str | None = None,
) -> list[str]:
    status = (deployment or {}).get("status") or {}
    meta = (deployment or {}).get("metadata") or {}
    placement = status.get("placement") or {}
    where = (
        f"TP {placement.get('tensorParallelSize')} on {placement.get('gpuProduct')}"
        if placement
        else "sizing..."
    )
    lines = [
        f"llamaops demo  {elapsed:5.0f} s   kubectl --kubeconfig {kubeconfig} get llama,pods",
        *([f"               Prometheus {prometheus}/graph"] if prometheus else []),
        "",
        f"LlamaDeployment {meta.get('name', '?')}: {where}; "
        f"ready {status.get('readyReplicas') or 0}/{status.get('desiredReplicas') or '?'}",
    ]
    lines += _autoscaler(status.get("autoscaler"))
    for condition in status.get("conditions") or []:
        lines.append(
            f"  {condition['type']:<12} {condition['status']:<6} "
            f"{condition.get('reason', '')}: {condition.get('message', '')}"[:150]
        )
    lines += ["", f"  {'POD':<34} {'NODE':<10} {'STATE':<18} SERVED"]
    served = summary.pods
    for pod in sorted(pods, key=lambda p: p["metadata"]["name"]):
        name = pod["metadata"]["name"]
        lines.append(
            f"  {name:<34} {pod['spec'].get('nodeName') or '-':<10} "
            f"{_state(pod):<18} {served.get(name, 0)}"
        )
    ttft = summary.ttft.p50 if summary.ttft else None
    lines += [
        "",
        f"requests: {summary.ok} ok, {summary.failed} failed"
        + (f", p50 time to first token {ttft * 1000:.0f} ms of cluster time" if ttft else ""),
    ]
    return lines


def _autoscaler(autoscaler: Obj | None) -> list[str]:
    """The autoscaler's reading and its last decision, when autoscaling is on."""
    if not autoscaler:
        return []
    reading = (
        f"queue {autoscaler['queueDepth']} ({autoscaler.get('queuePerReplica', 0):g} per ready "
        f"replica), running {autoscaler.get('runningRequests', 0)}"
        if autoscaler.get("queueDepth") is not None
        else "no reading yet"
    )
    scaled = autoscaler.get("lastScaleTime")
    return [
        f"  Autoscaler   {reading}; desired {autoscaler.get('desiredReplicas', '?')}"
        + (f", last scaled at {scaled}" if scaled else ""),
        f"    {autoscaler.get('reason', '')}"[:150],
    ]


def _state(pod: Obj) -> str:
    meta, status = pod["metadata"], pod.get("status") or {}
    if meta.get("deletionTimestamp"):
        return "Terminating"
    if (meta.get("annotations") or {}).get("serving.llamaops.io/warmup") == "pending":
        return "Warming up" if _ready(status) else "Loading model"
    if (meta.get("labels") or {}).get("serving.llamaops.io/serving") == "false":
        return "Draining"
    if _ready(status):
        return "Ready"
    if not pod["spec"].get("nodeName"):
        return "Pending"
    waiting = [
        ((c.get("state") or {}).get("waiting") or {}).get("reason")
        for c in status.get("containerStatuses") or []
    ]
    return next((w for w in waiting if w), "Loading model")


def _ready(status: Obj) -> bool:
    return any(
        c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions") or []
    )
