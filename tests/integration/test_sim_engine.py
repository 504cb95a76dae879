"""The simulated vLLM engine over HTTP, on a loopback address of its own, at clock speed 50.

What a kubelet, a Service proxy, a Prometheus scrape and a client see: nothing listens
while the model loads; completions come back in OpenAI's shapes naming the pod; the
queue shows in `vllm:num_requests_waiting`; SIGTERM drains or aborts by
`--shutdown-timeout`; bad checkpoints, crashes and SIGKILL end the process.
"""

import asyncio
import dataclasses
import json
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from llamaops.sim.clock import Clock
from llamaops.sim.engine import (
    EngineExitedError,
    EngineProfile,
    SimulatedEngine,
    parse_command_line,
)

SPEED = 50.0
POD = "llama-7f9c-0"
QUICK = EngineProfile(startup_seconds=5.0, load_bandwidth_gbps=50.0)


def a_loopback_address() -> str:
    """Clear of 127.0.0.1 and of the kubelet's pod network (127.16.0.0/12)."""
    return f"127.{random.randint(200, 254)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


@dataclasses.dataclass
class Client:
    """Plain HTTP to one engine."""

    engine: SimulatedEngine
    http: aiohttp.ClientSession

    async def health(self) -> int:
        async with self.http.get(self.engine.url + "/health") as response:
            return response.status

    async def complete(self, path: str = "/v1/completions", **body: Any) -> tuple[int, Any, str]:
        """Status, parsed body (JSON, or the SSE text when streaming) and X-Served-By."""
        body = {"model": "tiny", "prompt": "tell me a story", "max_tokens": 5, **body}
        async with self.http.post(self.engine.url + path, json=body) as response:
            text = await response.text()
            parsed = text if body.get("stream") else json.loads(text)
            return response.status, parsed, response.headers.get("X-Served-By", "")

    async def metrics(self) -> dict[str, float]:
        """Each vLLM sample of this engine by name (its only label set)."""
        async with self.http.get(self.engine.url + "/metrics") as response:
            assert response.status == 200
            text = await response.text()
        return {
            sample.name: sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if "le" not in sample.labels
            and sample.labels.get("finished_reason") in (None, "length")
        }


@asynccontextmanager
async def an_engine(
    *flags: str, profile: EngineProfile = QUICK, ready: bool = True
) -> AsyncIterator[Client]:
    """`vllm serve tiny FLAGS` started (and loaded, if `ready`); killed at the end."""
    args = parse_command_line(["vllm", "serve", "tiny", *flags])
    engine = SimulatedEngine(
        args, host=a_loopback_address(), pod_name=POD, clock=Clock(speed=SPEED), profile=profile
    )
    await engine.start()
    try:
        if ready:
            await engine.ready()
        async with aiohttp.ClientSession() as http:
            yield Client(engine, http)
    finally:
        engine.kill()
        await engine.exited


async def eventually(predicate: Callable[[], Awaitable[bool]], timeout: float = 3.0) -> None:
    async with asyncio.timeout(timeout):
        while not await predicate():
            await asyncio.sleep(0.005)


def many(client: Client, count: int, **body: Any) -> "asyncio.Future[list[tuple[int, Any, str]]]":
    return asyncio.gather(*(client.complete(**body) for _ in range(count)))


def test_nothing_listens_until_the_model_has_loaded_then_health_is_200() -> None:
    async def scenario() -> None:
        async with an_engine(ready=False) as client:
            started = client.engine.clock.monotonic()
            with pytest.raises(aiohttp.ClientConnectorError):
                await client.health()

            await client.engine.ready()

            assert client.engine.clock.monotonic() - started >= client.engine.shape.load_seconds
            assert await client.health() == 200

    asyncio.run(scenario())


