"""What a decision leaves behind: status.autoscaler and the Events that explain it."""

from datetime import UTC, datetime

import pytest

from llamaops.api.status import AutoscalerStatus
from llamaops.autoscaling.decision import Decision, Load
from llamaops.autoscaling.outcome import events_of, status_after, window_of
from llamaops.autoscaling.window import Window

NOW = datetime(2026, 12, 4, 14, 0, 30, tzinfo=UTC)
T = NOW.timestamp()
LOAD = Load(ready=2, read=2, queue=37, running=16, capacity=8, kv_usage=0.4567)


def a_decision(previous: int, desired: int, capped: str | None = None, why: str = "x") -> Decision:
    window = Window(((T - 30, 4), (T, desired)))
    return Decision(previous, desired, why, window, capped, desired, LOAD)


def test_status_holds_the_reading_the_decision_and_the_window() -> None:
    status = status_after(None, a_decision(2, 5, why="37 requests waiting"), NOW)

    assert status.to_wire() == {
        "queueDepth": 37,
        "queuePerReplica": 18.5,
        "runningRequests": 16,
        "kvCacheUsage": 0.457,
        "desiredReplicas": 5,
        "reason": "37 requests waiting",
        "lastScaleTime": "2026-12-04T14:00:30Z",
        "recommendations": [
            {"time": "2026-12-04T14:00:00Z", "replicas": 4},
            {"time": "2026-12-04T14:00:30Z", "replicas": 5},
        ],
    }


def test_the_window_read_back_from_status_is_the_window_written() -> None:
    decision = a_decision(2, 5)

    assert window_of(status_after(None, decision, NOW)) == decision.window
    assert window_of(None) == Window()


def test_last_scale_time_moves_only_when_the_replicas_change() -> None:
    before = AutoscalerStatus(last_scale_time="2026-12-04T13:00:00Z")

    assert status_after(before, a_decision(3, 3), NOW).last_scale_time == "2026-12-04T13:00:00Z"
    assert status_after(before, a_decision(3, 2), NOW).last_scale_time == "2026-12-04T14:00:30Z"


@pytest.mark.parametrize(
    ("before", "decision", "expected"),
    [
        pytest.param(
            None,
            a_decision(2, 4, why="37 requests waiting on 2 ready replicas, target 5 per replica"),
            [
                (
                    "Normal",
                    "ScaledUp",
                    "Scaled up from 2 to 4: 37 requests waiting on 2 ready replicas, "
                    "target 5 per replica",
                )
            ],
            id="a scale-up says from, to and why",
        ),
        pytest.param(
            None,
            a_decision(4, 3, why="8 running fit 3"),
            [("Normal", "ScaledDown", "Scaled down from 4 to 3: 8 running fit 3")],
            id="a scale-down says from, to and why",
        ),
        pytest.param(
            AutoscalerStatus(),
            a_decision(5, 5, "gpus", "capped at 5 by free GPUs (7 wanted)"),
            [
                (
                    "Warning",
                    "ScaleCapped",
                    "Held at 5 replicas: capped at 5 by free GPUs (7 wanted)",
                )
            ],
            id="a cap that starts holding the replicas back is one Warning",
        ),
        pytest.param(
            AutoscalerStatus(capped_by="gpus"),
            a_decision(5, 5, "gpus", "capped at 5 by free GPUs (7 wanted)"),
            [],
            id="no second Event while the cap lasts",
        ),
        pytest.param(None, a_decision(3, 3), [], id="no change, no cap: no Event"),
    ],
)
def test_events(
    before: AutoscalerStatus | None, decision: Decision, expected: list[tuple[str, str, str]]
) -> None:
    assert [(e.type, e.reason, e.message) for e in events_of(before, decision)] == expected


def test_a_tick_without_a_decision_keeps_the_cap_so_the_next_capped_tick_warns_no_more() -> None:
    capped = a_decision(5, 5, capped="gpus")
    first = status_after(None, capped, NOW)
    blind = Decision(5, 5, "metrics of 3 of 5 ready replicas unknown; no decision", Window())

    after_blind = status_after(first, blind, NOW)

    assert after_blind.capped_by == "gpus"
    assert events_of(after_blind, capped) == ()
