"""Conditions after the Kubernetes API conventions, and the events their transitions make.

A condition's `lastTransitionTime` moves only when its status changes, so an unchanged
world gives an unchanged status and the report writes nothing. A transition's event fires
when the status or the reason changes; changed numbers in the message alone are no event.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from llamaops.api.status import Condition
from llamaops.reconcile import reasons
from llamaops.reconcile.plan_types import EventRecord

ConditionStatus = Literal["True", "False", "Unknown"]

# Transitions that make no event: Progressing is told by the actions' own events, and a
# condition's first False on a new deployment is no news. These reasons are already told
# by another event of the same plan (the deletion of a failed pod, Scheduled's InvalidSpec).
EVENTFUL_TYPES = (reasons.SCHEDULED, reasons.AVAILABLE, reasons.DEGRADED)
QUIET_FIRST = {reasons.AVAILABLE: "False", reasons.DEGRADED: "False"}
TOLD_ELSEWHERE = {
    (reasons.DEGRADED, reasons.REPLICA_FAILED),
    (reasons.DEGRADED, reasons.INVALID_SPEC),
}


@dataclass(frozen=True)
class Facts:
    """What a condition says, before it gets its times."""

    type: str
    status: bool
    reason: str
    message: str

    @property
    def wire_status(self) -> ConditionStatus:
        return "True" if self.status else "False"


def timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC, to the second, as the API server writes times."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def settle(
    facts: Iterable[Facts],
    previous: Sequence[Condition],
    now: datetime,
    generation: int | None,
) -> list[Condition]:
    """Conditions for `facts`, keeping each one's lastTransitionTime while its status holds."""
    before = {condition.type: condition for condition in previous}
    settled = []
    for fact in facts:
        old = before.get(fact.type)
        unchanged = old is not None and old.status == fact.wire_status
        settled.append(
            Condition(
                type=fact.type,
                status=fact.wire_status,
                reason=fact.reason,
                message=fact.message,
                last_transition_time=old.last_transition_time
                if old is not None and unchanged
                else timestamp(now),
                observed_generation=generation,
            )
        )
    return settled


def transition_events(
    previous: Sequence[Condition], current: Sequence[Condition]
) -> tuple[EventRecord, ...]:
    """One event per condition whose status or reason changed (see EVENTFUL_TYPES)."""
    before = {condition.type: condition for condition in previous}
    events = []
    for condition in current:
        if condition.type not in EVENTFUL_TYPES:
            continue
        if (condition.type, condition.reason) in TOLD_ELSEWHERE:
            continue
        old = before.get(condition.type)
        if old is None and QUIET_FIRST.get(condition.type) == condition.status:
            continue
        if old is not None and (old.status, old.reason) == (condition.status, condition.reason):
            continue
        events.append(
            EventRecord(
                reason=condition.reason,
                message=f"{condition.type} is {condition.status}: {condition.message}",
                type=reasons.event_type(condition.reason),
            )
        )
    return tuple(events)
