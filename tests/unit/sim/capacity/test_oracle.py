"""The oracle on a toy case: what one replica carries, the replicas each minute needs,
and a schedule that starts them a load time early."""

from llamaops.sim.capacity.oracle import (
    Bounds,
    need,
    oracle_schedule,
    replica_capacity,
    static_peak,
)
from llamaops.sim.capacity.slo import Slo
from llamaops.sim.capacity.traces import Trace
from tests.unit.sim.capacity.builders import a_toy_engine


def a_trace(per_minute: list[int]) -> Trace:
    trace = Trace()
    for minute, count in enumerate(per_minute):
        for index in range(count):
            trace.append(minute * 60 + index * 60 / count, 100, 10)
    return trace


def test_need_is_the_rate_over_what_a_replica_carries_within_bounds() -> None:
    trace = a_trace([60, 300, 600, 0])  # 1, 5 and 10 requests/s, then none

    assert need(trace, 240, capacity=2.0, bounds=Bounds(1, 4)) == [1, 3, 4, 1]


def test_the_schedule_asks_for_replicas_a_load_time_before_they_are_needed() -> None:
    schedule = oracle_schedule([1, 1, 1, 3, 3, 1, 1], load_seconds=90)  # 2 bins ahead

    assert [schedule.at(b * 60) for b in range(7)] == [1, 3, 3, 3, 3, 1, 1]
    assert schedule.initial == 1


def test_static_peak_holds_the_busiest_minutes_replicas() -> None:
    assert static_peak([1, 3, 2]).replicas == 3


def test_a_toy_replica_carries_what_its_steps_allow() -> None:
    # 4 sequences at once, 10 ms a step, 10 tokens each: about 4 / 0.1 s = 40 requests/s
    # at most; TPOT is 10 ms whatever the load, so TTFT (queueing) is what binds.
    engine = a_toy_engine(max_num_seqs=4)
    slo = Slo(ttft=0.5, tpot=1.0)

    capacity = replica_capacity(engine, [(100, 10)], slo, seconds=60)

    assert 20 < capacity < 40
