"""The engine loop runs the batching model on the cluster clock (fast, so tests are quick)."""

import asyncio
from collections.abc import AsyncGenerator, Callable
from typing import cast

import pytest
from prometheus_client.parser import text_string_to_metric_families

from llamaops.sim.clock import Clock
from llamaops.sim.engine.batching import Batcher, BatchLimits
from llamaops.sim.engine.core import EngineCore, RequestFailedError, RequestHandle
from llamaops.sim.engine.metrics import EngineMetrics
from tests.unit.sim.engine.batching_builders import step_time as simple_step_time

SPEED = 200.0


def a_core(
    max_num_seqs: int = 4,
    step_time: Callable[[int, int, int], float] = simple_step_time,
    max_batched_seconds: float = 1.0,
) -> EngineCore:
    batcher = Batcher(BatchLimits(max_num_seqs, 100_000), step_time)
    metrics = EngineMetrics(
        "m",
        running=lambda: len(batcher.running),
        waiting=lambda: len(batcher.waiting),
        kv_usage=lambda: batcher.kv_usage,
    )
    return EngineCore(batcher, Clock(speed=SPEED), metrics, max_batched_seconds)


async def tokens_of(handle: RequestHandle) -> int:
    return sum([count async for count in handle.tokens()])


def test_a_burst_runs_max_num_seqs_at_a_time_and_the_queue_drains() -> None:
    async def scenario() -> None:
        core = a_core(max_num_seqs=4)
        core.start()
        handles = [core.submit(prompt_tokens=20, max_tokens=40) for _ in range(20)]
        outputs = asyncio.gather(*(tokens_of(h) for h in handles))
        seen: list[tuple[int, int]] = []
        while not outputs.done():
            seen.append((len(core.batcher.running), len(core.batcher.waiting)))
            await asyncio.sleep(0.001)
        await core.stop()

        assert await outputs == [40] * 20
        assert max(running for running, _ in seen) == 4
        assert max(waiting for _, waiting in seen) >= 12
        assert not core.batcher.has_work()

    asyncio.run(scenario())


def test_an_idle_engine_does_not_step() -> None:
    steps = 0

    def counted(batch: int, prefill: int, context: int) -> float:
        nonlocal steps
        steps += 1
        return simple_step_time(batch, prefill, context)

    async def scenario() -> None:
        core = a_core(step_time=counted)
        core.start()
        await asyncio.sleep(0.05)
        assert steps == 0
        async with asyncio.timeout(1):
            await tokens_of(core.submit(prompt_tokens=5, max_tokens=3))
        after_request = steps
        await asyncio.sleep(0.05)
        await core.stop()

        assert 0 < after_request == steps

    asyncio.run(scenario())


def test_a_request_arriving_during_a_long_group_of_steps_gets_its_first_token_promptly() -> None:
    async def scenario() -> None:
        core = a_core(max_batched_seconds=60.0)
        core.start()
        long = core.submit(prompt_tokens=5, max_tokens=5000)
        stream = long.tokens()
        await anext(stream)  # the long request is into a minute of grouped steps now
        await asyncio.sleep(0.01)
        late = core.submit(prompt_tokens=5, max_tokens=1)
        async with asyncio.timeout(1):
            await tokens_of(late)
        await core.stop()

        assert late.seq.first_token_at is not None
        ttft = late.seq.first_token_at - late.seq.arrived_at
        # a step is ~0.02 s; wall-clock jitter at speed 200 adds some; the group was a minute
        assert ttft < 2.0, "the late request waited for the group of steps to end"
        await cast(AsyncGenerator[int, None], stream).aclose()

    asyncio.run(scenario())


def test_failing_every_request_raises_in_each_waiting_handler() -> None:
    async def scenario() -> None:
        core = a_core(max_num_seqs=1)
        core.start()
        handles = [core.submit(prompt_tokens=5, max_tokens=1000) for _ in range(3)]
        await asyncio.sleep(0.01)

        core.fail_all("engine dead")
        results = await asyncio.gather(*(tokens_of(h) for h in handles), return_exceptions=True)
        await core.stop()

        assert all(isinstance(r, RequestFailedError) for r in results)
        assert not core.batcher.has_work()

    asyncio.run(scenario())


@pytest.mark.parametrize("max_num_seqs", [1, 3])
def test_tokens_generated_are_counted_once_each(max_num_seqs: int) -> None:
    async def scenario() -> None:
        core = a_core(max_num_seqs=max_num_seqs)
        core.start()
        await asyncio.gather(*(tokens_of(core.submit(3, 25)) for _ in range(4)))
        await core.stop()
        text = core.metrics.exposition().decode()

        assert 'vllm:generation_tokens_total{engine="0",model_name="m"} 100.0' in text
        assert 'vllm:prompt_tokens_total{engine="0",model_name="m"} 12.0' in text
        assert (
            'vllm:request_time_per_output_token_seconds_count{engine="0",model_name="m"} 4.0'
            in text
        )

    asyncio.run(scenario())


def test_a_request_records_its_latency_after_the_first_token_over_the_tokens_after_it() -> None:
    async def scenario() -> None:
        core = a_core()
        core.start()
        await tokens_of(core.submit(prompt_tokens=1, max_tokens=11))
        await core.stop()
        samples = {
            sample.name: sample.value
            for family in text_string_to_metric_families(core.metrics.exposition().decode())
            for sample in family.samples
        }

        latency = samples["vllm:e2e_request_latency_seconds_sum"]
        ttft = samples["vllm:time_to_first_token_seconds_sum"]
        per_token = samples["vllm:request_time_per_output_token_seconds_sum"]
        assert samples["vllm:request_time_per_output_token_seconds_count"] == 1
        assert per_token == pytest.approx((latency - ttft) / 10)
        assert per_token >= simple_step_time(1, 0, 0)  # at least a decode step per token

    asyncio.run(scenario())
