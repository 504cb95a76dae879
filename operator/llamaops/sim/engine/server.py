"""The HTTP side of a simulated engine: vLLM's routes on one aiohttp server.

`/health` and `/ping` say whether the engine lives, `/metrics` always answers, and the
completion routes hand requests to the engine loop. What a route does depends on the
engine's phase: serving, draining (new requests refused with vLLM's own message, while
health and metrics keep answering), stopping, or dead. Every response names the pod in
`X-Served-By`, so a traffic generator can tell which replica answered.
"""

import asyncio
import contextlib
import enum
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from llamaops.sim.clock import Clock
from llamaops.sim.engine import openai_api
from llamaops.sim.engine.core import EngineCore, RequestFailedError, RequestHandle
from llamaops.sim.engine.metrics import EngineMetrics
from llamaops.sim.engine.openai_api import ApiError, GenerationRequest, Kind, error_body
from llamaops.sim.engine.tokens import filler

SERVED_BY = "X-Served-By"
SHUTDOWN_MESSAGE = "cannot schedule new futures after shutdown"
ENGINE_DEAD_MESSAGE = "EngineCore encountered an issue. See stack trace (above) for the root cause."
ERRORING_MESSAGE = "The model produced NaN logits (an erroring checkpoint)"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
HANDLER_GRACE_WALL_SECONDS = 0.05  # SIGKILL: how long a running handler gets before it is cut


class Phase(enum.Enum):
    SERVING = "serving"
    DRAINING = "draining"
    STOPPING = "stopping"
    DEAD = "dead"


