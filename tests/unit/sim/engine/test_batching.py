"""Continuous batching: how many run, how many wait, how long steps take, what the cache holds."""

import pytest

from llamaops.sim.engine.batching import Sequence
from tests.unit.sim.engine.batching_builders import (
    PREFILL_TOKENS_PER_SECOND,
    a_batcher,
    a_burst,
    run_until_idle,
    submitted,
)


def test_at_most_max_num_seqs_requests_run_and_the_rest_wait() -> None:
    batcher = a_batcher(max_num_seqs=4)
    submitted(batcher, a_burst(10))

    batcher.plan(now=0.0)

    assert (len(batcher.running), len(batcher.waiting)) == (4, 6)


def test_a_burst_queues_then_drains_to_nothing_and_every_request_finishes() -> None:
    batcher = a_batcher(max_num_seqs=4)
    burst = submitted(batcher, a_burst(20, output=30))

    moments = run_until_idle(batcher)

    assert max(m.running for m in moments) == 4
    assert moments[0].waiting == 16
    waiting = [m.waiting for m in moments]
    assert waiting == sorted(waiting, reverse=True), "the queue only shrinks once arrivals stop"
    assert not batcher.has_work() and batcher.kv_usage == 0
    assert all(r.finish_reason == "length" and r.generated == 30 for r in burst)


def test_requests_are_served_in_arrival_order() -> None:
    batcher = a_batcher(max_num_seqs=2)
    first, second, third = submitted(batcher, a_burst(3))

    run_until_idle(batcher)

    assert first.scheduled_at == second.scheduled_at == 0.0
    assert third.scheduled_at is not None and third.scheduled_at > 0.0


@pytest.mark.parametrize(("small", "large"), [(1, 8), (8, 64), (64, 256)])
def test_a_step_takes_longer_the_larger_the_batch(small: int, large: int) -> None:
    def decode_step(batch: int) -> float:
        batcher = a_batcher(max_num_seqs=batch)
        for request in submitted(batcher, a_burst(batch)):
            request.first_token_at = 0.0  # past prefill
        plan = batcher.plan(now=0.0)
        assert plan is not None
        return plan.step_seconds

    assert decode_step(small) < decode_step(large)


def test_the_step_that_admits_a_request_prefills_its_prompt() -> None:
    def first_step(prompt: int) -> float:
        batcher = a_batcher()
        submitted(batcher, a_burst(1, prompt=prompt))
        plan = batcher.plan(now=0.0)
        assert plan is not None
        return plan.first_step_seconds

    assert first_step(5000) - first_step(10) == pytest.approx(4990 / PREFILL_TOKENS_PER_SECOND)


def test_each_step_is_costed_at_the_context_the_batch_holds() -> None:
    calls: list[tuple[int, int, int]] = []

    def recorded(batch: int, prefill: int, context: int) -> float:
        calls.append((batch, prefill, context))
        return 0.01

    batcher = a_batcher(steps=recorded)
    submitted(batcher, [Sequence(100, 2, 0.0), Sequence(300, 50, 0.0)])
    first = batcher.plan(now=0.0)
    assert first is not None
    batcher.complete(first, 1)
    batcher.plan(now=first.ends)

    # Each plan costs its first step (prefilling what it admits) and the steps after it,
    # which hold one token more per request.
    assert calls == [(2, 400, 400), (2, 0, 402), (2, 0, 402), (2, 0, 404)]


def test_kv_usage_counts_the_blocks_of_every_token_held() -> None:
    batcher = a_batcher(kv_tokens=1600, block=16)  # 100 blocks
    (request,) = submitted(batcher, a_burst(1, prompt=160, output=10))

    plan = batcher.plan(now=0.0)
    assert plan is not None
    assert batcher.kv_usage == pytest.approx(0.10)  # 160 tokens: 10 blocks
    batcher.complete(plan, 1)
    assert batcher.kv_usage == pytest.approx(0.11)  # the 161st token opens an 11th block
    run_until_idle(batcher, now=plan.ends)
    assert batcher.kv_usage == 0 and request.blocks == 0


def test_a_full_cache_keeps_requests_waiting_even_below_max_num_seqs() -> None:
    batcher = a_batcher(max_num_seqs=8, kv_tokens=16 * 10)  # 10 blocks
    submitted(batcher, a_burst(4, prompt=60, output=4))  # 4 blocks each

    batcher.plan(now=0.0)

    assert (len(batcher.running), len(batcher.waiting)) == (2, 2)


def test_when_running_requests_outgrow_the_cache_the_latest_is_preempted_and_requeued() -> None:
    batcher = a_batcher(max_num_seqs=4, kv_tokens=16 * 4)  # 4 blocks
    early, late = submitted(batcher, a_burst(2, prompt=16, output=30))

    moments = run_until_idle(batcher)

    assert early.finished_at is not None and late.finished_at is not None
    assert early.finished_at < late.finished_at
    assert any(m.running == 1 and m.waiting == 1 for m in moments[1:]), "late was preempted"
    assert late.generated == 30 and batcher.kv_usage == 0


def test_identical_steps_are_planned_together_up_to_the_next_finish() -> None:
    batcher = a_batcher()
    short, long = submitted(batcher, [Sequence(10, 5, 0.0), Sequence(10, 50, 0.0)])

    first = batcher.plan(now=0.0)
    assert first is not None and first.steps == 1, "first tokens are due after one step"
    batcher.complete(first, 1)
    second = batcher.plan(now=first.ends)

    assert second is not None and second.steps == 4, "until the short request finishes"
    batcher.complete(second, second.steps)
    assert short.finish_reason == "length" and short.finished_at == second.ends
    assert long.generated == 5


def test_a_group_of_steps_is_capped_in_time() -> None:
    batcher = a_batcher()
    (request,) = submitted(batcher, a_burst(1, output=1000))
    first = batcher.plan(now=0.0, max_seconds=1.0)
    assert first is not None
    batcher.complete(first, 1)

    group = batcher.plan(now=first.ends, max_seconds=1.0)

    assert group is not None
    assert group.ends - group.started_at == pytest.approx(1.0, abs=group.step_seconds)
    assert request.remaining > group.steps


def test_an_arrival_during_a_group_is_taken_at_the_next_step_boundary() -> None:
    batcher = a_batcher()
    submitted(batcher, a_burst(1, output=100))
    first = batcher.plan(now=0.0)
    assert first is not None
    batcher.complete(first, 1)
    group = batcher.plan(now=first.ends)
    assert group is not None

    halfway_through_step_3 = group.ends_at(2) + group.step_seconds / 2

    assert group.next_boundary(halfway_through_step_3) == 3
    assert group.next_boundary(group.started_at) == 1
    assert group.next_boundary(group.ends + 5.0) == group.steps


def test_an_aborted_request_leaves_the_batch_and_frees_its_cache() -> None:
    batcher = a_batcher(max_num_seqs=1)
    running, waiting = submitted(batcher, a_burst(2, prompt=100))
    batcher.plan(now=0.0)

    assert batcher.abort(running) and batcher.abort(waiting)

    assert not batcher.has_work() and batcher.kv_usage == 0
    assert running.finish_reason == waiting.finish_reason == "abort"
    assert not batcher.abort(running), "a second abort finds nothing"


def test_a_request_larger_than_the_whole_cache_is_refused() -> None:
    batcher = a_batcher(kv_tokens=160)

    with pytest.raises(ValueError, match="never fit"):
        batcher.add(Sequence(100, 100, 0.0))
