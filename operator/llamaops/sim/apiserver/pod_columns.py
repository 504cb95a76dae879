"""The columns kube-apiserver prints for Pods: printPod's READY, STATUS and RESTARTS.

Mirrors kubernetes' pkg/printers/internalversion/printers.go as the server runs it
(always wide: `priority: 1` marks the columns kubectl shows only with `-o wide`).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from llamaops.sim.apiserver.columns import (
    AGE,
    NAME,
    WIDE,
    Cells,
    Obj,
    Printer,
    aware,
    column,
    human_duration,
    meta_of,
    name_and_age,
    parse_timestamp,
)


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
    name, age = name_and_age(pod, now)
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
    if meta_of(pod).get("deletionTimestamp"):
        if status.get("reason") == "NodeLost":
            summary.reason = "Unknown"
        elif status.get("phase") not in ("Succeeded", "Failed"):
            summary.reason = "Terminating"
    restarts = str(summary.restarts)
    if summary.restarts and summary.last_restart is not None:
        ago = human_duration(aware(now) - summary.last_restart)
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


POD_PRINTER = Printer(
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
        column("Node", "NodeName indicates in which node this pod is scheduled.", priority=WIDE),
        column("Nominated Node", priority=WIDE),
        column("Readiness Gates", priority=WIDE),
    ),
    pod_cells,
    pod_conditions,
)
