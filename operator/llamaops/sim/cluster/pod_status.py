"""The status a kubelet writes for a pod, built from what its containers are doing."""

from typing import Any

Obj = dict[str, Any]


def waiting(reason: str, message: str = "") -> Obj:
    state: Obj = {"reason": reason}
    if message:
        state["message"] = message
    return {"waiting": state}


def running(started_at: str) -> Obj:
    return {"running": {"startedAt": started_at}}


def terminated(code: int, started_at: str | None, finished_at: str, reason: str = "") -> Obj:
    why = reason or ("Completed" if code == 0 else "Error")
    state: Obj = {"exitCode": code, "reason": why, "finishedAt": finished_at, "containerID": ""}
    if started_at:
        state["startedAt"] = started_at
    return {"terminated": state}


def container_status(
    container: Obj,
    state: Obj,
    *,
    ready: bool,
    restarts: int,
    last_state: Obj | None = None,
    started: bool = False,
) -> Obj:
    image = container.get("image", "")
    return {
        "name": container["name"],
        "image": image,
        "imageID": f"sim://{image}",
        "containerID": f"sim://{container['name']}",
        "ready": ready,
        "started": started,
        "restartCount": restarts,
        "state": state,
        "lastState": last_state or {},
    }


def conditions(
    now: str, scheduled: bool, initialized: bool, ready: bool, previous: list[Obj]
) -> list[Obj]:
    """PodScheduled, Initialized, ContainersReady and Ready, keeping transition times."""
    before = {c["type"]: c for c in previous}
    wanted = {
        "PodScheduled": scheduled,
        "Initialized": initialized,
        "ContainersReady": ready,
        "Ready": ready,
    }
    out = []
    for kind, value in wanted.items():
        status = "True" if value else "False"
        old = before.get(kind)
        since = old.get("lastTransitionTime") if old and old.get("status") == status else None
        condition: Obj = {
            "type": kind,
            "status": status,
            "lastProbeTime": None,
            "lastTransitionTime": since or now,
        }
        if not value and kind in ("ContainersReady", "Ready"):
            condition["reason"] = "ContainersNotReady"
        out.append(condition)
    return out