class EngineServer:
    """vLLM's OpenAI-compatible server for one engine."""

    def __init__(
        self,
        *,
        pod_name: str,
        served_names: tuple[str, ...],
        model: str,
        max_model_len: int,
        clock: Clock,
        core: EngineCore,
        metrics: EngineMetrics,
        erroring: bool = False,
    ) -> None:
        self.pod_name, self.served_names, self.model = pod_name, served_names, model
        self.max_model_len = max_model_len
        self.clock, self.core, self.metrics = clock, core, metrics
        self.erroring = erroring  # an "erroring" checkpoint: every completion fails
        self.phase = Phase.SERVING
        self.port: int | None = None
        self._runner: web.AppRunner | None = None
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._busy: dict[object, int] = {}  # connections with a request in progress

    # --- lifecycle ---------------------------------------------------------------------
    async def listen(self, host: str, port: int) -> int:
        """Start accepting connections; returns the port (useful when `port` is 0)."""
        runner = web.AppRunner(
            self._app(),
            access_log=None,
            handler_cancellation=True,  # a client that goes away aborts its request
            shutdown_timeout=HANDLER_GRACE_WALL_SECONDS,
        )
        await runner.setup()
        self._runner = runner
        site = web.TCPSite(runner, host, port)
        await site.start()
        sockets = runner.addresses
        self.port = int(sockets[0][1]) if sockets else port
        return self.port

    async def stop_listening(self) -> None:
        """New connections are refused and idle ones closed, as a server shutting down
        does; a connection with a request in progress stays open until it is answered."""
        if self._runner is not None:
            for site in list(self._runner.sites):
                await site.stop()
            connections = self._runner.server.connections if self._runner.server else []
            for connection in connections:
                if connection in self._busy:
                    connection.close()  # once its answer is out
                else:
                    connection.force_close()

    async def close(self) -> None:
        """The process is gone: every connection drops at once (what was buffered for it
        is lost, as with a killed process's memory) and handlers still running are cut."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            for connection in runner.server.connections if runner.server else []:
                if connection.transport is not None:
                    connection.transport.abort()
            await runner.cleanup()

    async def wait_idle(self) -> None:
        """Until no completion request is in progress."""
        await self._idle.wait()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    # --- routes ------------------------------------------------------------------------
    def _app(self) -> web.Application:
        app = web.Application(middlewares=[self._mark_busy])
        app.on_response_prepare.append(self._name_the_pod)
        app.router.add_get("/health", self._health)
        app.router.add_route("*", "/ping", self._health)
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/v1/completions", self._completions)
        app.router.add_post("/v1/chat/completions", self._chat_completions)
        return app

    @web.middleware
    async def _mark_busy(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        connection = request.protocol
        self._busy[connection] = self._busy.get(connection, 0) + 1
        try:
            return await handler(request)
        finally:
            self._busy[connection] -= 1
            if not self._busy[connection]:
                del self._busy[connection]

    async def _name_the_pod(self, _: web.Request, response: web.StreamResponse) -> None:
        response.headers[SERVED_BY] = self.pod_name

    async def _health(self, _: web.Request) -> web.Response:
        alive = self.phase in (Phase.SERVING, Phase.DRAINING)
        return web.Response(status=200 if alive else 503)

    async def _metrics(self, _: web.Request) -> web.Response:
        return web.Response(
            body=self.metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    async def _models(self, _: web.Request) -> web.Response:
        body = openai_api.models(self.served_names, self.model, self.max_model_len, self._now())
        return web.json_response(body)

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        return await _sent(request, await self._generate(request, "completion"))

    async def _chat_completions(self, request: web.Request) -> web.StreamResponse:
        return await _sent(request, await self._generate(request, "chat"))

    # --- generation --------------------------------------------------------------------
    async def _generate(self, request: web.Request, kind: Kind) -> web.StreamResponse:
        refusal = self._refusal()
        if refusal is not None:
            return _error(500, refusal, "InternalServerError")
        try:
            gen = openai_api.parse_request(
                kind, await _json(request), self.served_names, self.max_model_len
            )
        except ApiError as error:
            return web.json_response(error.body(), status=error.status)
        handle = self.core.submit(gen.prompt_tokens, gen.max_tokens, gen.finish_reason)
        self._in_flight += 1
        self._idle.clear()
        try:
            if gen.stream:
                return await self._stream(request, gen, handle)
            return await _sent(request, await self._whole(gen, handle))
        finally:
            self.core.abort(handle)  # a no-op unless the request was cut short
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()

    def _refusal(self) -> str | None:
        if self.phase is Phase.SERVING:
            return ERRORING_MESSAGE if self.erroring else None
        if self.phase is Phase.DRAINING:
            return SHUTDOWN_MESSAGE
        return ENGINE_DEAD_MESSAGE

    async def _whole(self, gen: GenerationRequest, handle: RequestHandle) -> web.Response:
        count = 0
        try:
            async for new in handle.tokens():
                count += new
        except RequestFailedError as failure:
            return _error(500, str(failure), "InternalServerError")
        body = openai_api.response(gen, self._now(), filler(0, count), count)
        return web.json_response(body)

    async def _stream(
        self, request: web.Request, gen: GenerationRequest, handle: RequestHandle
    ) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        created = self._now()
        with contextlib.suppress(ConnectionResetError):  # the client left: abort in _generate
            if gen.kind == "chat":
                await response.write(_event(openai_api.role_chunk(gen, created)))
            async for events in self._events(gen, handle, created):
                await response.write(events)
            await response.write_eof()
        return response

    async def _events(
        self, gen: GenerationRequest, handle: RequestHandle, created: int
    ) -> AsyncIterator[bytes]:
        """Server-sent events: one per token, then usage if asked, then `[DONE]`."""
        sent = 0
        try:
            async for new in handle.tokens():
                chunks = []
                for index in range(sent, sent + new):
                    last = index + 1 == gen.max_tokens
                    reason = gen.finish_reason if last else None
                    chunks.append(_event(openai_api.chunk(gen, created, filler(index, 1), reason)))
                sent += new
                yield b"".join(chunks)
        except RequestFailedError as failure:
            yield _event(error_body(500, str(failure), "InternalServerError"))
        else:
            if gen.include_usage:
                yield _event(openai_api.usage_chunk(gen, created, sent))
        yield b"data: [DONE]\n\n"

    def _now(self) -> int:
        return int(self.clock.now().timestamp())


async def _sent(request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
    """Write the answer before the handler returns, so that an engine stopping the moment
    its last request is done closes the connection after the answer, not before it."""
    if not response.prepared:
        await response.prepare(request)
        await response.write_eof()
    return response


async def _json(request: web.Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        raise ApiError(400, "The request body is not valid JSON.", "BadRequestError") from None


def _error(status: int, message: str, kind: str) -> web.Response:
    return web.json_response(error_body(status, message, kind), status=status)


def _event(data: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(data, separators=(",", ":")).encode() + b"\n\n"
