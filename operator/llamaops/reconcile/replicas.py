"""Which replica pods count, which are leaving, and in what order extras go: pure facts
about `ReplicaPod`s that the planner and the status both read.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from llamaops.reconcile import reasons
from llamaops.reconcile.observed import ReplicaPod


@dataclass(frozen=True)
class ReplicaGroups:
    """Every observed pod, in exactly one group (each sorted by name)."""

    current: tuple[ReplicaPod, ...]  # count toward spec.replicas
    draining: tuple[ReplicaPod, ...]  # out of the Service, finishing their requests
    failed: tuple[ReplicaPod, ...]  # failed or lost, not yet deleted
    terminating: tuple[ReplicaPod, ...]  # deleted, still shutting down

    @property
    def existing(self) -> tuple[ReplicaPod, ...]:
        """Pods not being deleted: what status.replicas counts."""
        return self.current + self.draining + self.failed

    @property
    def ready(self) -> tuple[ReplicaPod, ...]:
        """Replicas ready to serve: ready, and not on their way out."""
        return tuple(pod for pod in self.current if pod.ready)

    @property
    def unscheduled(self) -> tuple[ReplicaPod, ...]:
        """Replicas waiting for a node: they hold no GPU yet, but will take free ones."""
        return tuple(pod for pod in self.current if not pod.scheduled)

    @property
    def loading(self) -> tuple[ReplicaPod, ...]:
        """Replicas on a node, not ready yet."""
        return tuple(pod for pod in self.current if pod.scheduled and not pod.ready)


def group_replicas(pods: Iterable[ReplicaPod]) -> ReplicaGroups:
    groups: dict[str, list[ReplicaPod]] = {"current": [], "draining": [], "failed": []}
    terminating = []
    for pod in sorted(pods, key=lambda p: p.name):
        if pod.terminating:
            terminating.append(pod)
        elif pod.failed:
            groups["failed"].append(pod)
        elif is_draining(pod):
            groups["draining"].append(pod)
        else:
            groups["current"].append(pod)
    return ReplicaGroups(
        current=tuple(groups["current"]),
        draining=tuple(groups["draining"]),
        failed=tuple(groups["failed"]),
        terminating=tuple(terminating),
    )


def is_draining(pod: ReplicaPod) -> bool:
    """A drain was started, or the pod is ready yet out of the Service. A pod that is not
    ready and not serving is still loading (a new replica), not draining; nor is a
    rollout replica that waits for (or failed) its warm-up before it joins the Service."""
    if pod.drain_started is not None:
        return True
    return pod.ready and not pod.serving and pod.warmup in (None, "passed")


def drain_order(pod: ReplicaPod) -> tuple[int, bool, bool, float, str]:
    """Least loaded first: fewest requests in flight (unknown counts as none), then not
    ready before ready, unscheduled before scheduled, then the youngest."""
    return (pod.in_flight or 0, pod.ready, pod.scheduled, -pod.created.timestamp(), pod.name)


def drain_candidates(current: Iterable[ReplicaPod], count: int) -> tuple[ReplicaPod, ...]:
    """The `count` replicas to remove on a scale-down."""
    return tuple(sorted(current, key=drain_order)[: max(0, count)])


def drain_finished(pod: ReplicaPod, now: datetime, timeout_seconds: int) -> str | None:
    """`Drained` or `DrainTimedOut` when a draining pod may be deleted, None to wait.

    Drained: no request in flight, or none could be (not ready, and no metrics to read).
    A ready pod whose metrics cannot be read is waited for until the timeout.
    """
    if pod.in_flight == 0 or (pod.in_flight is None and not pod.ready):
        return reasons.DRAINED
    if pod.drain_started is not None and drain_seconds(pod, now) >= timeout_seconds:
        return reasons.DRAIN_TIMED_OUT
    return None


def drain_outcome(pod: ReplicaPod, finished: str, now: datetime, timeout_seconds: int) -> str:
    """Why a drained pod is deleted, for its action and event."""
    if finished == reasons.DRAINED:
        return f"drained after {round(drain_seconds(pod, now))} s, no request in flight"
    return f"drain timed out after {timeout_seconds} s with {in_flight(pod)} in flight"


def in_flight(pod: ReplicaPod) -> str:
    """Such as "3 requests", "1 request", or "unknown requests" when no metrics were read."""
    if pod.in_flight is None:
        return "unknown requests"
    return counted(pod.in_flight, "request")


def counted(count: int, noun: str) -> str:
    """Such as "1 replica" or "2 replicas"."""
    return f"{count} {noun}" + ("" if count == 1 else "s")


def drain_seconds(pod: ReplicaPod, now: datetime) -> float:
    """How long the pod has been draining (0 when its start is unknown)."""
    if pod.drain_started is None:
        return 0.0
    return (now - pod.drain_started).total_seconds()


def loading_past(pod: ReplicaPod, now: datetime, timeout_seconds: int) -> bool:
    """A replica still not ready `timeout_seconds` after it was created."""
    return not pod.ready and (now - pod.created).total_seconds() >= timeout_seconds


def stalled(pod: ReplicaPod, now: datetime, timeout_seconds: int) -> bool:
    """A replica on a node that is not coming up: crash-looping, or not ready
    `timeout_seconds` after it was created."""
    return (
        pod.scheduled
        and not pod.ready
        and (pod.crash_looping or loading_past(pod, now, timeout_seconds))
    )
