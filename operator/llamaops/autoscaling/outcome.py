"""What a decision leaves behind: `status.autoscaler`, and the Events that explain it. Pure.

- The status holds the last reading and decision, the reason, what capped it, when
  spec.replicas last changed, and the window (run-length coded, RFC 3339 times), so that a
  restarted operator continues with the same window.
- Events: `ScaledUp` / `ScaledDown` on every change ("Scaled up from 2 to 4: 37 requests
  waiting on 2 ready replicas, target 5 per replica"); `ScaleCapped` (Warning) once when a
  cap starts holding the replicas back without a change, not again while it lasts.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from llamaops.api.status import AutoscalerStatus, Recommendation
from llamaops.autoscaling.decision import Decision
from llamaops.autoscaling.window import Window, from_status, to_status

SCALED_UP = "ScaledUp"
SCALED_DOWN = "ScaledDown"
SCALE_CAPPED = "ScaleCapped"


@dataclass(frozen=True)
class AutoscalerEvent:
    type: str
    reason: str
    message: str


def window_of(status: AutoscalerStatus | None) -> Window:
    """The window kept in status (empty for a deployment never autoscaled)."""
    if status is None:
        return Window()
    return from_status(p.to_wire() for p in status.recommendations)


def status_after(
    previous: AutoscalerStatus | None, decision: Decision, now: datetime
) -> AutoscalerStatus:
    load = decision.load
    scaled = decision.direction is not None
    last_scale = _rfc3339(now) if scaled else (previous.last_scale_time if previous else None)
    return AutoscalerStatus(
        queue_depth=round(load.queue) if load else None,
        queue_per_replica=round(load.queue_per_replica, 2) if load else None,
        running_requests=round(load.running) if load else None,
        kv_cache_usage=round(load.kv_usage, 3) if load and load.kv_usage is not None else None,
        desired_replicas=decision.desired,
        reason=decision.reason,
        # A tick without a decision knows no better than the last one: the cap it said holds.
        capped_by=decision.capped_by if load else (previous.capped_by if previous else None),
        last_scale_time=last_scale,
        recommendations=[Recommendation.model_validate(p) for p in to_status(decision.window)],
    )


def events_of(previous: AutoscalerStatus | None, decision: Decision) -> tuple[AutoscalerEvent, ...]:
    if decision.direction == "up":
        message = f"Scaled up from {decision.previous} to {decision.desired}: {decision.reason}"
        return (AutoscalerEvent("Normal", SCALED_UP, message),)
    if decision.direction == "down":
        message = f"Scaled down from {decision.previous} to {decision.desired}: {decision.reason}"
        return (AutoscalerEvent("Normal", SCALED_DOWN, message),)
    was_capped = previous.capped_by if previous else None
    if decision.capped_by is not None and decision.capped_by != was_capped:
        message = f"Held at {decision.desired} replicas: {decision.reason}"
        return (AutoscalerEvent("Warning", SCALE_CAPPED, message),)
    return ()


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
