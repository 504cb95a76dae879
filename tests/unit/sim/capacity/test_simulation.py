"""Driving the engines on virtual time: steps, routing, loading, draining, GPUs."""

import pytest

from llamaops.sim.capacity.fleet import Replica, State, drain_order
from llamaops.sim.capacity.policies.fixed import Schedule, StaticPeak
from llamaops.sim.capacity.simulation import Outcome, simulate
from llamaops.sim.capacity.traces import Trace
from tests.unit.sim.capacity.builders import DECODE_SECONDS, a_toy_engine

PREFILL_100 = DECODE_SECONDS + 100 * 1e-5  # the first step of a 100-token prompt


def requests(*rows: tuple[float, int, int]) -> Trace:
    trace = Trace()
    for row in rows:
        trace.append(*row)
    return trace


def run(trace: Trace, policy: StaticPeak | Schedule, **options: float) -> Outcome:
    engine = a_toy_engine(
        max_num_seqs=int(options.pop("max_num_seqs", 4)),
        load_seconds=options.pop("load_seconds", 30.0),
    )
    slots = int(options.pop("slots", 4))
    return simulate(
        trace, engine, policy, slots=slots, duration=options.pop("duration", 100.0), **options
    )


def test_one_request_takes_its_prefill_step_then_a_step_per_token() -> None:
    outcome = run(requests((1.0, 100, 11)), StaticPeak(1))

    assert outcome.ttft[0] == pytest.approx(PREFILL_100)
    assert outcome.tpot[0] == pytest.approx(DECODE_SECONDS)  # 10 more steps for 10 tokens
    assert outcome.arrivals[0] == 1.0


def test_a_request_arriving_mid_plan_joins_at_the_next_step_boundary() -> None:
    # the first request runs 100 steps; the second arrives 5.5 steps in and is admitted
    # after the step in progress: its first token comes at the 7th step boundary + prefill
    outcome = run(
        requests((0.0, 100, 101), (PREFILL_100 + 4.5 * DECODE_SECONDS, 100, 2)), StaticPeak(1)
    )

    second = list(outcome.arrivals).index(PREFILL_100 + 4.5 * DECODE_SECONDS)
    assert outcome.ttft[second] == pytest.approx(0.5 * DECODE_SECONDS + PREFILL_100)


def test_requests_are_spread_round_robin_over_the_ready_replicas() -> None:
    # one sequence at a time per engine: two at once only fit if they went to two engines
    outcome = run(requests((0.0, 100, 10), (0.0, 100, 10)), StaticPeak(2), max_num_seqs=1)

    assert list(outcome.ttft) == pytest.approx([PREFILL_100, PREFILL_100])


def test_a_queue_forms_when_the_batch_is_full() -> None:
    outcome = run(requests((0.0, 100, 10), (0.0, 100, 10)), StaticPeak(1), max_num_seqs=1)

    assert sorted(outcome.ttft)[1] > 9 * DECODE_SECONDS  # the second waited for the first


def test_without_a_ready_replica_requests_wait_at_the_service_then_time_out() -> None:
    # the first replica is asked for at 10 s and loads for 30 s
    schedule = Schedule([0.0, 10.0], [0, 1], interval=10.0)
    outcome = run(requests((1.0, 100, 5), (25.0, 100, 5)), schedule, client_timeout=20.0)

    assert outcome.failed == 1  # waited from 1 s to 21 s
    assert outcome.ttft[0] == pytest.approx(40.0 - 25.0 + PREFILL_100)  # served once ready


def test_a_request_longer_than_the_context_fails() -> None:
    outcome = run(requests((1.0, 4000, 200)), StaticPeak(1))

    assert (outcome.failed, len(outcome.ttft)) == (1, 0)


def test_a_drained_replica_takes_no_new_request_and_holds_its_gpus_until_done() -> None:
    # two replicas each decode 3900 tokens from 1 s (until about 40 s); at 30 s one is
    # let go; the request at 35 s can only go to the other, and waits for it
    schedule = Schedule([0.0, 30.0], [2, 1], interval=30.0)
    trace = requests((1.0, 100, 3900), (1.0, 100, 3900), (35.0, 100, 5))
    outcome = run(trace, schedule, max_num_seqs=1)

    done = 1.0 + PREFILL_100 + 3899 * DECODE_SECONDS
    assert outcome.failed == 0 and len(outcome.ttft) == 3
    assert max(outcome.ttft) == pytest.approx(done - 35.0 + PREFILL_100)
    assert outcome.gpu_seconds == pytest.approx(2 * (100.0 + done))
    assert outcome.scale_events == 1


def test_a_new_replica_holds_gpus_while_it_loads_and_serves_once_loaded() -> None:
    schedule = Schedule([0.0, 10.0], [1, 2], interval=10.0)  # the second ready at 40 s
    outcome = run(requests((50.0, 100, 5), (50.0, 100, 5)), schedule, max_num_seqs=1)

    assert list(outcome.ttft) == pytest.approx([PREFILL_100, PREFILL_100])
    assert outcome.gpu_seconds == pytest.approx(2 * (100.0 + 90.0))
    assert outcome.timeline.ready[0] == 1


def test_replicas_beyond_the_free_gpus_wait_and_cost_nothing() -> None:
    outcome = run(requests((1.0, 100, 5)), StaticPeak(3), slots=2)

    assert outcome.gpu_seconds == pytest.approx(2 * 2 * 100.0)
    assert max(outcome.timeline.replicas) == 2 and outcome.timeline.desired[0] == 3


def test_a_scale_down_drains_replicas_not_ready_first_then_by_policy() -> None:
    engine = a_toy_engine()
    busy, idle, loading = (Replica(n, 0.0, engine, State.READY) for n in range(3))
    loading.state = State.LOADING
    for _ in range(3):
        busy.submit(100, 10, 0.0)

    assert drain_order([busy, idle, loading], least_loaded=True) == [loading, idle, busy]
    newest = Replica(3, 5.0, engine, State.READY)
    assert drain_order([busy, newest], least_loaded=False) == [newest, busy]
