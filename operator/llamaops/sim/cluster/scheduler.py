"""kube-scheduler's loop: binds pending pods where they fit, says why where they do not.

Every change to pods or nodes wakes it; it then tries every pending pod in creation
order. An unschedulable pod gets PodScheduled=False, reason Unschedulable, with the real
message, and a FailedScheduling event when that message changes.
"""

from typing import Any

from llamaops.sim.apiserver import subresources
from llamaops.sim.clock import timestamp
from llamaops.sim.cluster.controller import Controller
from llamaops.sim.cluster.scheduling import schedule

Obj = dict[str, Any]
SCHEDULER = "default-scheduler"


class Scheduler(Controller):
    watches = ("pods", "nodes")
    name = "scheduler"

    def wants(self, plural: str, kind: str, obj: Obj) -> bool:
        return plural == "nodes" or kind != "MODIFIED" or _frees_or_needs_room(obj)

    def reconcile(self) -> None:
        self.schedule_pending()

    def schedule_pending(self) -> None:
        nodes = self.api.list("nodes")
        pods = list(self.api.list("pods"))
        pending = sorted(
            (p for p in pods if _pending(p)),
            key=lambda p: (
                -int(p["spec"].get("priority") or 0),
                p["metadata"]["creationTimestamp"],
                p["metadata"]["name"],
            ),
        )
        for pod in pending:
            decision = schedule(pod, nodes, pods)
            if decision.node is not None:
                self._bind(pod, decision.node)
                bound = {**pod, "spec": {**pod["spec"], "nodeName": decision.node}}
                pods = [p for p in pods if p is not pod] + [bound]  # count it for the next
            else:
                self._unschedulable(pod, decision.message)

    def _bind(self, pod: Obj, node: str) -> None:
        current = self.api.get("pods", pod["metadata"]["namespace"], pod["metadata"]["name"])
        if current is None or current["spec"].get("nodeName"):
            return
        resource = self.api.resource("pods")
        subresources.bind(self.api.server.api, resource, current, {"target": {"name": node}})
        meta = pod["metadata"]
        self.api.event(
            current,
            "Scheduled",
            f"Successfully assigned {meta['namespace']}/{meta['name']} to {node}",
            component=SCHEDULER,
        )

    def _unschedulable(self, pod: Obj, message: str) -> None:
        conditions = (pod.get("status") or {}).get("conditions") or []
        before = next((c for c in conditions if c.get("type") == "PodScheduled"), None)
        if before is not None and before.get("message") == message:
            return
        now = timestamp(self.api.clock.now())

        def mark(obj: Obj) -> None:
            status = obj.setdefault("status", {})
            kept = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
            kept.append(
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "reason": "Unschedulable",
                    "message": message,
                    "lastProbeTime": None,
                    "lastTransitionTime": now,
                }
            )
            status["conditions"] = kept

        self.api.update("pods", pod, mark, status=True)
        self.api.event(pod, "FailedScheduling", message, kind="Warning", component=SCHEDULER)


def _frees_or_needs_room(pod: Obj) -> bool:
    """A pod change that can alter a scheduling decision: still pending, or just finished."""
    return _pending(pod) or (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def _pending(pod: Obj) -> bool:
    spec, meta = pod.get("spec") or {}, pod["metadata"]
    return (
        not spec.get("nodeName")
        and not meta.get("deletionTimestamp")
        and spec.get("schedulerName", SCHEDULER) == SCHEDULER
        and (pod.get("status") or {}).get("phase", "Pending") == "Pending"
    )
