"""A tiny OpenAI-compatible server for the traffic generator's tests.

It streams SSE chunks of output tokens after a first-token delay, answers from two
"pods" in turn (the X-Served-By header), can fail every Nth request with a 500 or cut a
stream short, and keeps every request it got so a test can look at what was sent. It
runs on an event loop of its own thread, so a test can drive it from a subprocess too.
"""

import asyncio
import json
import math
import socket
import threading
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from aiohttp import web

MODEL = "fake-llama"


@dataclass
class Behaviour:
    first_token_delay: float = 0.0
    token_delay: float = 0.0
    fail_every: int = 0  # every Nth request answers 500 (0: never)
    tokens_per_chunk: int = 1
    cut_after_chunks: int | None = None  # close the connection after this many chunks
    pods: tuple[str, ...] = ("fake-a", "fake-b")


@dataclass
class Received:
    path: str
    body: dict[str, Any]


@dataclass
class FakeOpenAI:
    """`with FakeOpenAI(Behaviour(...)) as server:` serves at `server.url` until the block ends."""

    behaviour: Behaviour = field(default_factory=Behaviour)
    received: list[Received] = field(default_factory=list)
    url: str = ""

    def __post_init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None

    def __enter__(self) -> "FakeOpenAI":
        self._thread.start()
        self.url = asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    @property
    def paths(self) -> list[str]:
        return [request.path for request in self.received]

    async def _start(self) -> str:
        app = web.Application()
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/v1/completions", self._complete)
        app.router.add_post("/v1/chat/completions", self._complete)
        # A handler whose client gave up (a timeout) stops, as it would in a real server.
        self._runner = web.AppRunner(
            app, shutdown_timeout=0.2, handler_cancellation=True, access_log=None
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        return f"http://{host}:{port}"

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        leftovers = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in leftovers:
            task.cancel()
        await asyncio.gather(*leftovers, return_exceptions=True)

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": MODEL, "object": "model"}]})

    async def _complete(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        number = len(self.received)
        self.received.append(Received(request.path, body))
        behaviour = self.behaviour
        headers = {"X-Served-By": behaviour.pods[number % len(behaviour.pods)]}
        if behaviour.fail_every and (number + 1) % behaviour.fail_every == 0:
            return web.json_response({"error": {"message": "boom"}}, status=500, headers=headers)
        tokens = int(body["max_tokens"])
        usage = {"prompt_tokens": len(_prompt(body).split()), "completion_tokens": tokens}
        chat = request.path.endswith("/chat/completions")
        if not body.get("stream"):
            await asyncio.sleep(behaviour.first_token_delay)
            text = "tok " * tokens
            choice = {"message": {"role": "assistant", "content": text}} if chat else {"text": text}
            return web.json_response({"choices": [choice], "usage": usage}, headers=headers)
        with_usage = bool(body.get("stream_options", {}).get("include_usage"))
        return await self._stream(request, headers, tokens, chat, usage if with_usage else None)

    async def _stream(
        self,
        request: web.Request,
        headers: dict[str, str],
        tokens: int,
        chat: bool,
        usage: dict[str, int] | None,
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={**headers, "Content-Type": "text/event-stream"})
        await response.prepare(request)
        # Headers (and an SSE comment) at once, as vLLM answers; the first token comes later.
        await response.write(b": accepted\n\n")
        await asyncio.sleep(self.behaviour.first_token_delay)
        per_chunk = self.behaviour.tokens_per_chunk
        for index in range(math.ceil(tokens / per_chunk)):
            if index == self.behaviour.cut_after_chunks:
                assert request.transport is not None
                request.transport.close()
                return response
            if index:
                await asyncio.sleep(self.behaviour.token_delay * per_chunk)
            text = "tok " * min(per_chunk, tokens - index * per_chunk)
            choice = (
                {"index": 0, "delta": {"content": text}} if chat else {"index": 0, "text": text}
            )
            await response.write(_sse({"choices": [choice]}))
        if usage is not None:
            await response.write(_sse({"choices": [], "usage": usage}))
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response


def _prompt(body: dict[str, Any]) -> str:
    if "messages" in body:
        return " ".join(message["content"] for message in body["messages"])
    return str(body["prompt"])


def _sse(chunk: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(chunk)}\n\n".encode()


def a_closed_port() -> str:
    """The URL of a port on 127.0.0.1 with nothing listening."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