def test_a_completion_comes_back_in_openai_shape_naming_the_pod() -> None:
    async def scenario() -> None:
        async with an_engine() as client:
            status, body, served_by = await client.complete(prompt="one two three", max_tokens=4)

            assert (status, served_by) == (200, POD)
            assert body["object"] == "text_completion" and body["model"] == "tiny"
            assert len(body["choices"][0]["text"].split()) == 4
            assert body["choices"][0]["finish_reason"] == "length"
            assert body["usage"] == {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}

    asyncio.run(scenario())


def test_a_streamed_chat_completion_sends_a_token_per_event_then_usage_then_done() -> None:
    async def scenario() -> None:
        async with an_engine() as client:
            status, text, served_by = await client.complete(
                "/v1/chat/completions",
                messages=[{"role": "user", "content": "hi"}],
                max_tokens=3,
                stream=True,
                stream_options={"include_usage": True},
            )
            events = [line.removeprefix("data: ") for line in text.split("\n\n") if line]
            chunks = [json.loads(event) for event in events[:-1]]

            assert (status, served_by) == (200, POD)
            assert events[-1] == "[DONE]"
            assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
            contents = [c["choices"][0]["delta"]["content"] for c in chunks[1:-1]]
            assert len(contents) == 3 and all(contents)
            assert chunks[-2]["choices"][0]["finish_reason"] == "length"
            assert chunks[-1]["usage"]["completion_tokens"] == 3

    asyncio.run(scenario())


def test_models_lists_the_served_name_and_unknown_names_get_404() -> None:
    async def scenario() -> None:
        async with an_engine("--served-model-name", "llama") as client:
            async with client.http.get(client.engine.url + "/v1/models") as response:
                models = await response.json()
            status, body, served_by = await client.complete(model="tiny")

            assert [card["id"] for card in models["data"]] == ["llama"]
            assert (status, served_by) == (404, POD)
            assert body["error"]["message"] == "The model `tiny` does not exist."

    asyncio.run(scenario())


def test_the_queue_rises_under_a_burst_and_falls_back_to_zero() -> None:
    async def scenario() -> None:
        async with an_engine("--max-num-seqs", "4") as client:
            burst = many(client, 40, max_tokens=50)
            scrapes = []
            while not burst.done():
                scrapes.append(await client.metrics())
            after = await client.metrics()

            assert all(status == 200 for status, _, _ in await burst)
            assert max(s["vllm:num_requests_waiting"] for s in scrapes) >= 20
            assert max(s["vllm:num_requests_running"] for s in scrapes) == 4
            assert max(s["vllm:kv_cache_usage_perc"] for s in scrapes) > 0
            assert after["vllm:num_requests_waiting"] == after["vllm:num_requests_running"] == 0
            assert after["vllm:generation_tokens_total"] == 40 * 50
            assert after["vllm:request_success_total"] == 40
            assert after["vllm:e2e_request_latency_seconds_count"] == 40

    asyncio.run(scenario())


def test_sigterm_with_a_shutdown_timeout_finishes_every_request_and_refuses_new_ones() -> None:
    async def scenario() -> None:
        async with an_engine("--max-num-seqs", "4", "--shutdown-timeout", "60") as client:
            in_flight = many(client, 8, max_tokens=100)
            await eventually(lambda: _waiting_is(client, 4))

            await client.engine.terminate()
            refused = await client.complete()
            health_during_drain = await client.health()
            metrics_during_drain = await client.metrics()
            answers = await in_flight

            assert refused[0] == 500
            assert refused[1]["error"]["message"] == "cannot schedule new futures after shutdown"
            assert health_during_drain == 200
            assert metrics_during_drain["vllm:num_requests_running"] > 0
            assert [(s, b["usage"]["completion_tokens"]) for s, b, _ in answers] == [(200, 100)] * 8
            assert await client.engine.exited == 0
            with pytest.raises(aiohttp.ClientConnectionError):
                await client.health()

    asyncio.run(scenario())


def test_sigterm_without_a_shutdown_timeout_fails_every_request_with_500_at_once() -> None:
    async def scenario() -> None:
        async with an_engine("--max-num-seqs", "4") as client:
            in_flight = many(client, 8, max_tokens=1000)
            streamed = asyncio.ensure_future(client.complete(max_tokens=1000, stream=True))
            await eventually(lambda: _waiting_is(client, 5))

            await client.engine.terminate()
            answers = await in_flight
            status, text, _ = await streamed

            assert [status for status, _, _ in answers] == [500] * 8
            assert "EngineCore" in answers[0][1]["error"]["message"]
            assert status == 200 and '"error"' in text and text.endswith("data: [DONE]\n\n")
            assert await client.engine.exited == 0

    asyncio.run(scenario())


def test_a_drain_that_outlasts_the_shutdown_timeout_lingers_until_killed() -> None:
    async def scenario() -> None:
        async with an_engine("--max-num-seqs", "4", "--shutdown-timeout", "2") as client:
            in_flight = many(client, 4, max_tokens=5000)
            await eventually(lambda: _running_is(client, 4))

            await client.engine.terminate()
            await eventually(lambda: _state_is(client.engine, "lingering"))
            await client.engine.clock.sleep(20)

            assert not in_flight.done(), "unfinished requests get no answer"
            assert not client.engine.exited.done()
            with pytest.raises(aiohttp.ClientConnectionError):
                await client.health()
            client.engine.kill()
            assert await client.engine.exited == 137
            with pytest.raises(aiohttp.ClientError):
                await in_flight

    asyncio.run(scenario())


def test_a_bad_checkpoint_exits_non_zero_while_loading_without_ever_listening() -> None:
    async def scenario() -> None:
        bad = dataclasses.replace(QUICK, checkpoint="bad")
        async with an_engine(profile=bad, ready=False) as client:
            with pytest.raises(EngineExitedError) as exited:
                await client.engine.ready()

            assert exited.value.code == 1 and "SafetensorError" in exited.value.message
            assert client.engine.clock.monotonic() < client.engine.shape.load_seconds
            with pytest.raises(aiohttp.ClientConnectorError):
                await client.health()

    asyncio.run(scenario())


def test_sigterm_while_loading_ends_the_process_before_it_ever_listens() -> None:
    async def scenario() -> None:
        async with an_engine(ready=False) as client:
            await client.engine.terminate()

            assert await client.engine.exited == 143
            assert client.engine.clock.monotonic() < client.engine.shape.load_seconds
            with pytest.raises(aiohttp.ClientConnectorError):
                await client.health()

    asyncio.run(scenario())


def test_an_engine_whose_address_is_taken_exits_with_an_error() -> None:
    async def scenario() -> None:
        async with an_engine() as first:
            second = SimulatedEngine(
                first.engine.args,
                host=first.engine.host,
                pod_name="llama-7f9c-1",
                clock=first.engine.clock,
                profile=QUICK,
            )
            await second.start()

            assert await second.exited == 1
            assert "address already in use" in second.exit_message.lower()
            assert await first.health() == 200

    asyncio.run(scenario())


def test_a_crashed_engine_answers_503_and_500_then_exits_with_an_error() -> None:
    async def scenario() -> None:
        async with an_engine() as client:
            in_flight = asyncio.ensure_future(client.complete(max_tokens=5000))
            await eventually(lambda: _running_is(client, 1))

            client.engine.crash()

            assert await client.health() == 503
            assert (await in_flight)[0] == 500
            assert (await client.complete())[0] == 500
            assert await client.engine.exited == 1

    asyncio.run(scenario())


def test_a_client_that_gives_up_frees_its_place_in_the_batch() -> None:
    async def scenario() -> None:
        async with an_engine() as client:
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.05):
                    await client.complete(max_tokens=5000)

            await eventually(lambda: _running_is(client, 0))

    asyncio.run(scenario())


async def _waiting_is(client: Client, count: int) -> bool:
    return (await client.metrics())["vllm:num_requests_waiting"] == count


async def _running_is(client: Client, count: int) -> bool:
    return (await client.metrics())["vllm:num_requests_running"] == count


async def _state_is(engine: SimulatedEngine, state: str) -> bool:
    return engine.state == state
